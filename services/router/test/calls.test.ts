import { controlFrame, decodeFrame, encodeFrame, FrameType, type Frame, type JsonValue } from '@commucat/ccp1';
import type { Delivery } from '@commucat/contracts';
import { newId, RouterHarness, type GatewayEvent } from './support/router-harness';

jest.setTimeout(30_000);

/** Short enough for the tests to wait it out, long enough for a few frames before it passes. */
const RING_SECONDS = 4;
const MAX_PARTICIPANTS = 3;
/** How long a test waits for a ring timeout to be announced (the ring plus generous slack on a busy machine). */
const RING_WAIT_MS = RING_SECONDS * 1000 + 6_000;

let h: RouterHarness;
beforeAll(async () => {
  h = await RouterHarness.start({ ringTimeoutSeconds: RING_SECONDS, maxParticipants: MAX_PARTICIPANTS, sweepIntervalMs: 100 });
  await h.ready();
});
afterAll(() => h?.stop());

interface Device { readonly device: string; readonly conn: string }

const control = (f: Frame): JsonValue => (f.payload.kind === 'control' ? f.payload.value : null);
const asDelivery = (e: GatewayEvent): Delivery => (e as Extract<GatewayEvent, { kind: 'delivery' }>).delivery;
const deliveredFrame = (e: GatewayEvent): Frame => decodeFrame(asDelivery(e).frame).frame;
const AUDIO = { codec: 'opus', bitrate: 16000, sample_rate: 48000, channels: 1 };
let nextChannel = 500;
let seq = 10;

async function request(who: Device, frame: Frame): Promise<Frame> {
  const from = h.events.length;
  h.send(who.device, who.conn, frame);
  return h.replyTo(who.conn, from);
}

/** The next delivery of a frame of `type` to `who` after event index `from`. */
async function deliveryTo(who: Device, type: FrameType, from: number): Promise<{ frame: Frame; delivery: Delivery }> {
  const event = await h.next((e) => e.kind === 'delivery' && e.delivery.deviceId === who.device && decodeFrame(e.delivery.frame).frame.type === type, from);
  return { frame: deliveredFrame(event), delivery: asDelivery(event) };
}

/** Devices joined to a fresh channel, each declaring only itself; online unless listed in `offline`. */
async function channelOf(count: number, offline: number[] = []): Promise<{ channel: number; devices: Device[] }> {
  const channel = nextChannel++;
  const devices: Device[] = [];
  for (let i = 0; i < count; i++) {
    const who = { device: newId(`dev${i}`), conn: newId(`conn${i}`) };
    expect(control(await request(who, controlFrame(FrameType.Join, channel, seq++, { members: [who.device] })))).toMatchObject({ ack: expect.any(Number) });
    if (!offline.includes(i)) await h.online(who.device, who.conn);
    devices.push(who);
  }
  return { channel, devices };
}

const offerFrame = (channel: number, callId: string, caller: Device) =>
  controlFrame(FrameType.CallOffer, channel, seq++, { call_id: callId, from: caller.device, to: [], media: { audio: AUDIO } });
const answerFrame = (channel: number, callId: string, accept: boolean, extra: Record<string, JsonValue> = {}) =>
  controlFrame(FrameType.CallAnswer, channel, seq++, { call_id: callId, accept, ...extra });
const endFrame = (channel: number, callId: string, reason = 'hangup') => controlFrame(FrameType.CallEnd, channel, seq++, { call_id: callId, reason });

async function offer(channel: number, caller: Device): Promise<string> {
  const callId = newId('call');
  const frame = offerFrame(channel, callId, caller);
  const reply = await request(caller, frame);
  expect(control(reply)).toEqual({ ack: frame.sequence, call_id: callId });
  return callId;
}

async function states(callId: string): Promise<Record<string, string>> {
  const call = await h.calls.get(callId);
  return Object.fromEntries(call!.participants);
}

