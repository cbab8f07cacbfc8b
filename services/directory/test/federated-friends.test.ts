import * as grpc from '@grpc/grpc-js';
import { DirectoryHarness, DOMAIN, type SignedUp } from './support/directory-harness';

const h = new DirectoryHarness();

beforeAll(() => h.start('dirfed'));
afterAll(() => h.stop());
afterEach(() => { h.federation.down = false; });

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

async function federatedRows(userId: string): Promise<number> {
  const { rows } = await h.db.pool.query('SELECT count(*)::int AS n FROM federated_friend_request WHERE local_user_id = $1', [userId]);
  return rows[0].n as number;
}

/** Requests made one after another must not share a created_at millisecond (the list's order). */
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

const friendsOf = async (user: SignedUp): Promise<string[]> => (await h.rpc('getFriends', { userId: user.userId })).friends.map((f) => f.userId);

/** bob@b.test asks `user` (as the federation service hands a verified event over). */
const receive = (user: SignedUp, requestId: string, extra: { from?: string; message?: string; origin?: string } = {}) =>
  h.rpc('receiveFederatedFriendRequest', { origin: extra.origin ?? 'b.test', requestId, from: extra.from ?? 'bob@b.test', to: user.handle, ...(extra.message ? { message: extra.message } : {}) });

describe('CreateFriendRequest to another domain', () => {
  test('stores an outgoing request and enqueues the friend_request event for that domain', async () => {
    const ann = await h.signUp('ann');
    const before = h.federation.calls.length;
    const out = await h.rpc('createFriendRequest', { userId: ann.userId, target: 'bob@B.Test', message: 'hi from ann' });
    expect(out.federationDomain).toBe('b.test');
    expect(out.other).toBeUndefined();
    expect(out.request).toMatchObject({ fromUserId: ann.userId, toUserId: 'bob@b.test', status: 'pending', message: 'hi from ann' });
    expect(out.request!.updatedAt).toBe(out.request!.createdAt);

    expect(h.federation.calls).toHaveLength(before + 1);
    const call = h.federation.calls[before]!;
    const payload = JSON.parse(call.payloadJson);
    expect(call).toMatchObject({ peer: 'b.test', eventType: 'friend_request', idempotencyKey: `friend_request:${payload.request_id}`, orderKey: `friend:${ann.userId}` });
    expect(payload).toEqual({
      type: 'friend_request', request_id: expect.any(String), from: `${ann.handle}@${DOMAIN}`, to: 'bob@b.test', message: 'hi from ann', timestamp: expect.stringMatching(RFC3339_UTC),
    });
    // the wire id is not the local row id (a peer never learns our row ids)
    expect(payload.request_id).not.toBe(out.request!.id);

    const listed = await h.rpc('listFriendRequests', { userId: ann.userId });
    expect(listed.outgoing).toEqual([out.request]);
    expect(listed.incoming).toEqual([]);

    // pending already: refused, nothing enqueued; a message-less request carries null
    expect(await h.refusal('createFriendRequest', { userId: ann.userId, target: 'bob@b.test' })).toEqual({ status: grpc.status.ALREADY_EXISTS, code: 'friend_request_pending' });
    expect(h.federation.calls).toHaveLength(before + 1);
    await h.rpc('createFriendRequest', { userId: ann.userId, target: 'carl@c.test' });
    expect(h.federation.payloadsFor('c.test').at(-1)).toMatchObject({ to: 'carl@c.test', message: null });
  });

  test('a domain federation does not know is unknown_domain, and nothing is stored', async () => {
    const ben = await h.signUp('ben');
    const before = h.federation.calls.length;
    expect(await h.refusal('createFriendRequest', { userId: ben.userId, target: 'bob@nowhere.test' })).toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'unknown_domain' });
    expect(await federatedRows(ben.userId)).toBe(0);
    expect(h.federation.calls).toHaveLength(before);
  });

  test('federation down: UNAVAILABLE and nothing stored; once back the same request goes through', async () => {
    const cid = await h.signUp('cid');
    h.federation.down = true;
    expect(await h.refusal('createFriendRequest', { userId: cid.userId, target: 'bob@b.test' })).toEqual({ status: grpc.status.UNAVAILABLE, code: 'federation_unavailable' });
    expect(await federatedRows(cid.userId)).toBe(0);
    h.federation.down = false;
    expect((await h.rpc('createFriendRequest', { userId: cid.userId, target: 'bob@b.test' })).request!.status).toBe('pending');
  });

  test('malformed remote ids and long messages are refused before anything is enqueued', async () => {
    const dee = await h.signUp('dee');
    const before = h.federation.calls.length;
    for (const target of ['@b.test', 'bad handle@b.test', 'bob@bad domain', 'bob@b.test/x']) {
      expect(await h.refusal('createFriendRequest', { userId: dee.userId, target })).toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'federated_id_invalid' });
    }
    expect(await h.refusal('createFriendRequest', { userId: dee.userId, target: 'bob@b.test', message: 'x'.repeat(1025) }))
      .toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'friend_request_message_too_long' });
    expect(h.federation.calls).toHaveLength(before);
  });
});

