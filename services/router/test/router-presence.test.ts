import { controlFrame, decodeFrame, FrameType, type Frame, type JsonValue } from '@commucat/ccp1';
import type { Delivery } from '@commucat/contracts';
import { newId, RouterHarness, type GatewayEvent } from './support/router-harness';

jest.setTimeout(30_000);
let h: RouterHarness;
beforeAll(async () => {
  h = await RouterHarness.start();
  await h.ready();
});
afterAll(() => h?.stop());

const control = (f: Frame): JsonValue => (f.payload.kind === 'control' ? f.payload.value : null);
const presence = (seq: number, value: JsonValue) => controlFrame(FrameType.Presence, 0, seq, value);
const deliveryTo = (deviceId: string) => (e: GatewayEvent) => e.kind === 'delivery' && e.delivery.deviceId === deviceId;
const asDelivery = (e: GatewayEvent): Delivery => (e as Extract<GatewayEvent, { kind: 'delivery' }>).delivery;

interface Device { device: string; conn: string }
const device = (): Device => ({ device: newId('dev'), conn: newId('conn') });

/** Sends a frame and waits for its reply (Ack or Error). */
async function request(from: Device, frame: Frame): Promise<Frame> {
  const index = h.events.length;
  h.send(from.device, from.conn, frame);
  return h.replyTo(from.conn, index);
}

async function joinAll(channel: number, devices: Device[]): Promise<void> {
  for (const d of devices) {
    expect(control(await request(d, controlFrame(FrameType.Join, channel, 3, { members: [d.device], relay: false })))).toEqual({ ack: 3 });
  }
}

async function onlineWithProfile(d: Device, displayName: string | null): Promise<void> {
  await h.routes.register({
    deviceId: d.device, userId: `user-of-${d.device}`, gatewayId: h.gatewayId, connectionId: d.conn, connectedAt: Date.now(),
    user: { id: `user-of-${d.device}`, user_id: `user-of-${d.device}`, handle: `handle-${d.device}`, display_name: displayName, avatar_url: null },
  });
}

/**
 * Asserts that `sender` got no reply to anything sent before this call: the router handles frames
 * strictly in order, so the reply to a later Leave is the first reply it publishes for `sender`.
 */
async function expectNoEarlierReply(sender: Device, since: number): Promise<void> {
  const leave = controlFrame(FrameType.Leave, 999_999, 77, {});
  h.send(sender.device, sender.conn, leave);
  const first = await h.replyTo(sender.conn, since);
  expect(first.type).toBe(FrameType.Ack);
  expect(control(first)).toEqual({ ack: 77 });
}

