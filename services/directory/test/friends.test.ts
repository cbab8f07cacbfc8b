import * as grpc from '@grpc/grpc-js';
import { DirectoryHarness, type SignedUp } from './support/directory-harness';

const h = new DirectoryHarness();

beforeAll(() => h.start('dirfriend'));
afterAll(() => h.stop());

const put = (user: SignedUp, friends: { userId: string; alias?: string }[]) => h.rpc('putFriends', { userId: user.userId, friends });

describe('GetFriends / PutFriends', () => {
  test('PUT replaces the list, keeps its order, trims, drops empty aliases; devices only for mutual friends', async () => {
    const [alice, bob, carol] = [await h.signUp('alice'), await h.signUp('bob'), await h.signUp('carol')];
    await put(alice, [{ userId: 'old-entry' }]);
    const saved = await put(alice, [
      { userId: ` ${carol.userId} `, alias: '  Caz ' },
      { userId: 'someone@elsewhere.net', alias: '   ' },
      { userId: bob.userId },
    ]);
    expect(saved.friends).toEqual([
      { userId: carol.userId, alias: 'Caz', handle: carol.handle },
      { userId: 'someone@elsewhere.net' },
      { userId: bob.userId, handle: bob.handle },
    ]);
    // one key per entry; bob and carol do not list alice back, so nothing is revealed yet
    expect(saved.devices).toEqual({
      [carol.userId]: { devices: [] }, 'someone@elsewhere.net': { devices: [] }, [bob.userId]: { devices: [] },
    });

    await put(bob, [{ userId: alice.userId, alias: 'Al' }]);
    const got = await h.rpc('getFriends', { userId: alice.userId });
    expect(got.friends.map((f) => f.userId)).toEqual([carol.userId, 'someone@elsewhere.net', bob.userId]);
    expect(got.devices[bob.userId]!.devices.map((d) => d.deviceId)).toEqual([bob.deviceId]);
    expect(Buffer.from(got.devices[bob.userId]!.devices[0]!.publicKey).equals(bob.keys.publicKey)).toBe(true);
    expect(got.devices[carol.userId]).toEqual({ devices: [] });
    // the router's view agrees: only mutual friends' active devices
    expect((await h.rpc('friendDevices', { userId: alice.userId })).deviceIds).toEqual([bob.deviceId]);
    // bob's list is his own: alias stored for him only
    expect((await h.rpc('getFriends', { userId: bob.userId })).friends).toEqual([{ userId: alice.userId, alias: 'Al', handle: alice.handle }]);

    expect((await put(alice, [])).friends).toEqual([]);
    expect((await h.rpc('getFriends', { userId: alice.userId })).devices).toEqual({});
  });

  test('validation: at most 512 unique, non-empty ids, not yourself; a refused PUT changes nothing', async () => {
    const dave = await h.signUp('dave');
    await put(dave, [{ userId: 'keep-me' }]);
    const refused = (friends: { userId: string; alias?: string }[]) => h.refusal('putFriends', { userId: dave.userId, friends });
    expect(await refused(Array.from({ length: 513 }, (_, i) => ({ userId: `u${i}` })))).toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'too_many_friends' });
    expect(await refused([{ userId: 'a' }, { userId: ' a ' }])).toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'duplicate_friend' });
    expect(await refused([{ userId: '  ' }])).toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'friend_user_id_required' });
    expect(await refused([{ userId: dave.userId }])).toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'friend_is_self' });
    expect(await refused([{ userId: 'x'.repeat(321) }])).toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'friend_user_id_too_long' });
    expect(await refused([{ userId: 'a', alias: 'x'.repeat(257) }])).toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'friend_alias_too_long' });
    expect((await h.rpc('getFriends', { userId: dave.userId })).friends).toEqual([{ userId: 'keep-me' }]);

    const full = await put(dave, Array.from({ length: 512 }, (_, i) => ({ userId: `u${i}` })));
    expect(full.friends).toHaveLength(512);
    expect(full.friends[511]!.userId).toBe('u511');
    expect(await h.refusal('putFriends', { userId: 'nobody', friends: [] })).toEqual({ status: grpc.status.NOT_FOUND, code: 'user_not_found' });
    expect(await h.refusal('getFriends', { userId: '' })).toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'user_id_required' });
  });
});

