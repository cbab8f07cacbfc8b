import { FrameType, type JsonValue } from '@commucat/ccp1';
import { TestFleet } from '../support/fleet';
import { connectPeer, control, expectErrorFrame, freshChannel, type Peer } from '../support/conversation';

// Groups (spec ccp1-wire §7.10–§7.12, §7.3 group Join), Typing (§7.7) and Presence (§7.8) as the
// router handles them, with devices spread over two gateways. "Never receives X" is proven without
// sleeping: a marker sent afterwards must be the excluded device's very next frame, and frames of
// one sender reach one gateway in order.

jest.setTimeout(120_000);
let fleet: TestFleet;
const open: Peer[] = [];
beforeAll(async () => { fleet = await TestFleet.start({ gateways: 2 }); });
afterAll(async () => {
  await Promise.allSettled(open.map((p) => p.close()));
  await fleet?.stop();
});

async function device(prefix: string, gateway: number): Promise<Peer> {
  const peer = await connectPeer(fleet, prefix, gateway);
  open.push(peer);
  return peer;
}

describe('groups over two gateways', () => {
  test('a 5-device group: create, invite a 6th, Msg to exactly the others, GroupEvent, refused non-admin invite', async () => {
    const creator = await device('g-owner', 0);
    const admin = await device('g-admin', 1);
    const m2 = await device('g-m2', 0);
    const m3 = await device('g-m3', 1);
    const m4 = await device('g-m4', 0);
    const invitee = await device('g-invitee', 1);
    const channel = freshChannel();
    const groupId = `group-${channel}`;

    // GroupCreate: stored, the members merged into the channel, the frame relayed unchanged.
    const create: JsonValue = {
      group_id: groupId, members: [admin.deviceId, m2.deviceId, m3.deviceId, m4.deviceId], name: 'integration group',
      relay: true, roles: { [admin.deviceId]: 'admin' },
    };
    const created = await creator.request(FrameType.GroupCreate, channel, create);
    expect(created.answer.type).toBe(FrameType.Ack);
    expect(created.answer.channel).toBe(channel);
    expect(control(created.answer)).toEqual({ ack: created.sequence, group_id: groupId });
    for (const member of [admin, m2, m3, m4]) expect(control(await member.expectNext(FrameType.GroupCreate, channel))).toEqual(create);

    // GroupInvite by the owner: the invitee joins group and channel and gets the frame, as do the members.
    const invite: JsonValue = { device: invitee.deviceId, group_id: groupId, role: 'member' };
    const invited = await creator.request(FrameType.GroupInvite, channel, invite);
    expect(control(invited.answer)).toEqual({ ack: invited.sequence, device: invitee.deviceId, group_id: groupId });
    for (const member of [invitee, admin, m2, m3, m4]) expect(control(await member.expectNext(FrameType.GroupInvite, channel))).toEqual(invite);

    // A Msg from m2 reaches each of the other five exactly once, and never m2 itself.
    await m2.say(channel, 'hello group');
    const others = [creator, admin, m3, m4, invitee];
    for (const member of others) await member.expectText(channel, 'hello group');
    await admin.say(channel, 'marker after hello');
    for (const member of [creator, m2, m3, m4, invitee]) await member.expectText(channel, 'marker after hello');

    // GroupEvent: relayed unchanged to every other member, acknowledged with the plain Ack.
    const event: JsonValue = { description: 'm3 renamed the group', event: 'renamed', name: 'renamed group' };
    const evented = await m3.request(FrameType.GroupEvent, channel, event);
    expect(control(evented.answer)).toEqual({ ack: evented.sequence });
    for (const member of [creator, admin, m2, m4, invitee]) expect(control(await member.expectNext(FrameType.GroupEvent, channel))).toEqual(event);

    // A plain member may not invite: forbidden, nothing relayed, and its connection carries on.
    const refused = await m4.request(FrameType.GroupInvite, channel, { device: 'device-nobody-invited', group_id: groupId });
    expectErrorFrame(refused.answer, 'forbidden');
    await m4.say(channel, 'still here');
    for (const member of [creator, admin, m2, m3, invitee]) await member.expectText(channel, 'still here');

    // The admin may: an offline device is added, and everyone online sees the invite.
    const adminInvite: JsonValue = { device: 'device-offline-guest', group_id: groupId };
    const adminInvited = await admin.request(FrameType.GroupInvite, channel, adminInvite);
    expect(control(adminInvited.answer)).toEqual({ ack: adminInvited.sequence, device: 'device-offline-guest', group_id: groupId });
    for (const member of [creator, m2, m3, m4, invitee]) expect(control(await member.expectNext(FrameType.GroupInvite, channel))).toEqual(adminInvite);
  });

  test('Join with group_id brings the stored members into a channel; outsiders and a taken group_id are refused', async () => {
    const owner = await device('gj-owner', 0);
    const member = await device('gj-member', 1);
    const outsider = await device('gj-outsider', 1);
    const groupChannel = freshChannel();
    const groupId = `group-join-${groupChannel}`;
    const created = await owner.request(FrameType.GroupCreate, groupChannel, { group_id: groupId, members: [member.deviceId] });
    expect(control(created.answer)).toEqual({ ack: created.sequence, group_id: groupId });
    await member.expectNext(FrameType.GroupCreate, groupChannel);

    const side = freshChannel();
    const joined = await member.request(FrameType.Join, side, { group_id: groupId, relay: false });
    expect(control(joined.answer)).toEqual({ ack: joined.sequence, group_id: groupId });
    await member.say(side, 'on the side channel');
    await owner.expectText(side, 'on the side channel');

    const sneaky = await outsider.request(FrameType.Join, freshChannel(), { group_id: groupId });
    expectErrorFrame(sneaky.answer, 'forbidden');
    const taken = await outsider.request(FrameType.GroupCreate, freshChannel(), { group_id: groupId, members: [] });
    expectErrorFrame(taken.answer, 'conflict');
    // Neither refusal touched the group: the outsider is still outside it.
    const stillOutside = await outsider.request(FrameType.GroupEvent, groupChannel, { event: 'x' });
    expectErrorFrame(stillOutside.answer, 'not_member');

    // A GroupCreate without group_id gets one made up, announced in the Ack.
    const anonymous = await owner.request(FrameType.GroupCreate, freshChannel(), { members: [] });
    expect(control(anonymous.answer)).toEqual({ ack: anonymous.sequence, group_id: expect.any(String) });
    expect((control(anonymous.answer).group_id as string).length).toBeGreaterThan(0);
  });
});

