import { FrameType, type Frame, type JsonValue } from '@commucat/ccp1';
import { TestFleet } from '../support/fleet';
import { connectPeer, control, expectErrorFrame, freshChannel, Peer } from '../support/conversation';
import { connectTo, newIdentity } from '../support/fleet-client';

// Call signalling through the real fleet (spec calls-media §1–§3): CallOffer/CallAnswer/CallEnd/
// CallStats go client → gateway → router → gateway → client, with the call state in Postgres,
// the ring sweeper, and disconnects learnt from presence. "Nothing else arrived" is proven
// without sleeping: a marker Msg sent afterwards must be the device's very next frame.

jest.setTimeout(60_000);

/** Short enough to wait out, long enough for a whole signalling exchange before it passes. */
const RING_SECONDS = 4;
/** The ring, one sweeper pass (1 s) and slack for a loaded machine. */
const RING_WAIT_MS = RING_SECONDS * 1000 + 8_000;
/** An offline event travels gateway → presence → router; the route check backstop runs every ~10 s. */
const DISCONNECT_WAIT_MS = 15_000;
const AUDIO = { codec: 'opus', bitrate: 16000, sample_rate: 48000, channels: 1 };

let fleet: TestFleet;
const open: Peer[] = [];
beforeAll(async () => {
  fleet = await TestFleet.start({ env: { COMMUCAT_CALL_RING_TIMEOUT_SECONDS: String(RING_SECONDS) } });
}, 120_000);
afterAll(async () => {
  await Promise.allSettled(open.map((p) => p.close()));
  await fleet?.stop();
});

async function device(prefix: string): Promise<Peer> {
  const peer = await connectPeer(fleet, prefix);
  open.push(peer);
  return peer;
}

/** A fresh channel holding exactly `members`, declared in one Join by the first (joins merge). */
async function channelWith(members: Peer[]): Promise<number> {
  const channel = freshChannel();
  const { sequence, answer } = await members[0]!.request(FrameType.Join, channel, { members: members.map((m) => m.deviceId), relay: true });
  expect([answer.type, answer.channel, control(answer)]).toEqual([FrameType.Ack, channel, { ack: sequence }]);
  return channel;
}

let calls = 0;
const newCallId = () => `call-${process.pid}-${Date.now()}-${++calls}`;
const offerOf = (callId: string, caller: Peer): JsonValue => ({ call_id: callId, from: caller.deviceId, to: [], media: { audio: AUDIO } });

/** Sends a call frame and expects the §3.3 Ack `{ack, …extra}` on the same channel. */
async function acked(who: Peer, type: FrameType, channel: number, payload: JsonValue, extra: Record<string, JsonValue>): Promise<void> {
  const { sequence, answer } = await who.request(type, channel, payload);
  expect([answer.type, answer.channel, control(answer)]).toEqual([FrameType.Ack, channel, { ack: sequence, ...extra }]);
}

/** Sends a frame and expects an Error with this code, answering that frame, on the same channel. */
async function refused(who: Peer, type: FrameType, channel: number, payload: JsonValue, code: string): Promise<void> {
  const { sequence, answer } = await who.request(type, channel, payload);
  expectErrorFrame(answer, code);
  expect(answer.channel).toBe(channel);
  expect(control(answer)).toMatchObject({ in_reply_to: sequence });
}

/** The next frame must be `type` on `channel` with exactly this JSON payload. */
async function expectFrame(who: Peer, type: FrameType, channel: number, payload: JsonValue, timeoutMs?: number): Promise<Frame> {
  const frame = await who.expectNext(type, channel, timeoutMs);
  expect(control(frame)).toEqual(payload);
  return frame;
}

/** `from` says a marker that everyone in `to` must see as their very next frame. */
async function marker(from: Peer, channel: number, to: Peer[], label: string): Promise<void> {
  await from.say(channel, label);
  for (const peer of to) await peer.expectText(channel, label);
}

describe('a two-party call', () => {
  test('offer → accept → stats both ways → hang-up; a later CallStats is unknown_call and the connection goes on', async () => {
    const a = await device('call-a');
    const b = await device('call-b');
    const channel = await channelWith([a, b]);
    const callId = newCallId();

    const offer = offerOf(callId, a);
    await acked(a, FrameType.CallOffer, channel, offer, { call_id: callId });
    await expectFrame(b, FrameType.CallOffer, channel, offer);

    const answer = { call_id: callId, accept: true, media: { audio: { ...AUDIO, channels: 2 } } };
    await acked(b, FrameType.CallAnswer, channel, answer, { call_id: callId, accept: true });
    await expectFrame(a, FrameType.CallAnswer, channel, answer);

    const sent = { call_id: callId, direction: 'send', audio: { bitrate: 24000, packet_loss: 0.5, jitter_ms: 12 }, timestamp: Date.now() };
    await acked(a, FrameType.CallStats, channel, sent, { call_id: callId, direction: 'send' });
    await expectFrame(b, FrameType.CallStats, channel, sent);
    const received = { call_id: callId, direction: 'receive', audio: { bitrate: 23000, rtt_ms: 40 } };
    await acked(b, FrameType.CallStats, channel, received, { call_id: callId, direction: 'receive' });
    await expectFrame(a, FrameType.CallStats, channel, received);

    const end = { call_id: callId, reason: 'hangup' };
    await acked(a, FrameType.CallEnd, channel, end, { call_id: callId, reason: 'hangup' });
    await expectFrame(b, FrameType.CallEnd, channel, end);

    // The call is over: B's late stats are refused, B's connection carries on, and A got nothing more.
    await refused(b, FrameType.CallStats, channel, { call_id: callId, direction: 'send', audio: { bitrate: 1000 } }, 'unknown_call');
    await marker(b, channel, [a], 'after the call');
    await marker(a, channel, [b], 'and back');
  });
});