describe('ReceiveFederatedFriendRequest', () => {
  test('stores an incoming request once per (origin, request_id); a repeat is applied=false', async () => {
    const eve = await h.signUp('eve');
    const first = await receive(eve, 'wire-1', { from: 'bob@B.TEST', message: 'hello eve' });
    expect(first.applied).toBe(true);
    const again = await receive(eve, 'wire-1', { message: 'a different text' });
    expect(again).toEqual({ requestId: first.requestId, applied: false });
    const listed = await h.rpc('listFriendRequests', { userId: eve.userId });
    expect(listed.incoming).toEqual([expect.objectContaining({ id: first.requestId, fromUserId: 'bob@b.test', toUserId: eve.userId, status: 'pending', message: 'hello eve' })]);

    // a new request while one is pending replaces it; the old id stays recognised
    expect(await receive(eve, 'wire-2', { message: 'second try' })).toEqual({ requestId: first.requestId, applied: true });
    expect(await receive(eve, 'wire-1', { message: 'late duplicate' })).toEqual({ requestId: first.requestId, applied: false });
    expect((await h.rpc('listFriendRequests', { userId: eve.userId })).incoming.map((r) => r.message)).toEqual(['second try']);

    // the same id from another origin is another request
    const other = await receive(eve, 'wire-1', { origin: 'c.test', from: 'bob@c.test' });
    expect(other.applied).toBe(true);
    expect(other.requestId).not.toBe(first.requestId);
    expect((await h.rpc('listFriendRequests', { userId: eve.userId })).incoming.map((r) => r.fromUserId).sort()).toEqual(['bob@b.test', 'bob@c.test']);
  });

  test('to may be a user id or handle@this-domain; anything else is user_not_found', async () => {
    const fay = await h.signUp('fay');
    const byId = await h.rpc('receiveFederatedFriendRequest', { origin: 'b.test', requestId: 'fay-1', from: 'bob@b.test', to: fay.userId });
    const byQualified = await h.rpc('receiveFederatedFriendRequest', { origin: 'b.test', requestId: 'fay-2', from: 'bob@b.test', to: `${fay.handle}@EXAMPLE.ORG` });
    expect(byQualified.requestId).toBe(byId.requestId);
    for (const to of ['nobody', `${fay.handle}@c.test`, '']) {
      expect(await h.refusal('receiveFederatedFriendRequest', { origin: 'b.test', requestId: 'fay-3', from: 'bob@b.test', to })).toEqual({ status: grpc.status.NOT_FOUND, code: 'user_not_found' });
    }
  });

  test('from must be a user of the verified origin', async () => {
    const gus = await h.signUp('gus');
    for (const from of ['bob@c.test', 'bob', 'bob@b.test@c.test', '']) {
      expect(await h.refusal('receiveFederatedFriendRequest', { origin: 'b.test', requestId: 'g-1', from, to: gus.handle })).toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'federated_from_mismatch' });
    }
    expect(await h.refusal('receiveFederatedFriendRequest', { origin: 'b.test', requestId: '', from: 'bob@b.test', to: gus.handle })).toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'federated_request_id_required' });
    expect(await federatedRows(gus.userId)).toBe(0);
  });
});