describe('typing', () => {
  test('Typing reaches the other members with a string device id, never the sender or an outsider', async () => {
    const a = await device('t-a', 0);
    const b = await device('t-b', 1);
    const c = await device('t-c', 0);
    const outsider = await device('t-out', 1);
    const outsiderFriend = await device('t-friend', 0);
    const channel = freshChannel();
    const elsewhere = freshChannel();
    for (const p of [a, b, c]) await p.join(channel);
    for (const p of [outsider, outsiderFriend]) await p.join(elsewhere);

    // Without a device id (the real client would exit on it, T16) the router fills in the sender's.
    const first = await a.request(FrameType.Typing, channel, { typing: true });
    expect(control(first.answer)).toEqual({ ack: first.sequence });
    for (const p of [b, c]) expect(control(await p.expectNext(FrameType.Typing, channel))).toEqual({ device: a.deviceId, typing: true });

    // With one, the payload is relayed unchanged.
    const declared = { device_id: a.deviceId, label: 'A is typing', ttl_ms: 1500, typing: false };
    const second = await a.request(FrameType.Typing, channel, declared);
    expect(control(second.answer)).toEqual({ ack: second.sequence });
    for (const p of [b, c]) expect(control(await p.expectNext(FrameType.Typing, channel))).toEqual(declared);

    // Markers: the sender's and the outsider's next frames are these Msgs, not a Typing.
    await b.say(channel, 'marker for a');
    await a.expectText(channel, 'marker for a');
    await c.expectText(channel, 'marker for a');
    await outsiderFriend.say(elsewhere, 'marker for the outsider');
    await outsider.expectText(elsewhere, 'marker for the outsider');
  });
});

describe('presence', () => {
  test('a Presence state goes live to every device sharing a channel, once each, with a string entity; nobody else', async () => {
    const a = await device('p-a', 0);
    const b = await device('p-b', 1);
    const c = await device('p-c', 0);
    const both = await device('p-both', 1);
    const loner = await device('p-loner', 1);
    const lonerFriend = await device('p-loner-friend', 0);
    const withB = freshChannel();
    const withC = freshChannel();
    const lonely = freshChannel();
    for (const p of [a, b, both]) await p.join(withB);
    for (const p of [a, c, both]) await p.join(withC);
    for (const p of [loner, lonerFriend]) await p.join(lonely);

    a.sendControl(FrameType.Presence, 0, { state: 'away' });
    for (const p of [b, c, both]) {
      const presence = control(await p.expectNext(FrameType.Presence, 0));
      expect(presence).toEqual({
        entity: a.deviceId,
        state: 'away',
        expires_at: expect.any(String),
        user: expect.any(Object),
      });
      // The user snapshot the real client reads: missing options are null, never left out (T13).
      const user = presence.user as Record<string, JsonValue>;
      expect(Object.keys(user)).toEqual(expect.arrayContaining(['avatar_url', 'display_name', 'handle', 'id']));
      expect(user).toMatchObject({ id: a.identity.userId, handle: a.identity.handle });
      for (const option of [user.display_name, user.avatar_url]) expect(option === null || typeof option === 'string').toBe(true);
      expect(Number.isNaN(Date.parse(presence.expires_at as string))).toBe(false);
      expect(Date.parse(presence.expires_at as string)).toBeGreaterThan(Date.now() - 60_000);
    }

    // No Ack for Presence (as in the reference), no echo to the sender, one copy for `both`
    // although it shares two channels with A, and nothing for a device sharing none.
    await b.say(withB, 'marker on withB');
    await a.expectText(withB, 'marker on withB');
    await both.expectText(withB, 'marker on withB');
    await lonerFriend.say(lonely, 'marker for the loner');
    await loner.expectText(lonely, 'marker for the loner');
  });

  test('mutual friends get it even without a shared channel; someone listed one-sidedly does not', async () => {
    const a = await device('f-a', 0);
    const friend = await device('f-friend', 1);
    const oneSided = await device('f-one-sided', 0);
    const other = await device('f-other', 1);
    // Friend lists are directory rows (the REST API edits them); written directly here.
    const list = (owner: Peer, listed: Peer) =>
      fleet.db.pool.query('INSERT INTO friend (user_id, friend_user_id) VALUES ($1, $2)', [owner.identity.userId, listed.identity.userId]);
    await list(a, friend);
    await list(friend, a);
    await list(a, oneSided);
    const marker = freshChannel();
    for (const p of [oneSided, other]) await p.join(marker);

    a.sendControl(FrameType.Presence, 0, { state: 'busy' });
    expect(control(await friend.expectNext(FrameType.Presence, 0))).toMatchObject({ entity: a.deviceId, state: 'busy' });
    // The friend got it; the one-sided entry's device sees only the later marker.
    await other.say(marker, 'marker after the presence');
    await oneSided.expectText(marker, 'marker after the presence');
  });
});
