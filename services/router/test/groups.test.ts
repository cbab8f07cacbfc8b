import { controlFrame, encodeFrame, FrameType, opaqueFrame, type Frame, type JsonValue } from '@commucat/ccp1';
import type { Delivery } from '@commucat/contracts';
import { RouterError } from '../src/errors';
import { GroupStore } from '../src/group-store';
import { newId, RouterHarness, type GatewayEvent } from './support/router-harness';

jest.setTimeout(30_000);
let h: RouterHarness;
let groups: GroupStore;
beforeAll(async () => {
  h = await RouterHarness.start();
  await h.ready();
  groups = new GroupStore(h.db.pool);
});
afterAll(() => h?.stop());

const control = (f: Frame): JsonValue => (f.payload.kind === 'control' ? f.payload.value : null);
const asDelivery = (e: GatewayEvent): Delivery => (e as Extract<GatewayEvent, { kind: 'delivery' }>).delivery;
const device = () => ({ device: newId('dev'), conn: newId('conn') });
let nextChannel = 100;
const freshChannel = () => nextChannel++;

/** Sends a frame and waits for its reply (Ack or Error); deliveries are published before it. */
async function request(deviceId: string, connectionId: string, frame: Frame | Uint8Array): Promise<Frame> {
  const from = h.events.length;
  h.send(deviceId, connectionId, frame);
  return h.replyTo(connectionId, from);
}

/** Sends and returns the reply plus every delivery published while handling it. */
async function exchange(deviceId: string, connectionId: string, frame: Frame | Uint8Array) {
  const from = h.events.length;
  const reply = await request(deviceId, connectionId, frame);
  const deliveries = h.events.slice(from).filter((e) => e.kind === 'delivery').map(asDelivery);
  return { reply, deliveries };
}

async function groupRow(groupId: string) {
  const { rows } = await h.db.pool.query('SELECT owner_device, relay FROM chat_group WHERE group_id = $1', [groupId]);
  return rows[0] as { owner_device: string; relay: boolean } | undefined;
}

/** A stored group on `channel`: owner A, admin B, member C (all offline). */
async function groupOf(channel: number) {
  const a = device(), b = device(), c = device();
  const groupId = newId('grp');
  const reply = await request(a.device, a.conn, controlFrame(FrameType.GroupCreate, channel, 3, {
    group_id: groupId, members: [b.device, c.device], roles: { [b.device]: 'admin' },
  }));
  expect(control(reply)).toEqual({ ack: 3, group_id: groupId });
  return { a, b, c, groupId };
}