async function endOf(callId: string): Promise<{ ended_at: Date | null; end_reason: string | null }> {
  const { rows } = await h.db.pool.query('SELECT ended_at, end_reason FROM call_session WHERE call_id = $1', [callId]);
  return rows[0];
}

describe('metrics', () => {
  test('commucat_calls_total counts offers and commucat_calls_active reads the live calls', async () => {
    const total = async () => (await h.registry.getSingleMetric('commucat_calls_total')!.get()).values[0]!.value;
    const active = async () => (await h.registry.getSingleMetric('commucat_calls_active')!.get()).values[0]!.value;
    const { channel, devices: [a, b] } = await channelOf(2);
    const totalBefore = await total();
    const callId = await offer(channel, a!);
    expect(await total()).toBe(totalBefore + 1);
    expect(await active()).toBe(await h.calls.countActive());
    const activeWithCall = await active();
    await request(b!, answerFrame(channel, callId, false));
    expect(await h.calls.countActive()).toBe(activeWithCall - 1);
  });
});

describe('a two-party call', () => {
  test('offer → answer → stats → end: forwarded as sent, acknowledged as in §3.3, state in Postgres', async () => {
    const { channel, devices: [a, b] } = await channelOf(2);
    const callId = newId('call');
    const offerSent = offerFrame(channel, callId, a!);
    let from = h.events.length;
    expect(control(await request(a!, offerSent))).toEqual({ ack: offerSent.sequence, call_id: callId });
    const offered = await deliveryTo(b!, FrameType.CallOffer, from);
    expect(Buffer.from(offered.delivery.frame)).toEqual(encodeFrame(offerSent));
    // Queued while it rings, with an expiry no later than the ring deadline.
    expect(offered.delivery.relaySeq).toBeGreaterThan(0);
    const call = await h.calls.get(callId);
    const [queued] = (await h.relayQueue.drain(b!.device)).envelopes;
    expect(queued!.expiresAt.getTime()).toBeLessThanOrEqual(call!.ringDeadline.getTime());
    expect(await states(callId)).toEqual({ [a!.device]: 'accepted', [b!.device]: 'invited' });

    from = h.events.length;
    const answer = answerFrame(channel, callId, true, { media: { audio: { ...AUDIO, channels: 2 } } });
    expect(control(await request(b!, answer))).toEqual({ ack: answer.sequence, call_id: callId, accept: true });
    expect(control((await deliveryTo(a!, FrameType.CallAnswer, from)).frame)).toEqual(control(answer));
    expect(await states(callId)).toEqual({ [a!.device]: 'accepted', [b!.device]: 'accepted' });
    const { rows: [session] } = await h.db.pool.query('SELECT media_json FROM call_session WHERE call_id = $1', [callId]);
    expect(JSON.parse(session.media_json)).toEqual({ audio: { ...AUDIO, channels: 2 } });

    from = h.events.length;
    const stats = controlFrame(FrameType.CallStats, channel, seq++, { call_id: callId, direction: 'send', audio: { bitrate: 24000 } });
    expect(control(await request(a!, stats))).toEqual({ ack: stats.sequence, call_id: callId, direction: 'send' });
    // Stats are telemetry: live only (relay seq 0), and the latest per device and direction is kept.
    expect((await deliveryTo(b!, FrameType.CallStats, from)).delivery.relaySeq).toBe(0);
    const stats2 = controlFrame(FrameType.CallStats, channel, seq++, { call_id: callId, direction: 'send', audio: { bitrate: 20000 } });
    await request(a!, stats2);
    expect(JSON.parse((await h.calls.reports(callId)).get(a!.device)!.get('stats:send')!)).toMatchObject({ audio: { bitrate: 20000 } });

    from = h.events.length;
    const end = endFrame(channel, callId);
    expect(control(await request(a!, end))).toEqual({ ack: end.sequence, call_id: callId, reason: 'hangup' });
    expect(control((await deliveryTo(b!, FrameType.CallEnd, from)).frame)).toEqual({ call_id: callId, reason: 'hangup' });
    expect(await endOf(callId)).toMatchObject({ ended_at: expect.any(Date), end_reason: 'hangup' });
    expect(await states(callId)).toEqual({ [a!.device]: 'left', [b!.device]: 'accepted' });

    // Hanging up an ended call (both sides at once) is acknowledged, not an error.
    const late = endFrame(channel, callId);
    expect(control(await request(b!, late))).toEqual({ ack: late.sequence, call_id: callId, reason: 'hangup' });
    // Anything else on it is unknown_call.
    expect(control(await request(b!, answerFrame(channel, callId, true)))).toMatchObject({ error: 'unknown_call' });
    // The media service heard that b joined (a keyframe for it) and that the call ended (close encoders).
    expect(h.mediaSignals.filter((m) => m.callId === callId)).toEqual([{ signal: 'joined', callId }, { signal: 'ended', callId }]);
  });

  test('a rejection ends the call for both: the caller gets the answer and a CallEnd', async () => {
    const { channel, devices: [a, b] } = await channelOf(2);
    const callId = await offer(channel, a!);
    const from = h.events.length;
    const reject = answerFrame(channel, callId, false, { reason: 'busy' });
    expect(control(await request(b!, reject))).toEqual({ ack: reject.sequence, call_id: callId, accept: false, reason: 'busy' });
    expect(control((await deliveryTo(a!, FrameType.CallAnswer, from)).frame)).toEqual(control(reject));
    expect(control((await deliveryTo(a!, FrameType.CallEnd, from)).frame)).toEqual({
      call_id: callId, reason: 'hangup', metadata: { system: true, cause: 'rejected', device: b!.device, call_ended: true },
    });
    expect(await endOf(callId)).toMatchObject({ ended_at: expect.any(Date), end_reason: 'rejected' });
  });
});

