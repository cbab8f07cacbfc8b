import { controlFrame, decodeFrame, encodeFrame, FrameType, frameTypeLabel, opaqueFrame, type Frame, type JsonValue } from '@commucat/ccp1';
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
const join = (channel: number, seq: number, value: JsonValue) => controlFrame(FrameType.Join, channel, seq, value);
const deliveryTo = (deviceId: string) => (e: GatewayEvent) => e.kind === 'delivery' && e.delivery.deviceId === deviceId;
const asDelivery = (e: GatewayEvent): Delivery => (e as Extract<GatewayEvent, { kind: 'delivery' }>).delivery;

/** Sends a frame and waits for its reply (Ack or Error). */
async function request(deviceId: string, connectionId: string, frame: Frame | Uint8Array): Promise<Frame> {
  const from = h.events.length;
  h.send(deviceId, connectionId, frame);
  return h.replyTo(connectionId, from);
}

/** Two devices, each joined to `channel` by declaring only itself (as the real client does). */
async function pair(channel: number) {
  const a = { device: newId('dev-a'), conn: newId('conn-a') };
  const b = { device: newId('dev-b'), conn: newId('conn-b') };
  expect(control(await request(a.device, a.conn, join(channel, 3, { members: [a.device], relay: false })))).toEqual({ ack: 3 });
  expect(control(await request(b.device, b.conn, join(channel, 3, { members: [b.device], relay: false })))).toEqual({ ack: 3 });
  return { a, b };
}

describe('Join', () => {
  test('merges each joiner into the channel instead of replacing the route (spec §7.3 deviation)', async () => {
    const { a, b } = await pair(5);
    expect(await h.membership.members(5)).toEqual([a.device, b.device].sort());
  });

  test('adds declared string members, ignores the rest, and acks on the frame channel', async () => {
    const me = newId('dev'), friend = newId('dev');
    const reply = await request(me, newId('conn'), join(6, 41, { members: [friend, 7, null, ''], relay: true }));
    expect(reply).toMatchObject({ type: FrameType.Ack, channel: 6, sequence: 0 });
    expect(control(reply)).toEqual({ ack: 41 });
    expect(await h.membership.members(6)).toEqual([me, friend].sort());
    const { rows } = await h.db.pool.query('SELECT relay FROM channel WHERE channel_id = 6');
    expect(rows).toEqual([{ relay: true }]);
  });

  test('a Join naming a group that does not exist is forbidden and changes nothing', async () => {
    const me = newId('dev');
    const reply = await request(me, newId('conn'), join(8, 3, { members: [me], group_id: 'g1' }));
    expect(reply.type).toBe(FrameType.Error);
    expect(control(reply)).toMatchObject({ error: 'forbidden' });
    expect(await h.membership.members(8)).toEqual([]);
  });

  test('a Join whose payload is not an object gets an invalid Error', async () => {
    const reply = await request(newId('dev'), newId('conn'), join(8, 3, [1, 2]));
    expect(control(reply)).toMatchObject({ error: 'invalid' });
  });
});

