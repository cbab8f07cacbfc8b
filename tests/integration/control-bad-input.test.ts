import { FrameType, type Frame, type JsonValue } from '@commucat/ccp1';
import { TestFleet } from '../support/fleet';
import { Peer, connectPeer, control, expectErrorFrame, freshChannel, text } from '../support/conversation';

// Bad post-handshake control frames (spec ccp1-wire §7.3–§7.12): each gets its answer (an Error
// with a stable `error` code, or what the spec says for a tolerated field), nothing leaks to other
// members, the SAME connection carries on, and a bystander pair in another channel keeps chatting.
// The reference closes silently on most of these (§7.1, T15); the fleet answers and stays open.

jest.setTimeout(180_000);
let fleet: TestFleet;
let bystanderA: Peer;
let bystanderB: Peer;
let bystanderChannel: number;
let roundTrips = 0;

beforeAll(async () => {
  fleet = await TestFleet.start({ gateways: 2 });
  bystanderA = await connectPeer(fleet, 'bystander-a', 0);
  bystanderB = await connectPeer(fleet, 'bystander-b', 1);
  bystanderChannel = freshChannel();
  await bystanderA.join(bystanderChannel);
  await bystanderB.join(bystanderChannel);
});
afterAll(async () => {
  await Promise.allSettled([bystanderA?.close(), bystanderB?.close()]);
  await fleet?.stop();
});

/** The bystanders exchange one message each way; their streams hold nothing else. */
async function bystandersStillChat(): Promise<void> {
  roundTrips += 1;
  await bystanderA.say(bystanderChannel, `ping ${roundTrips}`);
  await bystanderB.expectText(bystanderChannel, `ping ${roundTrips}`);
  await bystanderB.say(bystanderChannel, `pong ${roundTrips}`);
  await bystanderA.expectText(bystanderChannel, `pong ${roundTrips}`);
}

/** Where a case's frame goes: the sender's own channel (shared with a partner), a channel nobody joined, or channel 0. */
type Target = 'own' | 'unknown' | 'zero';

/** What the sender must get back for the frame. */
type Expected =
  | { error: string }
  /** An Ack `{"ack": seq, ...extra}`: the spec tolerates the odd field (the named value is then ignored). */
  | { ack: Record<string, unknown> }
  /** No answer at all (Presence is never acknowledged, spec §7.8). */
  | 'silent';

interface Case {
  name: string;
  type: FrameType;
  target: Target;
  /** A JSON value, or raw bytes sent as the payload of the control type. */
  payload: { json: JsonValue } | { bytes: Buffer };
  expected: Expected;
  /** What the partner (the other member of the sender's channel) must receive because of it, in order. */
  partnerGets?: (sender: Peer, partner: Peer, channel: number) => Promise<void>;
}

const NOT_JSON = Buffer.from('{"members":[not json');
const NO_SUCH_GROUP = 'group-that-was-never-created';

/** (a) A control type whose payload is not JSON at all: the frame itself is well delimited. */
const notJsonCases: Case[] = ([
  ['Join', FrameType.Join], ['Leave', FrameType.Leave], ['Typing', FrameType.Typing], ['Presence', FrameType.Presence],
  ['KeyUpdate', FrameType.KeyUpdate], ['GroupCreate', FrameType.GroupCreate], ['GroupInvite', FrameType.GroupInvite], ['GroupEvent', FrameType.GroupEvent],
] as const).map(([name, type]) => ({ name: `${name} with a payload that is not JSON`, type, target: 'own', payload: { bytes: NOT_JSON }, expected: { error: 'decode' } }));