describe('ring timeout', () => {
  test('an offer nobody answers ends for both with CallEnd timeout', async () => {
    const a = await device('ring-a');
    const b = await device('ring-b');
    const channel = await channelWith([a, b]);
    const callId = newCallId();
    const offer = offerOf(callId, a);
    const offeredAt = Date.now();
    await acked(a, FrameType.CallOffer, channel, offer, { call_id: callId });
    await expectFrame(b, FrameType.CallOffer, channel, offer);

    const timeout = { call_id: callId, reason: 'timeout', metadata: { system: true, cause: 'ring_timeout', call_ended: true } };
    await Promise.all([a, b].map((p) => expectFrame(p, FrameType.CallEnd, channel, timeout, RING_WAIT_MS)));
    // Not early: the deadline is set when the router stores the offer, after it was sent (same clock).
    expect(Date.now() - offeredAt).toBeGreaterThanOrEqual(RING_SECONDS * 1000 - 100);
    await refused(b, FrameType.CallAnswer, channel, { call_id: callId, accept: true }, 'unknown_call');
    await marker(b, channel, [a], 'after the timeout');
  });
});

describe('a three-party call', () => {
  test('one callee rejects: only it leaves; the other two talk and hang up normally', async () => {
    const a = await device('trio-a');
    const b = await device('trio-b');
    const c = await device('trio-c');
    const channel = await channelWith([a, b, c]);
    const callId = newCallId();
    const offer = offerOf(callId, a);
    await acked(a, FrameType.CallOffer, channel, offer, { call_id: callId });
    for (const p of [b, c]) await expectFrame(p, FrameType.CallOffer, channel, offer);

    // C's rejection goes to A and B as C wrote it; no CallEnd follows (checked by the next frames in order).
    const reject = { call_id: callId, accept: false, reason: 'decline' };
    await acked(c, FrameType.CallAnswer, channel, reject, { call_id: callId, accept: false, reason: 'decline' });
    for (const p of [a, b]) await expectFrame(p, FrameType.CallAnswer, channel, reject);

    const accept = { call_id: callId, accept: true };
    await acked(b, FrameType.CallAnswer, channel, accept, { call_id: callId, accept: true });
    await expectFrame(a, FrameType.CallAnswer, channel, accept);

    const stats = { call_id: callId, direction: 'send', audio: { bitrate: 16000 } };
    await acked(a, FrameType.CallStats, channel, stats, { call_id: callId, direction: 'send' });
    await expectFrame(b, FrameType.CallStats, channel, stats);
    const back = { call_id: callId, direction: 'receive', audio: { bitrate: 15000 } };
    await acked(b, FrameType.CallStats, channel, back, { call_id: callId, direction: 'receive' });
    await expectFrame(a, FrameType.CallStats, channel, back);

    // C is out: it cannot act on the call any more.
    await refused(c, FrameType.CallAnswer, channel, accept, 'not_participant');

    const end = { call_id: callId, reason: 'hangup' };
    await acked(b, FrameType.CallEnd, channel, end, { call_id: callId, reason: 'hangup' });
    await expectFrame(a, FrameType.CallEnd, channel, end);

    // Nothing of the call after its rejection reached C, and nothing else reached A or B.
    await marker(a, channel, [b, c], 'after the trio');
  });
});

describe('disconnect mid-call', () => {
  test('the callee\'s connection closes: the caller gets the synthetic CallEnd failure naming it', async () => {
    const a = await device('drop-a');
    const b = await device('drop-b');
    const channel = await channelWith([a, b]);
    const callId = newCallId();
    const offer = offerOf(callId, a);
    await acked(a, FrameType.CallOffer, channel, offer, { call_id: callId });
    await expectFrame(b, FrameType.CallOffer, channel, offer);
    await acked(b, FrameType.CallAnswer, channel, { call_id: callId, accept: true }, { call_id: callId, accept: true });
    await expectFrame(a, FrameType.CallAnswer, channel, { call_id: callId, accept: true });

    await b.close();
    await expectFrame(a, FrameType.CallEnd, channel, {
      call_id: callId, reason: 'failure', metadata: { system: true, cause: 'disconnect', device: b.deviceId, call_ended: true },
    }, DISCONNECT_WAIT_MS);
    // The call ended with B's departure: A's hang-up now is acknowledged and goes nowhere.
    await acked(a, FrameType.CallEnd, channel, { call_id: callId, reason: 'hangup' }, { call_id: callId, reason: 'hangup' });
  });
});