describe('Msg', () => {
  test('goes to the online member with its relay seq, stays queued until acknowledged, and is acked after the enqueue', async () => {
    const { a, b } = await pair(10);
    await h.online(b.device, b.conn);
    const msg = encodeFrame(opaqueFrame(FrameType.Msg, 10, 4, Buffer.from('hello bob')));
    const from = h.events.length;
    h.send(a.device, a.conn, msg);
    const ack = await h.replyTo(a.conn, from);
    expect(ack).toMatchObject({ type: FrameType.Ack, channel: 10 });
    expect(control(ack)).toEqual({ ack: 4 });

    const deliveryEvent = await h.next(deliveryTo(b.device), from);
    // The delivery is published before the Ack (same publisher, so NATS keeps that order).
    expect(h.events.indexOf(deliveryEvent)).toBeLessThan(h.events.findIndex((e, i) => i >= from && e.kind === 'reply'));
    const delivery = asDelivery(deliveryEvent);
    expect(delivery).toMatchObject({ deviceId: b.device, connectionId: b.conn, messageId: `${a.conn}:4` });
    expect(delivery.relaySeq).toBeGreaterThan(0);
    expect(Buffer.from(delivery.frame)).toEqual(msg);
    expect(h.events.slice(from).some(deliveryTo(a.device))).toBe(false);

    // The envelope is durable in relay (it was stored before the Ack) until B acknowledges it.
    const page = await h.relayQueue.drain(b.device);
    expect(page.envelopes).toHaveLength(1);
    expect(page.envelopes[0]).toMatchObject({ seq: delivery.relaySeq, messageId: `${a.conn}:4`, channelId: 10, senderDeviceId: a.device });
    expect(Buffer.from(page.envelopes[0]!.frame)).toEqual(msg);
    expect(await h.relayQueue.depth(a.device)).toBe(0);
    expect(await h.relayQueue.acknowledge(b.device, delivery.relaySeq)).toBe(1);
    expect(await h.relayQueue.depth(b.device)).toBe(0);
  });

  test('to an offline member is queued without a delivery', async () => {
    const { a, b } = await pair(11);
    const from = h.events.length;
    const ack = await request(a.device, a.conn, opaqueFrame(FrameType.Msg, 11, 9, Buffer.from('are you there?')));
    expect(control(ack)).toEqual({ ack: 9 });
    expect(await h.relayQueue.depth(b.device)).toBe(1);
    expect(h.events.slice(from).some((e) => e.kind === 'delivery')).toBe(false);
  });

  test('the same frame handled twice is queued once (the message id is the relay idempotency key)', async () => {
    const { a, b } = await pair(12);
    const msg = opaqueFrame(FrameType.Msg, 12, 5, Buffer.from('once'));
    await request(a.device, a.conn, msg);
    await request(a.device, a.conn, msg);
    expect(await h.relayQueue.depth(b.device)).toBe(1);
  });

  test('idempotent-send: a resend on a new connection is acked again but neither queued nor delivered twice, even after it was acknowledged', async () => {
    const { a, b } = await pair(14);
    await h.online(b.device, b.conn);
    const msg = opaqueFrame(FrameType.Msg, 14, 1_000_001, Buffer.from('exactly once'));
    const from = h.events.length;
    const first = h.events.length;
    h.send(a.device, a.conn, msg, { idempotentSend: true });
    expect(control(await h.replyTo(a.conn, first))).toEqual({ ack: 1_000_001 });
    const delivery = asDelivery(await h.next(deliveryTo(b.device), from));
    expect(delivery.messageId).toBe(`d:${a.device}:1000001`);

    // The Ack was lost with the old connection: the device resends on its new one.
    const again = h.events.length;
    const newConn = newId('conn-a2');
    h.send(a.device, newConn, msg, { idempotentSend: true });
    expect(control(await h.replyTo(newConn, again))).toEqual({ ack: 1_000_001 });
    expect(await h.relayQueue.depth(b.device)).toBe(1);

    // B acknowledged it; a third copy (another reconnect) must not bring it back.
    expect(await h.relayQueue.acknowledge(b.device, delivery.relaySeq)).toBe(1);
    const third = h.events.length;
    const thirdConn = newId('conn-a3');
    h.send(a.device, thirdConn, msg, { idempotentSend: true });
    expect(control(await h.replyTo(thirdConn, third))).toEqual({ ack: 1_000_001 });
    expect(await h.relayQueue.depth(b.device)).toBe(0);
    const deliveries = h.events.slice(from).filter(deliveryTo(b.device)).map(asDelivery);
    // The second copy may repeat the live delivery of the still-queued envelope (same relay seq,
    // which the gateway and a relay-ack client drop); the third delivers nothing.
    expect(new Set(deliveries.map((d) => d.relaySeq))).toEqual(new Set([delivery.relaySeq]));
    expect(h.events.slice(third).some(deliveryTo(b.device))).toBe(false);
  });

  test('without idempotent-send the same sequence on another connection is a new message (the real client restarts its counter)', async () => {
    const { a, b } = await pair(15);
    const msg = opaqueFrame(FrameType.Msg, 15, 3, Buffer.from('hi'));
    await request(a.device, a.conn, msg);
    await request(a.device, newId('conn-a2'), msg);
    expect(await h.relayQueue.depth(b.device)).toBe(2);
  });

  test('from a non-member gets a not_member Error naming the channel, and nothing is queued', async () => {
    const { b } = await pair(13);
    const stranger = newId('dev');
    const reply = await request(stranger, newId('conn'), opaqueFrame(FrameType.Msg, 13, 7, Buffer.from('let me in')));
    expect(reply).toMatchObject({ type: FrameType.Error, channel: 13 });
    expect(control(reply)).toMatchObject({ error: 'not_member', channel: 13 });
    expect((control(reply) as { detail: string }).detail).toContain('channel 13');
    expect(await h.relayQueue.depth(b.device)).toBe(0);
  });

  test('on an unknown channel gets not_member too', async () => {
    const reply = await request(newId('dev'), newId('conn'), opaqueFrame(FrameType.Msg, 999_999, 3, Buffer.from('x')));
    expect(control(reply)).toMatchObject({ error: 'not_member', channel: 999_999 });
  });
});