/** (b) JSON of the wrong shape or with fields of the wrong type. */
const wrongTypeCases: Case[] = [
  { name: 'Join whose payload is an array', type: FrameType.Join, target: 'own', payload: { json: ['members'] }, expected: { error: 'invalid' } },
  { name: 'Join with group_id ""', type: FrameType.Join, target: 'unknown', payload: { json: { group_id: '' } }, expected: { error: 'invalid' } },
  // §7.3: members that are not a string array and a relay that is not a bool are ignored.
  { name: 'Join with members: 5 and relay: "yes"', type: FrameType.Join, target: 'unknown', payload: { json: { members: 5, relay: 'yes' } }, expected: { ack: {} } },
  // A group_id that is not a string names no group: a plain Join, as in the reference.
  { name: 'Join with group_id: 7', type: FrameType.Join, target: 'unknown', payload: { json: { group_id: 7, members: [] } }, expected: { ack: {} } },
  { name: 'Leave with a number payload', type: FrameType.Leave, target: 'unknown', payload: { json: 5 }, expected: { ack: {} } },
  {
    // T16: the router fills in the sender's device id so the partner's client does not exit.
    name: 'Typing with device: [] and typing: "yes"', type: FrameType.Typing, target: 'own', payload: { json: { device: [], typing: 'yes' } }, expected: { ack: {} },
    partnerGets: async (sender, partner, channel) => {
      expect(control(await partner.expectNext(FrameType.Typing, channel))).toEqual({ device: sender.deviceId, typing: 'yes' });
    },
  },
  {
    name: 'Typing whose payload is a number', type: FrameType.Typing, target: 'own', payload: { json: 5 }, expected: { ack: {} },
    partnerGets: async (sender, partner, channel) => {
      expect(control(await partner.expectNext(FrameType.Typing, channel))).toEqual({ device: sender.deviceId });
    },
  },
  { name: 'Presence whose payload is an array', type: FrameType.Presence, target: 'zero', payload: { json: ['away'] }, expected: { error: 'invalid' } },
  { name: 'Presence with state ""', type: FrameType.Presence, target: 'zero', payload: { json: { state: '' } }, expected: { error: 'invalid' } },
  { name: 'Presence with a 65-character state', type: FrameType.Presence, target: 'zero', payload: { json: { state: 'x'.repeat(65) } }, expected: { error: 'invalid' } },
  {
    // §7.8: state defaults to online; the co-member hears it, with the entity its client needs.
    name: 'Presence with state: 5', type: FrameType.Presence, target: 'zero', payload: { json: { state: 5 } }, expected: 'silent',
    partnerGets: async (sender, partner) => {
      expect(control(await partner.expectNext(FrameType.Presence, 0))).toMatchObject({ entity: sender.deviceId, state: 'online' });
    },
  },
  { name: 'KeyUpdate whose payload is a string', type: FrameType.KeyUpdate, target: 'own', payload: { json: 'rotate' }, expected: { error: 'invalid' } },
  { name: 'KeyUpdate whose payload is an array', type: FrameType.KeyUpdate, target: 'own', payload: { json: [1, 2] }, expected: { error: 'invalid' } },
  { name: 'GroupCreate with group_id: 7 and members: 5', type: FrameType.GroupCreate, target: 'unknown', payload: { json: { group_id: 7, members: 5 } }, expected: { error: 'invalid' } },
  { name: 'GroupCreate whose payload is null', type: FrameType.GroupCreate, target: 'unknown', payload: { json: null }, expected: { error: 'invalid' } },
  // §7.10: members that are not an array are ignored and a missing group_id is made up.
  { name: 'GroupCreate with members: 5 and roles: []', type: FrameType.GroupCreate, target: 'unknown', payload: { json: { members: 5, roles: [] } }, expected: { ack: { group_id: expect.any(String) } } },
  { name: 'GroupInvite with group_id: 7 and device: []', type: FrameType.GroupInvite, target: 'own', payload: { json: { device: [], group_id: 7 } }, expected: { error: 'invalid' } },
  { name: 'GroupInvite without device', type: FrameType.GroupInvite, target: 'own', payload: { json: { group_id: NO_SUCH_GROUP } }, expected: { error: 'invalid' } },
  { name: 'GroupInvite whose payload is a string', type: FrameType.GroupInvite, target: 'own', payload: { json: 'invite' }, expected: { error: 'invalid' } },
  { name: 'GroupEvent whose payload is an array', type: FrameType.GroupEvent, target: 'own', payload: { json: [] }, expected: { error: 'invalid' } },
  { name: 'GroupEvent whose payload is null', type: FrameType.GroupEvent, target: 'own', payload: { json: null }, expected: { error: 'invalid' } },
];