describe('AnswerFriendRequest from another domain', () => {
  test('accept lists the remote user and enqueues friend_answer with their request id, in one go', async () => {
    const hal = await h.signUp('hal');
    await h.rpc('putFriends', { userId: hal.userId, friends: [{ userId: 'first-entry' }] });
    const got = await receive(hal, 'bob-wire-7', { message: 'hi hal' });
    const before = h.federation.calls.length;
    const accepted = await h.rpc('answerFriendRequest', { userId: hal.userId, requester: 'bob@B.test', accept: true });
    expect(accepted.federationDomain).toBe('b.test');
    expect(accepted.other).toBeUndefined();
    expect(accepted.request).toMatchObject({ id: got.requestId, fromUserId: 'bob@b.test', toUserId: hal.userId, status: 'accepted' });
    expect(await friendsOf(hal)).toEqual(['first-entry', 'bob@b.test']);

    expect(h.federation.calls).toHaveLength(before + 1);
    const call = h.federation.calls[before]!;
    expect(call).toMatchObject({ peer: 'b.test', eventType: 'friend_answer', idempotencyKey: 'friend_answer:bob-wire-7', orderKey: `friend:${hal.userId}` });
    expect(JSON.parse(call.payloadJson)).toEqual({
      type: 'friend_answer', request_id: 'bob-wire-7', from: `${hal.handle}@${DOMAIN}`, to: 'bob@b.test', status: 'accepted', timestamp: expect.stringMatching(RFC3339_UTC),
    });
    expect((await h.rpc('listFriendRequests', { userId: hal.userId })).incoming).toEqual([]);
    expect(await h.refusal('answerFriendRequest', { userId: hal.userId, requester: 'bob@b.test', accept: false })).toEqual({ status: grpc.status.FAILED_PRECONDITION, code: 'friend_request_not_pending' });
    expect(await h.refusal('answerFriendRequest', { userId: hal.userId, requester: 'zed@b.test', accept: true })).toEqual({ status: grpc.status.NOT_FOUND, code: 'friend_request_not_found' });
  });

  test('reject enqueues a rejected answer and lists nobody', async () => {
    const ida = await h.signUp('ida');
    await receive(ida, 'ida-wire');
    const rejected = await h.rpc('answerFriendRequest', { userId: ida.userId, requester: 'bob@b.test', accept: false });
    expect(rejected.request!.status).toBe('rejected');
    expect(await friendsOf(ida)).toEqual([]);
    expect(h.federation.payloadsFor('b.test').at(-1)).toMatchObject({ type: 'friend_answer', request_id: 'ida-wire', status: 'rejected' });
    // a new request from bob re-opens it
    expect((await receive(ida, 'ida-wire-2')).applied).toBe(true);
    expect((await h.rpc('listFriendRequests', { userId: ida.userId })).incoming.map((r) => r.status)).toEqual(['pending']);
  });

  test('an answer federation cannot queue changes nothing; neither does one that overflows the list', async () => {
    const jon = await h.signUp('jon');
    await receive(jon, 'jon-wire');
    h.federation.down = true;
    expect(await h.refusal('answerFriendRequest', { userId: jon.userId, requester: 'bob@b.test', accept: true })).toEqual({ status: grpc.status.UNAVAILABLE, code: 'federation_unavailable' });
    expect(await friendsOf(jon)).toEqual([]);
    expect((await h.rpc('listFriendRequests', { userId: jon.userId })).incoming.map((r) => r.status)).toEqual(['pending']);
    h.federation.down = false;

    await h.rpc('putFriends', { userId: jon.userId, friends: Array.from({ length: 512 }, (_, i) => ({ userId: `j${i}` })) });
    const before = h.federation.calls.length;
    expect(await h.refusal('answerFriendRequest', { userId: jon.userId, requester: 'bob@b.test', accept: true })).toEqual({ status: grpc.status.FAILED_PRECONDITION, code: 'friend_list_full' });
    expect(h.federation.calls).toHaveLength(before);
    expect((await h.rpc('listFriendRequests', { userId: jon.userId })).incoming.map((r) => r.status)).toEqual(['pending']);
  });
});