describe('Presence', () => {
  test('reaches every online co-member live as the shape the client needs; no reply, nothing queued', async () => {
    const alice = device(), bob = device(), carol = device(), stranger = device();
    await joinAll(301, [alice, bob]);
    await joinAll(302, [alice, carol]);
    await joinAll(303, [stranger]);
    await onlineWithProfile(alice, 'Alice');
    for (const d of [bob, carol, stranger]) await h.online(d.device, d.conn);

    const since = h.events.length;
    const before = Date.now();
    h.send(alice.device, alice.conn, presence(5, { state: 'away' }));
    const toBob = asDelivery(await h.next(deliveryTo(bob.device), since));
    const toCarol = asDelivery(await h.next(deliveryTo(carol.device), since));
    await expectNoEarlierReply(alice, since);

    for (const [delivery, peer] of [[toBob, bob], [toCarol, carol]] as const) {
      expect(delivery).toMatchObject({ deviceId: peer.device, connectionId: peer.conn, relaySeq: 0, messageId: `${alice.conn}:5` });
      const frame = decodeFrame(delivery.frame).frame;
      expect(frame).toMatchObject({ type: FrameType.Presence, channel: 0 });
      const value = control(frame) as { [key: string]: JsonValue };
      expect(value).toEqual({
        entity: alice.device,
        state: 'away',
        expires_at: expect.any(String),
        user: { id: `user-of-${alice.device}`, handle: `handle-${alice.device}`, display_name: 'Alice', avatar_url: null },
      });
      // RFC 3339, one presence TTL (30 s in the harness) ahead.
      expect(value.expires_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
      expect(Date.parse(value.expires_at as string)).toBeGreaterThanOrEqual(before + 30_000);
    }
    expect(h.events.some((e, i) => i >= since && e.kind === 'delivery' && [alice.device, stranger.device].includes(e.delivery.deviceId))).toBe(false);
    expect(await h.relayQueue.depth(bob.device)).toBe(0);
    expect(await h.relayQueue.depth(carol.device)).toBe(0);
    expect(await h.routes.presenceOf(alice.device)).toMatchObject({ entity: alice.device, state: 'away' });
  });

  test('a missing or non-string state means online; an offline co-member gets nothing and nothing is queued for it', async () => {
    const alice = device(), bob = device(), away = device();
    await joinAll(311, [alice, bob, away]);
    await onlineWithProfile(alice, null);
    await h.routes.setState(alice.device, alice.conn, 'busy');
    await h.online(bob.device, bob.conn);

    for (const [seq, payload] of [[6, {}], [7, { state: 42 }]] as const) {
      const since = h.events.length;
      h.send(alice.device, alice.conn, presence(seq, payload));
      const frame = decodeFrame(asDelivery(await h.next(deliveryTo(bob.device), since)).frame).frame;
      expect(control(frame)).toMatchObject({ entity: alice.device, state: 'online', user: { display_name: null } });
      expect((await h.routes.presenceOf(alice.device))?.state).toBe('online');
      await h.routes.setState(alice.device, alice.conn, 'busy');
    }
    expect(h.events.some((e) => e.kind === 'delivery' && e.delivery.deviceId === away.device)).toBe(false);
    expect(await h.relayQueue.depth(away.device)).toBe(0);
  });

  test('a payload that is not an object gets an invalid Error and changes nothing', async () => {
    const alice = device(), bob = device();
    await joinAll(321, [alice, bob]);
    await onlineWithProfile(alice, null);
    await h.online(bob.device, bob.conn);
    for (const payload of ['away', [1], null] as JsonValue[]) {
      const since = h.events.length;
      const reply = await request(alice, presence(8, payload));
      expect(reply).toMatchObject({ type: FrameType.Error, channel: 0 });
      expect(control(reply)).toMatchObject({ error: 'invalid' });
      expect(h.events.some((e, i) => i >= since && e.kind === 'delivery')).toBe(false);
    }
    expect((await h.routes.presenceOf(alice.device))?.state).toBe('online');
  });

  test('a state presence refuses (too long) gets an invalid Error; a connection without the route is ignored', async () => {
    const alice = device(), bob = device();
    await joinAll(331, [alice, bob]);
    await onlineWithProfile(alice, null);
    await h.online(bob.device, bob.conn);

    const tooLong = await request(alice, presence(9, { state: 'x'.repeat(65) }));
    expect(control(tooLong)).toMatchObject({ error: 'invalid' });

    const since = h.events.length;
    const stale = { device: alice.device, conn: newId('stale-conn') };
    h.send(stale.device, stale.conn, presence(10, { state: 'away' }));
    await expectNoEarlierReply(stale, since);
    expect(h.events.some((e, i) => i >= since && e.kind === 'delivery')).toBe(false);
    expect((await h.routes.presenceOf(alice.device))?.state).toBe('online');
  });
});

describe('MembershipStore co-members', () => {
  test('channelsOf and coMembersOf span every channel of the device, each peer once', async () => {
    const me = newId('dev'), p1 = newId('dev'), p2 = newId('dev'), other = newId('dev');
    await h.membership.join(341, [me, p1], false);
    await h.membership.join(342, [me, p1, p2], false);
    await h.membership.join(343, [other, p1], false);
    expect(await h.membership.channelsOf(me)).toEqual([341, 342]);
    expect(await h.membership.coMembersOf(me)).toEqual([p1, p2].sort());
    expect(await h.membership.coMembersOf(newId('dev'))).toEqual([]);
  });
});

describe('Presence to friends', () => {
  /** Creates the user and active device rows directory would hold for a harness device. */
  async function registered(d: Device): Promise<void> {
    const userId = `user-of-${d.device}`;
    await h.db.pool.query(`INSERT INTO app_user (user_id, handle, domain) VALUES ($1, $2, 'example.org')`, [userId, `h-${d.device}`]);
    await h.db.pool.query(`INSERT INTO user_device (device_id, user_id, public_key, status) VALUES ($1, $2, $3, 'active')`, [d.device, userId, Buffer.alloc(32, 1)]);
  }
  const list = (owner: Device, friend: Device) =>
    h.db.pool.query('INSERT INTO friend (user_id, friend_user_id) VALUES ($1, $2)', [`user-of-${owner.device}`, `user-of-${friend.device}`]);

  test('reaches the devices of mutual friends who share no channel; a one-sided entry does not count', async () => {
    const alice = device(), mutual = device(), oneSided = device(), lister = device();
    for (const d of [alice, mutual, oneSided, lister]) {
      await registered(d);
      await h.online(d.device, d.conn);
    }
    await list(alice, mutual);
    await list(mutual, alice);
    await list(alice, oneSided); // alice lists them, they do not list alice
    await list(lister, alice); // they list alice, alice does not list them
    await onlineWithProfile(alice, 'Alice');

    const from = h.events.length;
    h.send(alice.device, alice.conn, presence(9, { state: 'away' }));
    const pushed = asDelivery(await h.next(deliveryTo(mutual.device), from));
    const value = control(decodeFrame(pushed.frame).frame) as Record<string, JsonValue>;
    expect(value).toMatchObject({ entity: alice.device, state: 'away' });
    // A marker: alice's next presence (same channel 0, handled after the first one's whole
    // fan-out) reaches mutual again; by then the others would have had the first one.
    const second = h.events.length;
    h.send(alice.device, alice.conn, presence(10, { state: 'online' }));
    await h.next(deliveryTo(mutual.device), second);
    expect(h.events.slice(from).some(deliveryTo(oneSided.device))).toBe(false);
    expect(h.events.slice(from).some(deliveryTo(lister.device))).toBe(false);
    expect(h.events.slice(from).some(deliveryTo(alice.device))).toBe(false);
  });
});