describe('a three-party call', () => {
  test('one rejection takes only that device out; the call goes on for the other two', async () => {
    const { channel, devices: [a, b, c] } = await channelOf(3);
    const callId = await offer(channel, a!);
    let from = h.events.length;
    await request(b!, answerFrame(channel, callId, false, { reason: 'decline' }));
    expect((await deliveryTo(a!, FrameType.CallAnswer, from)).frame.type).toBe(FrameType.CallAnswer);
    await deliveryTo(c!, FrameType.CallAnswer, from);
    expect(await states(callId)).toEqual({ [a!.device]: 'accepted', [b!.device]: 'rejected', [c!.device]: 'invited' });
    expect((await endOf(callId)).ended_at).toBeNull();

    from = h.events.length;
    const accept = answerFrame(channel, callId, true);
    expect(control(await request(c!, accept))).toMatchObject({ accept: true });
    await deliveryTo(a!, FrameType.CallAnswer, from);
    // The rejecter is out: nothing of the call reaches it, and it cannot act on it any more.
    expect(h.events.slice(from).some((e) => e.kind === 'delivery' && e.delivery.deviceId === b!.device)).toBe(false);
    expect(control(await request(b!, answerFrame(channel, callId, true)))).toMatchObject({ error: 'not_participant' });
    expect(await states(callId)).toEqual({ [a!.device]: 'accepted', [b!.device]: 'rejected', [c!.device]: 'accepted' });
    expect((await endOf(callId)).ended_at).toBeNull();
  });

  test('the second rejection leaves one participant, which ends the call for everyone', async () => {
    const { channel, devices: [a, b, c] } = await channelOf(3);
    const callId = await offer(channel, a!);
    await request(b!, answerFrame(channel, callId, false));
    const from = h.events.length;
    await request(c!, answerFrame(channel, callId, false));
    expect(control((await deliveryTo(a!, FrameType.CallEnd, from)).frame)).toMatchObject({
      call_id: callId, metadata: { cause: 'rejected', device: c!.device, call_ended: true },
    });
    expect(await endOf(callId)).toMatchObject({ ended_at: expect.any(Date), end_reason: 'rejected' });
  });

  test('the offerer cancelling while everyone still rings ends the call', async () => {
    const { channel, devices: [a, b, c] } = await channelOf(3);
    const callId = await offer(channel, a!);
    const from = h.events.length;
    await request(a!, endFrame(channel, callId, 'cancel'));
    expect(control((await deliveryTo(b!, FrameType.CallEnd, from)).frame)).toEqual({ call_id: callId, reason: 'cancel' });
    await deliveryTo(c!, FrameType.CallEnd, from);
    expect(await endOf(callId)).toMatchObject({ end_reason: 'cancel' });
  });
});