describe('GroupCreate', () => {
  test('stores the group with roles, merges the members into the channel, relays the original frame durably and acks with the group id', async () => {
    const channel = freshChannel();
    const a = device(), b = device(), c = device();
    await h.online(b.device, b.conn);
    const groupId = newId('grp');
    const frame = encodeFrame(controlFrame(FrameType.GroupCreate, channel, 7, {
      group_id: groupId, name: 'friends', members: [b.device, c.device, 42, a.device],
      roles: { [b.device]: 'admin', [c.device]: 'superuser', [a.device]: 'member' },
    }));
    const { reply, deliveries } = await exchange(a.device, a.conn, frame);
    expect(reply).toMatchObject({ type: FrameType.Ack, channel });
    expect(control(reply)).toEqual({ ack: 7, group_id: groupId });

    // The creator is always owner; an unknown role name becomes member; relay defaults to true.
    expect(await groups.members(groupId)).toEqual([
      { deviceId: a.device, role: 'owner' }, { deviceId: b.device, role: 'admin' }, { deviceId: c.device, role: 'member' },
    ].sort((x, y) => x.deviceId.localeCompare(y.deviceId)));
    expect(await groupRow(groupId)).toEqual({ owner_device: a.device, relay: true });
    expect(await h.membership.members(channel)).toEqual([a.device, b.device, c.device].sort());

    // Online B gets the frame byte for byte with its relay seq; offline C has it queued; A gets nothing.
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ deviceId: b.device, connectionId: b.conn, messageId: `${a.conn}:7` });
    expect(deliveries[0]!.relaySeq).toBeGreaterThan(0);
    expect(Buffer.from(deliveries[0]!.frame)).toEqual(frame);
    const queued = await h.relayQueue.drain(c.device);
    expect(queued.envelopes).toHaveLength(1);
    expect(Buffer.from(queued.envelopes[0]!.frame)).toEqual(frame);
    expect(queued.envelopes[0]).toMatchObject({ channelId: channel, senderDeviceId: a.device });
    expect(await h.relayQueue.depth(a.device)).toBe(0);
  });

  test('without a group_id gets a random 32-byte hex id; the channel keeps its earlier members, who get the frame too', async () => {
    const channel = freshChannel();
    const earlier = device(), a = device();
    await request(earlier.device, earlier.conn, controlFrame(FrameType.Join, channel, 3, { members: [earlier.device] }));
    const reply = await request(a.device, a.conn, controlFrame(FrameType.GroupCreate, channel, 4, { relay: false }));
    const groupId = (control(reply) as { group_id: string }).group_id;
    expect(groupId).toMatch(/^[0-9a-f]{64}$/);
    expect(await groups.members(groupId)).toEqual([{ deviceId: a.device, role: 'owner' }]);
    expect(await groupRow(groupId)).toEqual({ owner_device: a.device, relay: false });
    expect(await h.membership.members(channel)).toEqual([earlier.device, a.device].sort());
    expect(await h.relayQueue.depth(earlier.device)).toBe(1);
  });

  test('a payload that is not an object, or a group_id that is not a string, is invalid and stores nothing', async () => {
    const channel = freshChannel();
    const a = device(), b = device();
    for (const payload of [[b.device], 'group', { group_id: 5, members: [b.device] }, { group_id: '', members: [b.device] }] as JsonValue[]) {
      const reply = await request(a.device, a.conn, controlFrame(FrameType.GroupCreate, channel, 3, payload));
      expect(reply).toMatchObject({ type: FrameType.Error, channel });
      expect(control(reply)).toMatchObject({ error: 'invalid' });
    }
    const { rows } = await h.db.pool.query('SELECT 1 FROM chat_group WHERE owner_device = $1', [a.device]);
    expect(rows).toHaveLength(0);
    expect(await h.membership.members(channel)).toEqual([]);
    expect(await h.relayQueue.depth(b.device)).toBe(0);
  });

  test('a taken group_id is a conflict: the existing group, the channel and the inboxes stay as they were', async () => {
    const { a, groupId } = await groupOf(freshChannel());
    const before = await groups.members(groupId);
    const intruder = device(), victim = device();
    const channel = freshChannel();
    const reply = await request(intruder.device, intruder.conn, controlFrame(FrameType.GroupCreate, channel, 9, {
      group_id: groupId, members: [victim.device],
    }));
    expect(control(reply)).toMatchObject({ error: 'conflict' });
    expect(await groups.members(groupId)).toEqual(before);
    expect(await groupRow(groupId)).toMatchObject({ owner_device: a.device });
    expect(await h.membership.members(channel)).toEqual([]);
    expect(await h.relayQueue.depth(victim.device)).toBe(0);
  });

  test('a group too big for its channel is refused as channel_full and rolled back entirely', async () => {
    const small = new GroupStore(h.db.pool, 2);
    const groupId = newId('grp');
    const channel = freshChannel();
    const err = await small.create(channel, 'owner-x', {
      groupId, relay: true, members: new Map([['owner-x', 'owner'], ['m1', 'member'], ['m2', 'member']]),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RouterError);
    expect((err as RouterError).code).toBe('channel_full');
    expect(await groupRow(groupId)).toBeUndefined();
    expect(await groups.members(groupId)).toEqual([]);
    expect(await h.membership.members(channel)).toEqual([]);
  });
});