describe('ReceiveFederatedFriendAnswer', () => {
  test('accepted: the outgoing request is answered and the remote user listed; a repeat is applied=false', async () => {
    const kay = await h.signUp('kay');
    const out = await h.rpc('createFriendRequest', { userId: kay.userId, target: 'bob@b.test' });
    const wireId = h.federation.payloadsFor('b.test').at(-1)!.request_id as string;
    const answer = (status: string, extra: { from?: string; requestId?: string } = {}) =>
      ({ origin: 'b.test', requestId: extra.requestId ?? wireId, from: extra.from ?? 'bob@b.test', status });

    expect(await h.refusal('receiveFederatedFriendAnswer', answer('accepted', { from: 'eve@b.test' }))).toEqual({ status: grpc.status.NOT_FOUND, code: 'friend_request_not_found' });
    expect(await h.refusal('receiveFederatedFriendAnswer', answer('accepted', { requestId: 'never-sent' }))).toEqual({ status: grpc.status.NOT_FOUND, code: 'friend_request_not_found' });
    expect(await h.refusal('receiveFederatedFriendAnswer', answer('maybe'))).toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'federated_status_invalid' });
    expect(await h.refusal('receiveFederatedFriendAnswer', answer('accepted', { from: 'bob@c.test' }))).toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'federated_from_mismatch' });
    expect(await friendsOf(kay)).toEqual([]);

    expect(await h.rpc('receiveFederatedFriendAnswer', answer('accepted', { from: 'bob@B.TEST' }))).toEqual({ requestId: out.request!.id, applied: true });
    expect(await friendsOf(kay)).toEqual(['bob@b.test']);
    expect((await h.rpc('listFriendRequests', { userId: kay.userId })).outgoing.map((r) => r.status)).toEqual(['accepted']);
    expect(await h.rpc('receiveFederatedFriendAnswer', answer('rejected'))).toEqual({ requestId: out.request!.id, applied: false });
    expect((await h.rpc('listFriendRequests', { userId: kay.userId })).outgoing.map((r) => r.status)).toEqual(['accepted']);
  });

  test('rejected lists nobody; after re-asking, an answer to the old id is stale', async () => {
    const lou = await h.signUp('lou');
    await h.rpc('createFriendRequest', { userId: lou.userId, target: 'bob@b.test' });
    const firstWire = h.federation.payloadsFor('b.test').at(-1)!.request_id as string;
    await h.rpc('receiveFederatedFriendAnswer', { origin: 'b.test', requestId: firstWire, from: 'bob@b.test', status: 'rejected' });
    expect(await friendsOf(lou)).toEqual([]);

    const reopened = await h.rpc('createFriendRequest', { userId: lou.userId, target: 'bob@b.test' });
    const secondWire = h.federation.payloadsFor('b.test').at(-1)!.request_id as string;
    expect(secondWire).not.toBe(firstWire);
    expect(reopened.request!.status).toBe('pending');
    expect((await h.rpc('receiveFederatedFriendAnswer', { origin: 'b.test', requestId: firstWire, from: 'bob@b.test', status: 'accepted' })).applied).toBe(false);
    expect((await h.rpc('listFriendRequests', { userId: lou.userId })).outgoing.map((r) => r.status)).toEqual(['pending']);
    expect((await h.rpc('receiveFederatedFriendAnswer', { origin: 'b.test', requestId: secondWire, from: 'bob@b.test', status: 'accepted' })).applied).toBe(true);
    expect(await friendsOf(lou)).toEqual(['bob@b.test']);
  });

  test('an accept for a full list records the answer without the entry', async () => {
    const mia = await h.signUp('mia');
    await h.rpc('createFriendRequest', { userId: mia.userId, target: 'bob@b.test' });
    const wireId = h.federation.payloadsFor('b.test').at(-1)!.request_id as string;
    await h.rpc('putFriends', { userId: mia.userId, friends: Array.from({ length: 512 }, (_, i) => ({ userId: `m${i}` })) });
    expect((await h.rpc('receiveFederatedFriendAnswer', { origin: 'b.test', requestId: wireId, from: 'bob@b.test', status: 'accepted' })).applied).toBe(true);
    const friends = await friendsOf(mia);
    expect(friends).toHaveLength(512);
    expect(friends).not.toContain('bob@b.test');
  });
});