describe('RemoveFriend', () => {
  test('by id or handle; only the caller\'s entry goes; NOT_FOUND when not listed', async () => {
    const [erin, frank] = [await h.signUp('erin'), await h.signUp('frank')];
    await put(erin, [{ userId: frank.userId }, { userId: 'remote@far.example' }]);
    await put(frank, [{ userId: erin.userId }]);
    await h.rpc('removeFriend', { userId: erin.userId, friend: frank.handle });
    await h.rpc('removeFriend', { userId: erin.userId, friend: 'remote@far.example' });
    expect((await h.rpc('getFriends', { userId: erin.userId })).friends).toEqual([]);
    expect((await h.rpc('getFriends', { userId: frank.userId })).friends.map((f) => f.userId)).toEqual([erin.userId]);
    expect(await h.refusal('removeFriend', { userId: erin.userId, friend: frank.userId })).toEqual({ status: grpc.status.NOT_FOUND, code: 'friend_not_listed' });
    expect(await h.refusal('removeFriend', { userId: erin.userId, friend: 'never-heard-of' })).toEqual({ status: grpc.status.NOT_FOUND, code: 'friend_not_listed' });
    expect(await h.refusal('removeFriend', { userId: erin.userId, friend: ' ' })).toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'friend_user_id_required' });
  });
});

describe('FriendDevicesOf', () => {
  test('only for a mutual friend, named by id or handle', async () => {
    const [gina, hank] = [await h.signUp('gina'), await h.signUp('hank')];
    await put(gina, [{ userId: hank.userId }]);
    // gina lists hank, hank does not list gina: not enough (weakness §11.9)
    expect(await h.refusal('friendDevicesOf', { userId: gina.userId, friend: hank.userId })).toEqual({ status: grpc.status.NOT_FOUND, code: 'not_mutual_friend' });
    await put(hank, [{ userId: gina.userId }]);
    for (const friend of [hank.userId, hank.handle]) {
      const res = await h.rpc('friendDevicesOf', { userId: gina.userId, friend });
      expect(res.friendUserId).toBe(hank.userId);
      expect(res.devices.map((d) => [d.deviceId, d.status])).toEqual([[hank.deviceId, 'active']]);
    }
    expect(await h.refusal('friendDevicesOf', { userId: gina.userId, friend: 'nobody-here' })).toEqual({ status: grpc.status.NOT_FOUND, code: 'friend_not_found' });
  });
});