describe('ring timeout', () => {
  test('a call nobody answers ends with CallEnd timeout to every participant', async () => {
    const { channel, devices: [a, b] } = await channelOf(2);
    const from = h.events.length;
    const callId = await offer(channel, a!);
    const expected = { call_id: callId, reason: 'timeout', metadata: { system: true, cause: 'ring_timeout', call_ended: true } };
    const [toA, toB] = await Promise.all([a!, b!].map((who) =>
      h.next((e) => e.kind === 'delivery' && e.delivery.deviceId === who.device && deliveredFrame(e).type === FrameType.CallEnd, from, RING_WAIT_MS)));
    expect(control(deliveredFrame(toA!))).toEqual(expected);
    expect(control(deliveredFrame(toB!))).toEqual(expected);
    const end = await endOf(callId);
    expect(end.end_reason).toBe('timeout');
    const call = await h.calls.get(callId);
    expect(end.ended_at!.getTime()).toBeGreaterThanOrEqual(call!.ringDeadline.getTime());
    expect(await states(callId)).toEqual({ [a!.device]: 'accepted', [b!.device]: 'missed' });
    expect(control(await request(b!, answerFrame(channel, callId, true)))).toMatchObject({ error: 'unknown_call' });
  });

  test('once someone accepted, the deadline only drops the devices still ringing', async () => {
    const { channel, devices: [a, b, c] } = await channelOf(3);
    const callId = await offer(channel, a!);
    await request(b!, answerFrame(channel, callId, true));
    const from = h.events.length;
    const missed = await h.next((e) => e.kind === 'delivery' && e.delivery.deviceId === c!.device && deliveredFrame(e).type === FrameType.CallEnd, from, RING_WAIT_MS);
    expect(control(deliveredFrame(missed))).toEqual({
      call_id: callId, reason: 'timeout', metadata: { system: true, cause: 'ring_timeout', call_ended: false },
    });
    expect(await states(callId)).toEqual({ [a!.device]: 'accepted', [b!.device]: 'accepted', [c!.device]: 'missed' });
    expect((await endOf(callId)).ended_at).toBeNull();
    expect(h.events.slice(from).some((e) => e.kind === 'delivery' && [a!.device, b!.device].includes(e.delivery.deviceId))).toBe(false);
  });

  test('an offer queued for an offline device expires at the ring deadline: a later drain gets nothing of the call', async () => {
    const { channel, devices: [a, b] } = await channelOf(2, [1]);
    const callId = await offer(channel, a!);
    // Before the deadline a reconnecting device would find the offer in its inbox…
    const before = await h.relayQueue.drain(b!.device);
    expect(before.envelopes.map((e) => decodeFrame(e.frame).frame.type)).toEqual([FrameType.CallOffer]);
    const deadline = (await h.calls.get(callId))!.ringDeadline.getTime();
    await h.next((e) => e.kind === 'delivery' && e.delivery.deviceId === a!.device && deliveredFrame(e).type === FrameType.CallEnd, 0, RING_WAIT_MS);
    expect(Date.now()).toBeGreaterThanOrEqual(deadline);
    // …after it, nothing: neither the offer nor the timeout CallEnd (sent live only).
    expect((await h.relayQueue.drain(b!.device)).envelopes).toEqual([]);
  });

  test('a device that comes back before the deadline finds the offer and the CallEnd of a call cancelled meanwhile', async () => {
    const { channel, devices: [a, b] } = await channelOf(2, [1]);
    const callId = await offer(channel, a!);
    await request(a!, endFrame(channel, callId, 'cancel'));
    const inbox = (await h.relayQueue.drain(b!.device)).envelopes.map((e) => decodeFrame(e.frame).frame);
    expect(inbox.map((f) => [f.type, (control(f) as { call_id: string }).call_id])).toEqual([[FrameType.CallOffer, callId], [FrameType.CallEnd, callId]]);
  });
});