describe('ListFriendRequests', () => {
  test('federated and local requests are merged, newest first', async () => {
    const [ned, ola] = [await h.signUp('ned'), await h.signUp('ola')];
    const pam = await h.signUp('pam');
    const local1 = await h.rpc('createFriendRequest', { userId: ned.userId, target: ola.userId });
    await tick();
    const fed = await h.rpc('createFriendRequest', { userId: ned.userId, target: 'bob@b.test' });
    await tick();
    const local2 = await h.rpc('createFriendRequest', { userId: ned.userId, target: pam.userId });
    expect((await h.rpc('listFriendRequests', { userId: ned.userId })).outgoing.map((r) => r.id)).toEqual([local2.request!.id, fed.request!.id, local1.request!.id]);

    const fromOla = await h.rpc('createFriendRequest', { userId: ola.userId, target: ned.userId });
    await tick();
    const fromBob = await receive(ned, 'ned-wire');
    const incoming = (await h.rpc('listFriendRequests', { userId: ned.userId })).incoming;
    expect(incoming.map((r) => r.id)).toEqual([fromBob.requestId, fromOla.request!.id]);
  });
});

describe('AuthorizeFederatedDelivery', () => {
  test('only to a live device whose user lists the sender', async () => {
    const quin = await h.signUp('quin');
    const ask = (senderUser: string, targetDeviceId = quin.deviceId, origin = 'b.test') => ({ origin, targetDeviceId, senderUser });
    expect(await h.refusal('authorizeFederatedDelivery', ask('bob@b.test'))).toEqual({ status: grpc.status.PERMISSION_DENIED, code: 'not_friends' });
    // listed by hand with another domain case: still the same user
    await h.rpc('putFriends', { userId: quin.userId, friends: [{ userId: 'bob@B.Test' }] });
    expect(await h.rpc('authorizeFederatedDelivery', ask('bob@b.test'))).toEqual({ userId: quin.userId });
    expect(await h.refusal('authorizeFederatedDelivery', ask('Bob@b.test'))).toEqual({ status: grpc.status.PERMISSION_DENIED, code: 'not_friends' });
    expect(await h.refusal('authorizeFederatedDelivery', ask('bob@c.test', quin.deviceId, 'c.test'))).toEqual({ status: grpc.status.PERMISSION_DENIED, code: 'not_friends' });
    expect(await h.refusal('authorizeFederatedDelivery', ask('bob@b.test', quin.deviceId, 'c.test'))).toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'federated_from_mismatch' });
    expect(await h.refusal('authorizeFederatedDelivery', ask('bob@b.test', 'no-such-device'))).toEqual({ status: grpc.status.NOT_FOUND, code: 'device_not_found' });

    await h.rpc('revokeDevice', { userId: '', callerDeviceId: '', deviceId: quin.deviceId });
    expect(await h.refusal('authorizeFederatedDelivery', ask('bob@b.test'))).toEqual({ status: grpc.status.NOT_FOUND, code: 'device_not_found' });
  });

  test('an accepted federated request is enough', async () => {
    const rae = await h.signUp('rae');
    await receive(rae, 'rae-wire', { origin: 'c.test', from: 'cat@c.test' });
    await h.rpc('answerFriendRequest', { userId: rae.userId, requester: 'cat@c.test', accept: true });
    expect(await h.rpc('authorizeFederatedDelivery', { origin: 'c.test', targetDeviceId: rae.deviceId, senderUser: 'cat@c.test' })).toEqual({ userId: rae.userId });
  });
});