describe('GroupInvite', () => {
  test('an owner invites: the invitee joins group and channel (owner lowered to admin), gets the frame live, offline members get it queued', async () => {
    const channel = freshChannel();
    const { a, b, c, groupId } = await groupOf(channel);
    const d = device();
    await h.online(d.device, d.conn);
    const depthB = await h.relayQueue.depth(b.device);
    const frame = encodeFrame(controlFrame(FrameType.GroupInvite, channel, 11, { group_id: groupId, device: d.device, role: 'owner' }));
    const { reply, deliveries } = await exchange(a.device, a.conn, frame);
    expect(control(reply)).toEqual({ ack: 11, device: d.device, group_id: groupId });

    expect(await groups.members(groupId)).toContainEqual({ deviceId: d.device, role: 'admin' });
    expect(await h.membership.members(channel)).toEqual([a.device, b.device, c.device, d.device].sort());
    expect(deliveries.map((x) => x.deviceId)).toEqual([d.device]);
    expect(Buffer.from(deliveries[0]!.frame)).toEqual(frame);
    expect(deliveries[0]!.relaySeq).toBeGreaterThan(0);
    expect(await h.relayQueue.depth(b.device)).toBe(depthB + 1);
    expect(await h.relayQueue.depth(a.device)).toBe(0);
  });

  test('an admin may invite (role member by default); a plain member, a non-member and an unknown group are forbidden', async () => {
    const channel = freshChannel();
    const { b, c, groupId } = await groupOf(channel);
    const e = device(), f = device();
    expect(control(await request(b.device, b.conn, controlFrame(FrameType.GroupInvite, channel, 4, { group_id: groupId, device: e.device }))))
      .toEqual({ ack: 4, device: e.device, group_id: groupId });
    expect(await groups.members(groupId)).toContainEqual({ deviceId: e.device, role: 'member' });

    const refusals: Array<[string, string]> = [[c.device, groupId], [newId('stranger'), groupId], [b.device, newId('no-such-group')]];
    for (const [inviter, group] of refusals) {
      const reply = await request(inviter, newId('conn'), controlFrame(FrameType.GroupInvite, channel, 5, { group_id: group, device: f.device }));
      expect(reply).toMatchObject({ type: FrameType.Error, channel });
      expect(control(reply)).toMatchObject({ error: 'forbidden' });
    }
    expect((await groups.members(groupId)).map((m) => m.deviceId)).not.toContain(f.device);
    expect(await h.membership.members(channel)).not.toContain(f.device);
    expect(await h.relayQueue.depth(f.device)).toBe(0);
  });

  test('an invite never demotes an existing member', async () => {
    const channel = freshChannel();
    const { a, b, groupId } = await groupOf(channel);
    await request(a.device, a.conn, controlFrame(FrameType.GroupInvite, channel, 6, { group_id: groupId, device: b.device, role: 'member' }));
    expect(await groups.members(groupId)).toContainEqual({ deviceId: b.device, role: 'admin' });
  });

  test('on a channel that does not exist yet, creates it with every group member', async () => {
    const { a, b, c, groupId } = await groupOf(freshChannel());
    const other = freshChannel(), d = device();
    expect(control(await request(a.device, a.conn, controlFrame(FrameType.GroupInvite, other, 3, { group_id: groupId, device: d.device }))))
      .toEqual({ ack: 3, device: d.device, group_id: groupId });
    expect(await h.membership.members(other)).toEqual([a.device, b.device, c.device, d.device].sort());
    const { rows } = await h.db.pool.query('SELECT relay FROM channel WHERE channel_id = $1', [other]);
    expect(rows).toEqual([{ relay: true }]);
  });

  test('without string group_id and device, or with a payload that is not an object, is invalid and relays nothing (§7.21)', async () => {
    const channel = freshChannel();
    const { a, b, groupId } = await groupOf(channel);
    const d = device();
    const depthB = await h.relayQueue.depth(b.device);
    const payloads: JsonValue[] = [
      { group_id: groupId }, { device: d.device }, { group_id: groupId, member: d.device },
      { group_id: groupId, device: 7 }, { group_id: 1, device: d.device }, [groupId, d.device], null,
    ];
    for (const payload of payloads) {
      const reply = await request(a.device, a.conn, controlFrame(FrameType.GroupInvite, channel, 8, payload));
      expect(control(reply)).toMatchObject({ error: 'invalid' });
    }
    expect(await h.relayQueue.depth(b.device)).toBe(depthB);
    expect(await h.membership.members(channel)).not.toContain(d.device);
  });
});