/** (c) A channel nobody joined (or a group nobody created), where membership matters and where it does not. */
const unknownChannelCases: Case[] = [
  { name: 'Typing on an unknown channel', type: FrameType.Typing, target: 'unknown', payload: { json: { typing: true } }, expected: { error: 'not_member' } },
  { name: 'KeyUpdate on an unknown channel', type: FrameType.KeyUpdate, target: 'unknown', payload: { json: { type: 'device-key-rotated' } }, expected: { error: 'not_member' } },
  { name: 'GroupEvent on an unknown channel', type: FrameType.GroupEvent, target: 'unknown', payload: { json: { event: 'renamed' } }, expected: { error: 'not_member' } },
  { name: 'Join naming a group nobody created', type: FrameType.Join, target: 'unknown', payload: { json: { group_id: NO_SUCH_GROUP } }, expected: { error: 'forbidden' } },
  { name: 'GroupInvite into a group nobody created', type: FrameType.GroupInvite, target: 'unknown', payload: { json: { device: 'device-anyone', group_id: NO_SUCH_GROUP } }, expected: { error: 'forbidden' } },
  // §7.4: acknowledged even when the sender was not a member.
  { name: 'Leave of an unknown channel', type: FrameType.Leave, target: 'unknown', payload: { json: {} }, expected: { ack: {} } },
  // §7.10: a GroupCreate makes its channel.
  { name: 'GroupCreate on an unknown channel', type: FrameType.GroupCreate, target: 'unknown', payload: { json: { members: [] } }, expected: { ack: { group_id: expect.any(String) } } },
  {
    // Presence is not about channels: the state goes to the sender's co-members whatever the frame's channel.
    name: 'Presence on an unknown channel', type: FrameType.Presence, target: 'unknown', payload: { json: { state: 'busy' } }, expected: 'silent',
    partnerGets: async (sender, partner) => {
      expect(control(await partner.expectNext(FrameType.Presence, 0))).toMatchObject({ entity: sender.deviceId, state: 'busy' });
    },
  },
];

/** The devices of one case: the sender shares a fresh channel `own` with a partner on the other gateway. */
interface CaseDevices {
  sender: Peer;
  partner: Peer;
  own: number;
}

async function runCase(c: Case, index: number): Promise<void> {
  const sender = await connectPeer(fleet, `bad-${index}`, index % 2);
  const partner = await connectPeer(fleet, `partner-${index}`, 1 - (index % 2));
  const progress = { stage: 'sending the bad frame' };
  try {
    const own = freshChannel();
    await sender.join(own);
    await partner.join(own);
    await exercise(c, { sender, partner, own }, progress);
  } catch (err) {
    if ((err as { matcherResult?: unknown }).matcherResult) throw err; // an assertion says what failed itself
    throw new Error(`${c.name}: failed while ${progress.stage}: ${(err as Error).message}`);
  } finally {
    await Promise.allSettled([sender.close(), partner.close()]);
  }
}

/**
 * Sends the case's frame and checks its answer. A fence on the same channel follows (the router
 * handles one channel's frames in order) and must be answered next, so the bad frame got exactly
 * the expected answer and nothing more. Then the same connection must still work, the partner
 * must have got only what the case relays, and the bystanders must still chat.
 */
async function exercise(c: Case, { sender, partner, own }: CaseDevices, progress: { stage: string }): Promise<void> {
  const channel = c.target === 'own' ? own : c.target === 'zero' ? 0 : freshChannel();
  const sequence = 'json' in c.payload ? sender.sendControl(c.type, channel, c.payload.json) : sender.sendBytesAs(c.type, channel, c.payload.bytes);
  if (c.expected !== 'silent') {
    progress.stage = 'waiting for the answer to the bad frame';
    const answer = await sender.next();
    if ('error' in c.expected) {
      expectErrorFrame(answer, c.expected.error);
    } else {
      expect([FrameType[answer.type], control(answer)]).toEqual(['Ack', { ack: sequence, ...c.expected.ack }]);
      expect(answer.channel).toBe(channel);
    }
  }

  progress.stage = 'sending a fence after the answer on the same connection';
  // A Msg on the sender's own channel, else a Leave (harmless: it was not a member there).
  const fenceSequence = channel === own ? sender.sendText(own, 'fence') : sender.sendControl(FrameType.Leave, channel, {});
  const fence = await sender.next();
  expect([FrameType[fence.type], fence.channel, control(fence)]).toEqual(['Ack', channel, { ack: fenceSequence }]);

  progress.stage = 'using the connection after the fence';
  await sender.join(freshChannel());
  await sender.say(own, 'after');
  await c.partnerGets?.(sender, partner, own);
  if (channel === own) await partner.expectText(own, 'fence');
  await partner.expectText(own, 'after');

  progress.stage = 'checking the bystanders';
  await bystandersStillChat();
}

