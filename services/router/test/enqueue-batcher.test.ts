import type { Envelope } from '@commucat/contracts';
import { EnqueueBatcher } from '../src/enqueue-batcher';

const envelope = (deviceId: string, messageId: string, bytes = 1): Envelope => ({
  deviceId, messageId, channelId: 1, frame: Buffer.alloc(bytes, 7), senderDeviceId: 's', enqueuedAt: 0, expiresAt: 0, seq: 0,
});

/** A relay stand-in that numbers envelopes like relay does and records each call's contents. */
function recordingRelay() {
  const calls: string[][] = [];
  let seq = 0;
  const gates: Array<() => void> = [];
  let held = false;
  return {
    calls,
    hold() { held = true; },
    release() { held = false; for (const open of gates.splice(0)) open(); },
    call: async (envelopes: Envelope[]) => {
      calls.push(envelopes.map((e) => e.messageId));
      if (held) await new Promise<void>((resolve) => gates.push(resolve));
      if (envelopes.some((e) => e.deviceId === 'bad')) throw Object.assign(new Error('refused'), { code: 3 });
      if (envelopes.some((e) => e.deviceId === 'down')) throw Object.assign(new Error('unavailable'), { code: 14 });
      return envelopes.map((e) => ({ ...e, seq: ++seq }));
    },
  };
}

test('enqueues of one turn share one call; each submitter gets exactly its envelopes, in order', async () => {
  const relay = recordingRelay();
  const batcher = new EnqueueBatcher({ call: relay.call });
  const [a, b, c] = await Promise.all([
    batcher.enqueue([envelope('d1', 'a1'), envelope('d2', 'a1')]),
    batcher.enqueue([envelope('d1', 'b1')]),
    batcher.enqueue([envelope('d3', 'c1'), envelope('d4', 'c1'), envelope('d5', 'c1')]),
  ]);
  expect(relay.calls).toEqual([['a1', 'a1', 'b1', 'c1', 'c1', 'c1']]);
  expect(a!.map((e) => [e.deviceId, e.messageId, e.seq])).toEqual([['d1', 'a1', 1], ['d2', 'a1', 2]]);
  expect(b!.map((e) => [e.messageId, e.seq])).toEqual([['b1', 3]]);
  expect(c!.map((e) => [e.deviceId, e.seq])).toEqual([['d3', 4], ['d4', 5], ['d5', 6]]);
});

test('while every call is in flight, new enqueues gather and go together when one returns', async () => {
  const relay = recordingRelay();
  const batcher = new EnqueueBatcher({ call: relay.call, maxInFlight: 1 });
  relay.hold();
  const first = batcher.enqueue([envelope('d', 'm1')]);
  await new Promise((r) => setImmediate(r));
  const later = [2, 3, 4].map((n) => batcher.enqueue([envelope('d', `m${n}`)]));
  await new Promise((r) => setImmediate(r));
  expect(relay.calls).toEqual([['m1']]);
  relay.release();
  await first;
  expect((await Promise.all(later)).map((r) => r[0]!.seq)).toEqual([2, 3, 4]);
  expect(relay.calls).toEqual([['m1'], ['m2', 'm3', 'm4']]);
});

test('a call never passes the envelope or byte limit, but a single large submitter still goes alone', async () => {
  const relay = recordingRelay();
  const batcher = new EnqueueBatcher({ call: relay.call, maxEnvelopes: 3, maxBytes: 100 });
  await Promise.all([
    batcher.enqueue([envelope('d', 'a'), envelope('e', 'a')]),
    batcher.enqueue([envelope('d', 'b'), envelope('e', 'b')]),
    batcher.enqueue([envelope('d', 'c', 60)]),
    batcher.enqueue([envelope('d', 'big', 500)]),
  ]);
  expect(relay.calls).toEqual([['a', 'a'], ['b', 'b', 'c'], ['big']]);
});

test('a refused shared call is retried per submitter: only the bad message fails', async () => {
  const relay = recordingRelay();
  const batcher = new EnqueueBatcher({ call: relay.call, isRefusal: (err) => (err as { code?: number }).code === 3 });
  const results = await Promise.allSettled([
    batcher.enqueue([envelope('d1', 'ok1')]),
    batcher.enqueue([envelope('bad', 'poison')]),
    batcher.enqueue([envelope('d2', 'ok2')]),
  ]);
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect(relay.calls[0]).toEqual(['ok1', 'poison', 'ok2']);
  expect(relay.calls.slice(1).sort()).toEqual([['ok1'], ['ok2'], ['poison']]);
});

test('a failure of relay itself fails every submitter of that call (each retries on its own)', async () => {
  const relay = recordingRelay();
  const batcher = new EnqueueBatcher({ call: relay.call, isRefusal: (err) => (err as { code?: number }).code === 3 });
  const results = await Promise.allSettled([batcher.enqueue([envelope('d1', 'x')]), batcher.enqueue([envelope('down', 'y')])]);
  expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  expect(relay.calls).toEqual([['x', 'y']]);
});