describe('friend requests', () => {
  test('create by handle, list both ways, accept: both lists gain the other in one go', async () => {
    const [ivy, jack, kim] = [await h.signUp('ivy'), await h.signUp('jack'), await h.signUp('kim')];
    await put(ivy, [{ userId: 'first-entry' }]);
    const created = await h.rpc('createFriendRequest', { userId: ivy.userId, target: jack.handle, message: 'hi, it is Ivy' });
    expect(created.request).toMatchObject({ fromUserId: ivy.userId, toUserId: jack.userId, status: 'pending', message: 'hi, it is Ivy' });
    expect(created.other).toMatchObject({ userId: jack.userId, handle: jack.handle });
    const second = await h.rpc('createFriendRequest', { userId: kim.userId, target: `${jack.handle}@example.org` });
    expect(second.request!.message).toBeUndefined();

    const jacks = await h.rpc('listFriendRequests', { userId: jack.userId });
    expect(jacks.incoming.map((r) => r.fromUserId)).toEqual([kim.userId, ivy.userId]);
    expect(jacks.outgoing).toEqual([]);
    expect((await h.rpc('listFriendRequests', { userId: ivy.userId })).outgoing.map((r) => r.id)).toEqual([created.request!.id]);

    const accepted = await h.rpc('answerFriendRequest', { userId: jack.userId, requester: ivy.handle, accept: true });
    expect(accepted.request).toMatchObject({ id: created.request!.id, status: 'accepted' });
    expect(accepted.request!.updatedAt).toBeGreaterThanOrEqual(accepted.request!.createdAt);
    expect(accepted.other).toMatchObject({ userId: ivy.userId });
    expect((await h.rpc('getFriends', { userId: ivy.userId })).friends.map((f) => f.userId)).toEqual(['first-entry', jack.userId]);
    expect((await h.rpc('getFriends', { userId: jack.userId })).friends.map((f) => f.userId)).toEqual([ivy.userId]);
    expect((await h.rpc('friendDevicesOf', { userId: ivy.userId, friend: jack.userId })).devices).toHaveLength(1);

    // answered requests leave the incoming list but stay in the requester's outgoing list
    expect((await h.rpc('listFriendRequests', { userId: jack.userId })).incoming.map((r) => r.fromUserId)).toEqual([kim.userId]);
    expect((await h.rpc('listFriendRequests', { userId: ivy.userId })).outgoing.map((r) => r.status)).toEqual(['accepted']);
    expect(await h.refusal('answerFriendRequest', { userId: jack.userId, requester: ivy.userId, accept: false }))
      .toEqual({ status: grpc.status.FAILED_PRECONDITION, code: 'friend_request_not_pending' });
  });

  test('reject, then asking again re-opens the request', async () => {
    const [lea, max] = [await h.signUp('lea'), await h.signUp('max')];
    const first = await h.rpc('createFriendRequest', { userId: lea.userId, target: max.userId, message: 'one' });
    const rejected = await h.rpc('answerFriendRequest', { userId: max.userId, requester: lea.userId, accept: false });
    expect(rejected.request!.status).toBe('rejected');
    expect((await h.rpc('getFriends', { userId: max.userId })).friends).toEqual([]);
    expect((await h.rpc('getFriends', { userId: lea.userId })).friends).toEqual([]);
    const again = await h.rpc('createFriendRequest', { userId: lea.userId, target: max.userId, message: 'two' });
    expect(again.request).toMatchObject({ id: first.request!.id, status: 'pending', message: 'two' });
    expect((await h.rpc('listFriendRequests', { userId: max.userId })).incoming.map((r) => r.message)).toEqual(['two']);
  });

  test('refusals: yourself, unknown users, a pending duplicate, no such request', async () => {
    const [ned, olga] = [await h.signUp('ned'), await h.signUp('olga')];
    expect(await h.refusal('createFriendRequest', { userId: ned.userId, target: ned.userId })).toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'friend_request_to_self' });
    expect(await h.refusal('createFriendRequest', { userId: ned.userId, target: ned.handle })).toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'friend_request_to_self' });
    expect(await h.refusal('createFriendRequest', { userId: ned.userId, target: 'nobody' })).toEqual({ status: grpc.status.NOT_FOUND, code: 'user_not_found' });
    // another domain is federated; one federation does not know is refused as the reference does
    expect(await h.refusal('createFriendRequest', { userId: ned.userId, target: `${olga.handle}@other.example` })).toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'unknown_domain' });
    // our own domain in any case is local
    expect(await h.refusal('createFriendRequest', { userId: ned.userId, target: `nobody@EXAMPLE.org` })).toEqual({ status: grpc.status.NOT_FOUND, code: 'user_not_found' });
    expect(await h.refusal('createFriendRequest', { userId: ned.userId, target: '' })).toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'friend_request_target_required' });
    expect(await h.refusal('createFriendRequest', { userId: ned.userId, target: olga.userId, message: 'x'.repeat(1025) }))
      .toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'friend_request_message_too_long' });
    await h.rpc('createFriendRequest', { userId: ned.userId, target: olga.userId });
    expect(await h.refusal('createFriendRequest', { userId: ned.userId, target: olga.handle })).toEqual({ status: grpc.status.ALREADY_EXISTS, code: 'friend_request_pending' });
    // the opposite direction has no request
    expect(await h.refusal('answerFriendRequest', { userId: ned.userId, requester: olga.userId, accept: true })).toEqual({ status: grpc.status.NOT_FOUND, code: 'friend_request_not_found' });
    expect(await h.refusal('answerFriendRequest', { userId: olga.userId, requester: 'nobody', accept: true })).toEqual({ status: grpc.status.NOT_FOUND, code: 'user_not_found' });
  });

  test('an accept that would overflow a full list is refused and changes nothing', async () => {
    const [pia, quinn] = [await h.signUp('pia'), await h.signUp('quinn')];
    await put(quinn, Array.from({ length: 512 }, (_, i) => ({ userId: `q${i}` })));
    await h.rpc('createFriendRequest', { userId: pia.userId, target: quinn.userId });
    expect(await h.refusal('answerFriendRequest', { userId: quinn.userId, requester: pia.userId, accept: true }))
      .toEqual({ status: grpc.status.FAILED_PRECONDITION, code: 'friend_list_full' });
    expect((await h.rpc('getFriends', { userId: pia.userId })).friends).toEqual([]);
    expect((await h.rpc('listFriendRequests', { userId: quinn.userId })).incoming.map((r) => r.status)).toEqual(['pending']);
  });

  test('two concurrent accepts into one list lose no update', async () => {
    const [rob, sue, tom] = [await h.signUp('rob'), await h.signUp('sue'), await h.signUp('tom')];
    await h.rpc('createFriendRequest', { userId: sue.userId, target: rob.userId });
    await h.rpc('createFriendRequest', { userId: tom.userId, target: rob.userId });
    await Promise.all([
      h.rpc('answerFriendRequest', { userId: rob.userId, requester: sue.userId, accept: true }),
      h.rpc('answerFriendRequest', { userId: rob.userId, requester: tom.userId, accept: true }),
    ]);
    expect((await h.rpc('getFriends', { userId: rob.userId })).friends.map((f) => f.userId).sort()).toEqual([sue.userId, tom.userId].sort());
  });
});