let caseIndex = 0;
describe('(a) control payloads that are not JSON', () => {
  test.each(notJsonCases.map((c) => [c.name, c] as const))('%s', (_name, c) => runCase(c, caseIndex++));
});

describe('(b) control payloads with the wrong shape or field types', () => {
  test.each(wrongTypeCases.map((c) => [c.name, c] as const))('%s', (_name, c) => runCase(c, caseIndex++));
});

describe('(c) frames for a channel or group the sender is not in', () => {
  test.each(unknownChannelCases.map((c) => [c.name, c] as const))('%s', (_name, c) => runCase(c, caseIndex++));
});

describe('(d) a Msg larger than the bus carries in one message', () => {
  // NATS's default max_payload is 1 MiB; a frame may be 16 MiB (spec §1.1). Big-but-allowed first,
  // so a failure below is about the size alone.
  test('a 512 KiB Msg is delivered intact', async () => {
    const sender = await connectPeer(fleet, 'big-sender', 0);
    const receiver = await connectPeer(fleet, 'big-receiver', 1);
    try {
      const channel = freshChannel();
      await sender.join(channel);
      await receiver.join(channel);
      const payload = Buffer.alloc(512 * 1024, 'b');
      const sequence = sender.sendBytesAs(FrameType.Msg, channel, payload);
      expect(control(await sender.reply())).toEqual({ ack: sequence });
      const received = await receiver.expectNext(FrameType.Msg, channel);
      expect(received.payload.kind === 'opaque' && Buffer.from(received.payload.bytes).equals(payload)).toBe(true);
    } finally {
      await Promise.allSettled([sender.close(), receiver.close()]);
    }
  });

  test('a 2 MiB Msg is refused with too_large (or delivered intact); the connection stays open either way', async () => {
    const sender = await connectPeer(fleet, 'huge-sender', 0);
    const receiver = await connectPeer(fleet, 'huge-receiver', 1);
    try {
      const channel = freshChannel();
      await sender.join(channel);
      await receiver.join(channel);
      const payload = Buffer.alloc(2 * 1024 * 1024, 'h');
      const sequence = sender.sendBytesAs(FrameType.Msg, channel, payload);
      const answer = await sender.next(20_000);
      if (answer.type === FrameType.Ack) {
        expect(control(answer)).toEqual({ ack: sequence });
        const received = await receiver.expectNext(FrameType.Msg, channel, 20_000);
        expect(received.payload.kind === 'opaque' && Buffer.from(received.payload.bytes).equals(payload)).toBe(true);
      } else {
        expect(FrameType[answer.type]).toBe('Error');
        // A stable code, and not `unavailable`: "send it again" would loop forever on this frame.
        expect(control(answer).error).toBe('too_large');
        expect(typeof control(answer).detail).toBe('string');
      }
      await sender.say(channel, 'after the big one');
      await receiver.expectText(channel, 'after the big one');
      await bystandersStillChat();
    } finally {
      await Promise.allSettled([sender.close(), receiver.close()]);
    }
  });
});