describe('disconnect', () => {
  test('a participant going offline mid-call sends the synthetic CallEnd failure and ends a two-party call', async () => {
    const { channel, devices: [a, b] } = await channelOf(2);
    const callId = await offer(channel, a!);
    await request(b!, answerFrame(channel, callId, true));
    const from = h.events.length;
    await h.offline(b!.device, b!.conn);
    expect(control((await deliveryTo(a!, FrameType.CallEnd, from)).frame)).toEqual({
      call_id: callId, reason: 'failure', metadata: { system: true, cause: 'disconnect', device: b!.device, call_ended: true },
    });
    expect(await endOf(callId)).toMatchObject({ ended_at: expect.any(Date), end_reason: 'disconnect' });
    // The same event again (redelivery) finds nothing left to do.
    expect(await h.calls.disconnect(b!.device, b!.conn)).toEqual([]);
  });

  test('in a three-party call the other two go on; a disconnect of another connection of the device changes nothing', async () => {
    const { channel, devices: [a, b, c] } = await channelOf(3);
    const callId = await offer(channel, a!);
    await request(b!, answerFrame(channel, callId, true));
    await request(c!, answerFrame(channel, callId, true));
    expect(await h.calls.disconnect(c!.device, newId('old-conn'))).toEqual([]);
    const from = h.events.length;
    await h.offline(c!.device, c!.conn);
    const expected = { call_id: callId, reason: 'failure', metadata: { system: true, cause: 'disconnect', device: c!.device, call_ended: false } };
    expect(control((await deliveryTo(a!, FrameType.CallEnd, from)).frame)).toEqual(expected);
    expect(control((await deliveryTo(b!, FrameType.CallEnd, from)).frame)).toEqual(expected);
    expect(await states(callId)).toEqual({ [a!.device]: 'accepted', [b!.device]: 'accepted', [c!.device]: 'left' });
    expect((await endOf(callId)).ended_at).toBeNull();
  });
});

describe('lost disconnects (no offline event)', () => {
  test('a connection whose route expired is found by the sweeper and handled as a disconnect', async () => {
    const { channel, devices: [a, b] } = await channelOf(2);
    const callId = await offer(channel, a!);
    await request(b!, answerFrame(channel, callId, true));
    const from = h.events.length;
    const [route] = await h.routes.lookup([b!.device]);
    await h.routes.remove(route!, b!.conn);
    expect(control((await deliveryTo(a!, FrameType.CallEnd, from)).frame)).toEqual({
      call_id: callId, reason: 'failure', metadata: { system: true, cause: 'disconnect', device: b!.device, call_ended: true },
    });
    expect(await endOf(callId)).toMatchObject({ end_reason: 'disconnect' });
  });

  test('a device that reconnected elsewhere (route taken over) leaves the call of its old connection', async () => {
    const { channel, devices: [a, b, c] } = await channelOf(3);
    const callId = await offer(channel, a!);
    await request(b!, answerFrame(channel, callId, true));
    await request(c!, answerFrame(channel, callId, true));
    const from = h.events.length;
    await h.online(b!.device, newId('conn-new'));
    expect(control((await deliveryTo(a!, FrameType.CallEnd, from)).frame)).toMatchObject({ metadata: { cause: 'disconnect', device: b!.device, call_ended: false } });
    expect(await states(callId)).toEqual({ [a!.device]: 'accepted', [b!.device]: 'left', [c!.device]: 'accepted' });
  });
});