describe('Leave', () => {
  test('removes only the leaving device; the last one to leave removes the channel', async () => {
    const { a, b } = await pair(20);
    expect(control(await request(a.device, a.conn, controlFrame(FrameType.Leave, 20, 8, {})))).toEqual({ ack: 8 });
    expect(await h.membership.members(20)).toEqual([b.device]);
    // A's messages on the channel are now refused.
    expect(control(await request(a.device, a.conn, opaqueFrame(FrameType.Msg, 20, 9, Buffer.from('x'))))).toMatchObject({ error: 'not_member' });
    expect(control(await request(b.device, b.conn, controlFrame(FrameType.Leave, 20, 4, {})))).toEqual({ ack: 4 });
    const { rows } = await h.db.pool.query('SELECT 1 FROM channel WHERE channel_id = 20');
    expect(rows).toHaveLength(0);
  });
});

describe('Typing', () => {
  test('without a device id is delivered live with `device` filled in (T16), never queued', async () => {
    const { a, b } = await pair(30);
    await h.online(b.device, b.conn);
    const from = h.events.length;
    const ack = await request(a.device, a.conn, controlFrame(FrameType.Typing, 30, 6, { typing: true }));
    expect(control(ack)).toEqual({ ack: 6 });
    const delivery = asDelivery(await h.next(deliveryTo(b.device), from));
    expect(delivery.relaySeq).toBe(0);
    const relayed = decodeFrame(delivery.frame).frame;
    expect(relayed).toMatchObject({ type: FrameType.Typing, channel: 30 });
    expect(control(relayed)).toEqual({ typing: true, device: a.device });
    expect(await h.relayQueue.depth(b.device)).toBe(0);
  });

  test('a payload that is not an object becomes {"device": sender}; a valid one is relayed byte for byte', async () => {
    const { a, b } = await pair(31);
    await h.online(b.device, b.conn);
    let from = h.events.length;
    await request(a.device, a.conn, controlFrame(FrameType.Typing, 31, 7, 'typing'));
    expect(control(decodeFrame(asDelivery(await h.next(deliveryTo(b.device), from)).frame).frame)).toEqual({ device: a.device });

    const valid = encodeFrame(controlFrame(FrameType.Typing, 31, 8, { sender: 'someone', ttl_ms: 1500 }));
    from = h.events.length;
    await request(a.device, a.conn, valid);
    expect(Buffer.from(asDelivery(await h.next(deliveryTo(b.device), from)).frame)).toEqual(valid);
  });

  test('from a non-member gets not_member', async () => {
    const reply = await request(newId('dev'), newId('conn'), controlFrame(FrameType.Typing, 31, 2, { device: 'x' }));
    expect(control(reply)).toMatchObject({ error: 'not_member', channel: 31 });
  });
});

describe('other frames', () => {
  test('an undecodable frame gets a decode Error on channel 0', async () => {
    const reply = await request(newId('dev'), newId('conn'), Buffer.from([0x03, 0xff, 0x00, 0x00]));
    expect(reply).toMatchObject({ type: FrameType.Error, channel: 0 });
    expect(control(reply)).toMatchObject({ error: 'decode' });
  });

  test('a type that is not routed yet gets an unsupported Error', async () => {
    // Media frames (VoiceFrame 0x11) do not go through the router's call signalling.
    const reply = await request(newId('dev'), newId('conn'), opaqueFrame(FrameType.VoiceFrame, 4, 3, Buffer.from('pcm')));
    expect(reply).toMatchObject({ type: FrameType.Error, channel: 4 });
    expect(control(reply)).toEqual({ error: 'unsupported', detail: `${frameTypeLabel(FrameType.VoiceFrame)} is not routed yet`, in_reply_to: 3 });
  });

  test('Hello and Auth after the handshake get no reply', async () => {
    const device = newId('dev'), conn = newId('conn');
    const from = h.events.length;
    h.send(device, conn, controlFrame(FrameType.Hello, 0, 3, {}));
    h.send(device, conn, controlFrame(FrameType.Auth, 0, 4, {}));
    // Frames are handled in order, so the first reply on this connection answers the Leave.
    const reply = await request(device, conn, controlFrame(FrameType.Leave, 9, 5, {}));
    expect(control(reply)).toEqual({ ack: 5 });
    expect(h.events.slice(from).filter((e) => e.kind === 'reply' && e.reply.connectionId === conn)).toHaveLength(1);
  });

  test('frames are counted by type and result', async () => {
    const metrics = await h.registry.metrics();
    expect(metrics).toMatch(/^commucat_router_frames_total\{type="msg",result="ok"\} [1-9]/m);
    expect(metrics).toMatch(/^commucat_router_frames_total\{type="msg",result="not_member"\} [1-9]/m);
    expect(metrics).toMatch(/^commucat_router_frames_total\{type="undecodable",result="decode"\} 1$/m);
    expect(metrics).toMatch(/^commucat_router_frames_total\{type="hello",result="ignored"\} 1$/m);
    expect(metrics).toMatch(/^commucat_router_handle_duration_seconds_count\{type="join"\} [1-9]/m);
  });
});