describe('offline callees', () => {
  test('one back before the ring deadline gets the offer; one back after it finds no stale CallOffer in its inbox', async () => {
    const a = await device('late-a');
    const early = newIdentity('early-c');
    const late = newIdentity('late-b');
    // Both exist (they connected once) and are offline when the call comes.
    for (const identity of [early, late]) await (await connectTo(fleet, identity)).close();
    const channel = freshChannel();
    const joined = await a.request(FrameType.Join, channel, { members: [a.deviceId, early.deviceId, late.deviceId], relay: true });
    expect(control(joined.answer)).toEqual({ ack: joined.sequence });
    const isMsgOrCall = (f: Frame) => f.type === FrameType.Msg || (f.type >= FrameType.CallOffer && f.type <= FrameType.TransportUpdate);

    const callId = newCallId();
    const offer = offerOf(callId, a);
    await acked(a, FrameType.CallOffer, channel, offer, { call_id: callId });
    // Back while the call rings: the queued offer is in the inbox.
    const c = new Peer(await connectTo(fleet, early), early);
    open.push(c);
    const offered = await c.nextMatching(isMsgOrCall, 'the queued CallOffer');
    expect([FrameType[offered.type], offered.channel, control(offered)]).toEqual(['CallOffer', channel, offer]);

    // Nobody answers; the timeout reaching A proves the deadline has passed.
    const timeout = { call_id: callId, reason: 'timeout', metadata: { system: true, cause: 'ring_timeout', call_ended: true } };
    await Promise.all([a, c].map((p) => expectFrame(p, FrameType.CallEnd, channel, timeout, RING_WAIT_MS)));
    await a.say(channel, 'marker after the deadline');
    await c.expectText(channel, 'marker after the deadline');

    // Back after the deadline: neither the offer nor the CallEnd, the marker is its first Msg or call frame.
    const b = new Peer(await connectTo(fleet, late), late);
    open.push(b);
    const first = await b.nextMatching(isMsgOrCall, 'the marker');
    expect([FrameType[first.type], first.channel, first.payload.kind === 'opaque' ? Buffer.from(first.payload.bytes).toString() : control(first)])
      .toEqual(['Msg', channel, 'marker after the deadline']);
    // And B, now online, can talk on the channel.
    await marker(b, channel, [a, c], 'b is back');
  });
});

describe('bad input: Error frames with stable codes, and the connection goes on', () => {
  test('empty call_id, duplicate call_id, offer on a channel not joined, answer from a non-participant', async () => {
    const a = await device('bad-a');
    const b = await device('bad-b');
    const outsider = await device('bad-x');
    const channel = await channelWith([a, b]);

    await refused(a, FrameType.CallOffer, channel, { call_id: '', from: a.deviceId, to: [] }, 'invalid');
    await marker(a, channel, [b], 'after an empty call_id');

    const callId = newCallId();
    const offer = offerOf(callId, a);
    await acked(a, FrameType.CallOffer, channel, offer, { call_id: callId });
    await expectFrame(b, FrameType.CallOffer, channel, offer);
    await refused(a, FrameType.CallOffer, channel, offer, 'call_exists');
    // The refused duplicate reached nobody: B's next frame is the marker.
    await marker(a, channel, [b], 'after a duplicate call_id');

    await refused(outsider, FrameType.CallOffer, channel, offerOf(newCallId(), outsider), 'not_member');
    // Joining now makes the outsider a member of the channel, but not a participant of the call
    // (participants are the members at offer time).
    const joined = await outsider.request(FrameType.Join, channel, { members: [outsider.deviceId], relay: true });
    expect(control(joined.answer)).toEqual({ ack: joined.sequence });
    await refused(outsider, FrameType.CallAnswer, channel, { call_id: callId, accept: true }, 'not_participant');
    await marker(outsider, channel, [a, b], 'the outsider is still connected');

    // None of it touched the call: B can still answer it, and A hears of it.
    await acked(b, FrameType.CallAnswer, channel, { call_id: callId, accept: true }, { call_id: callId, accept: true });
    await expectFrame(a, FrameType.CallAnswer, channel, { call_id: callId, accept: true });
    await acked(a, FrameType.CallEnd, channel, { call_id: callId, reason: 'hangup' }, { call_id: callId, reason: 'hangup' });
    await expectFrame(b, FrameType.CallEnd, channel, { call_id: callId, reason: 'hangup' });
  });
});