describe('transport updates', () => {
  test('are forwarded, acknowledged with their kind, and consent_keepalive patches the call transport', async () => {
    const { channel, devices: [a, b] } = await channelOf(2);
    const callId = await offer(channel, a!);
    const from = h.events.length;
    const update = controlFrame(FrameType.TransportUpdate, channel, seq++, { call_id: callId, update: 'consent_keepalive', interval_secs: 15 });
    expect(control(await request(b!, update))).toEqual({ ack: update.sequence, call_id: callId, update: 'consent_keepalive' });
    expect(control((await deliveryTo(a!, FrameType.TransportUpdate, from)).frame)).toEqual(control(update));
    const { rows: [session] } = await h.db.pool.query('SELECT transport_json FROM call_session WHERE call_id = $1', [callId]);
    expect(JSON.parse(session.transport_json)).toEqual({ consent_interval_secs: 15 });
  });
});

describe('errors are Error frames and the connection goes on', () => {
  test('every call error code, each followed by a frame on the same connection that is handled', async () => {
    const { channel, devices: [a, b] } = await channelOf(2);
    const outsider = { device: newId('outsider'), conn: newId('conn-out') };
    const callId = await offer(channel, a!);
    const cases: Array<[Device, Frame, string]> = [
      [a!, controlFrame(FrameType.CallOffer, channel, seq++, ['not', 'an', 'object']), 'invalid'],
      [a!, controlFrame(FrameType.CallOffer, channel, seq++, { call_id: newId('c'), from: 'x', to: [], media: { audio: { ...AUDIO, sample_rate: 44100 } } }), 'invalid'],
      [a!, offerFrame(channel, callId, a!), 'call_exists'],
      [outsider, offerFrame(channel, newId('call'), outsider), 'not_member'],
      [b!, answerFrame(channel, newId('no-such-call'), true), 'unknown_call'],
      [outsider, answerFrame(channel, callId, true), 'not_participant'],
      [outsider, controlFrame(FrameType.CallStats, channel, seq++, { call_id: callId, direction: 'send' }), 'not_participant'],
      [a!, answerFrame(channel, callId, true), 'invalid'],
      [b!, controlFrame(FrameType.CallEnd, channel, seq++, { call_id: callId, reason: 'rejected' }), 'invalid'],
      [b!, controlFrame(FrameType.TransportUpdate, channel, seq++, { call_id: callId, update: 'candidate', candidate: { address: 'x', port: 70000 } }), 'invalid'],
      [b!, endFrame(channel, newId('no-such-call')), 'unknown_call'],
    ];
    for (const [who, frame, code] of cases) {
      const reply = await request(who, frame);
      expect([frame.type, reply.type, control(reply)]).toEqual([frame.type, FrameType.Error, expect.objectContaining({ error: code, in_reply_to: frame.sequence })]);
      expect(reply.channel).toBe(channel);
    }
    // The connections still work: B answers the call that all of this left untouched.
    expect(control(await request(b!, answerFrame(channel, callId, true)))).toMatchObject({ accept: true });
    expect(await states(callId)).toEqual({ [a!.device]: 'accepted', [b!.device]: 'accepted' });
  });

  test(`a channel with more than ${MAX_PARTICIPANTS} members gets call_full and no call`, async () => {
    const { channel, devices } = await channelOf(MAX_PARTICIPANTS + 1);
    const callId = newId('call');
    const reply = await request(devices[0]!, offerFrame(channel, callId, devices[0]!));
    expect(control(reply)).toMatchObject({ error: 'call_full' });
    expect(await h.calls.get(callId)).toBeUndefined();
  });

  test('an offer on a channel with nobody else to call is invalid', async () => {
    const { channel, devices: [a] } = await channelOf(1);
    expect(control(await request(a!, offerFrame(channel, newId('call'), a!)))).toMatchObject({ error: 'invalid' });
  });
});