describe('GroupEvent', () => {
  test('from a member is relayed unchanged (live and queued) and acked', async () => {
    const channel = freshChannel();
    const { a, b, c } = await groupOf(channel);
    await h.online(b.device, b.conn);
    const depthC = await h.relayQueue.depth(c.device);
    const frame = encodeFrame(controlFrame(FrameType.GroupEvent, channel, 12, { event: 'renamed', description: 'now "cats"' }));
    const { reply, deliveries } = await exchange(a.device, a.conn, frame);
    expect(control(reply)).toEqual({ ack: 12 });
    expect(deliveries.map((x) => x.deviceId)).toEqual([b.device]);
    expect(Buffer.from(deliveries[0]!.frame)).toEqual(frame);
    expect(await h.relayQueue.depth(c.device)).toBe(depthC + 1);
  });

  test('from a non-member is not_member; a payload that is not an object is invalid; neither is relayed', async () => {
    const channel = freshChannel();
    const { a, c } = await groupOf(channel);
    const depthC = await h.relayQueue.depth(c.device);
    const stranger = await request(newId('dev'), newId('conn'), controlFrame(FrameType.GroupEvent, channel, 3, { event: 'x' }));
    expect(control(stranger)).toMatchObject({ error: 'not_member', channel });
    const notObject = await request(a.device, a.conn, controlFrame(FrameType.GroupEvent, channel, 4, 'renamed'));
    expect(control(notObject)).toMatchObject({ error: 'invalid' });
    expect(await h.relayQueue.depth(c.device)).toBe(depthC);
  });
});

describe('KeyUpdate', () => {
  test('a JSON object from a member is relayed unchanged (live and queued) and acked', async () => {
    const channel = freshChannel();
    const { a, b, c } = await groupOf(channel);
    await h.online(c.device, c.conn);
    const depthB = await h.relayQueue.depth(b.device);
    const frame = encodeFrame(controlFrame(FrameType.KeyUpdate, channel, 13, { type: 'device-key-rotated', public_key: 'ab'.repeat(32) }));
    const { reply, deliveries } = await exchange(a.device, a.conn, frame);
    expect(control(reply)).toEqual({ ack: 13 });
    expect(deliveries.map((x) => x.deviceId)).toEqual([c.device]);
    expect(Buffer.from(deliveries[0]!.frame)).toEqual(frame);
    expect(await h.relayQueue.depth(b.device)).toBe(depthB + 1);
  });

  test('JSON that is not an object is invalid, bytes that are not JSON fail to decode, a non-member is not_member', async () => {
    const channel = freshChannel();
    const { a, b } = await groupOf(channel);
    const depthB = await h.relayQueue.depth(b.device);
    for (const payload of ['rotate', [1, 2], 7] as JsonValue[]) {
      expect(control(await request(a.device, a.conn, controlFrame(FrameType.KeyUpdate, channel, 3, payload)))).toMatchObject({ error: 'invalid' });
    }
    // A 1.0.41 client's opaque KeyUpdate: the 1.0.103 codec cannot parse it as JSON.
    const opaque = await request(a.device, a.conn, encodeFrame(opaqueFrame(FrameType.KeyUpdate, channel, 4, Buffer.from('raw key bytes'))));
    expect(control(opaque)).toMatchObject({ error: 'decode' });
    const stranger = await request(newId('dev'), newId('conn'), controlFrame(FrameType.KeyUpdate, channel, 5, { type: 'x' }));
    expect(control(stranger)).toMatchObject({ error: 'not_member', channel });
    expect(await h.relayQueue.depth(b.device)).toBe(depthB);
  });
});

describe('Join with group_id', () => {
  test('a stored member joins: every group member (not the declared ones) is merged into the channel; the Ack names the group', async () => {
    const { a, b, c, groupId } = await groupOf(freshChannel());
    const channel = freshChannel();
    const reply = await request(b.device, b.conn, controlFrame(FrameType.Join, channel, 6, { group_id: groupId, members: ['ghost'], relay: true }));
    expect(reply).toMatchObject({ type: FrameType.Ack, channel });
    expect(control(reply)).toEqual({ ack: 6, group_id: groupId });
    expect(await h.membership.members(channel)).toEqual([a.device, b.device, c.device].sort());
    // Now a channel member, A's messages on it reach C.
    const depthC = await h.relayQueue.depth(c.device);
    expect(control(await request(a.device, a.conn, opaqueFrame(FrameType.Msg, channel, 7, Buffer.from('hi group'))))).toEqual({ ack: 7 });
    expect(await h.relayQueue.depth(c.device)).toBe(depthC + 1);
  });

  test('a device that is not a stored member is forbidden and the channel is unchanged', async () => {
    const { groupId } = await groupOf(freshChannel());
    const channel = freshChannel();
    const outsider = device();
    const reply = await request(outsider.device, outsider.conn, controlFrame(FrameType.Join, channel, 3, { group_id: groupId, members: [outsider.device] }));
    expect(reply).toMatchObject({ type: FrameType.Error, channel });
    expect(control(reply)).toMatchObject({ error: 'forbidden' });
    expect(await h.membership.members(channel)).toEqual([]);
  });
});