describe('(e) floods the rate-limit test does not cover', () => {
  // Default budget: 200 frames/s, burst 400 (security.rate_limit.frame_rate / frame_burst).
  test('a Msg flood across gateways: exactly the acknowledged Msgs arrive, in order; bystanders chat throughout', async () => {
    const flooder = await connectPeer(fleet, 'msg-flooder', 0);
    const receiver = await connectPeer(fleet, 'msg-flood-receiver', 1);
    try {
      const channel = freshChannel();
      await flooder.join(channel);
      await receiver.join(channel);
      const sent = new Map<number, string>();
      const total = 1000;
      const chatting = (async () => { for (let i = 0; i < 5; i++) await bystandersStillChat(); })();
      chatting.catch(() => undefined); // awaited (and so reported) below, after the flood's answers
      for (let i = 0; i < total; i++) {
        const body = `flood ${i}`;
        sent.set(flooder.sendText(channel, body), body);
      }
      // Frames of one channel are handled in order, so once the end marker is acknowledged every
      // flood frame has had its answer. The marker may itself be throttled: then send it again.
      let endSequence: number | undefined;
      const answers: Frame[] = [];
      for (let attempt = 0; endSequence === undefined && attempt < 10; attempt++) {
        await new Promise((r) => setTimeout(r, 500)); // let the budget refill a little
        const candidate = flooder.sendText(channel, 'end of flood');
        for (;;) {
          let answer: Frame;
          try {
            answer = await flooder.next(3_000);
          } catch {
            break; // the marker was dropped: no answer
          }
          if (answer.type === FrameType.Ack && control(answer).ack === candidate) {
            endSequence = candidate;
            break;
          }
          answers.push(answer);
        }
      }
      expect(endSequence).toBeDefined();
      await chatting;

      const acked = answers.filter((f) => f.type === FrameType.Ack).map((f) => control(f).ack as number);
      const errors = answers.filter((f) => f.type === FrameType.Error).map((f) => control(f).error);
      expect(new Set(errors)).toEqual(new Set(['rate_limited']));
      expect(acked.length).toBeGreaterThanOrEqual(400); // at least the burst
      expect(acked.length).toBeLessThan(total);
      expect(acked).toEqual([...acked].sort((x, y) => x - y)); // answered in sending order
      // Ack means stored for the receiver; no Ack means dropped before the router: so the receiver
      // gets exactly the acknowledged ones, in order, then the marker.
      const expected = [...acked.map((seq) => sent.get(seq)!), 'end of flood'];
      const received: string[] = [];
      while (received.length < expected.length) {
        const frame = await receiver.next(10_000);
        expect(FrameType[frame.type]).toBe('Msg');
        received.push(text(frame));
      }
      expect(received).toEqual(expected);

      await flooder.join(freshChannel());
      await flooder.say(channel, 'calm again');
      await receiver.expectText(channel, 'calm again');
    } finally {
      await Promise.allSettled([flooder.close(), receiver.close()]);
    }
  });

  test('a burst of 300 invalid frames: one Error each, nothing relayed, and the connection carries on', async () => {
    const sender = await connectPeer(fleet, 'error-burst', 1);
    const partner = await connectPeer(fleet, 'error-burst-partner', 0);
    try {
      const channel = freshChannel();
      const nobodysChannel = freshChannel();
      await sender.join(channel);
      await partner.join(channel);
      const kinds: Array<[FrameType, number, JsonValue, string]> = [
        [FrameType.KeyUpdate, channel, 'not an object', 'invalid'],
        [FrameType.GroupEvent, channel, [], 'invalid'],
        [FrameType.GroupInvite, channel, { device: 1 }, 'invalid'],
        [FrameType.Typing, nobodysChannel, {}, 'not_member'],
      ];
      const expected: string[] = [];
      for (let i = 0; i < 300; i++) {
        const [type, target, payload, code] = kinds[i % kinds.length]!;
        sender.sendControl(type, target, payload);
        expected.push(code);
      }
      const got: string[] = [];
      for (let i = 0; i < 300; i++) got.push(String(control(await sender.reply()).error));
      // Two channels are handled concurrently, so only the multiset of codes is fixed.
      expect(got.sort()).toEqual(expected.sort());
      await sender.say(channel, 'after the burst');
      await partner.expectText(channel, 'after the burst'); // nothing of the burst leaked to the partner
      await bystandersStillChat();
    } finally {
      await Promise.allSettled([sender.close(), partner.close()]);
    }
  });
});
