import { controlFrame, FrameType, opaqueFrame } from '@commucat/ccp1';
import { clientAcknowledgedSeqs } from '../src/client-acks';
import { RecentSeqs } from '../src/recent-seqs';

describe('clientAcknowledgedSeqs', () => {
  const ack = (value: Parameters<typeof controlFrame>[3]) => clientAcknowledgedSeqs(controlFrame(FrameType.Ack, 0, 5, value));

  test('reads `ack` and `acks` together', () => {
    expect(ack({ ack: 7, acks: [8, 9] })).toEqual([7, 8, 9]);
    expect(ack({ acks: [3] })).toEqual([3]);
  });

  test('ignores what is not a positive safe integer, and everything else in the frame', () => {
    expect(ack({ ack: 0, acks: [-1, 1.5, '4', null, 2 ** 53, 6], other: 1 })).toEqual([6]);
    expect(ack([1, 2])).toEqual([]);
    expect(ack('x')).toEqual([]);
    expect(clientAcknowledgedSeqs(opaqueFrame(FrameType.Ack, 0, 5, Buffer.from('{"ack":1}')))).toEqual([]);
  });

  test('takes at most 4096 seqs from one frame', () => {
    expect(ack({ acks: Array.from({ length: 5000 }, (_, i) => i + 1) })).toHaveLength(4096);
  });
});

describe('RecentSeqs', () => {
  test('remembers the last `capacity` seqs and forgets the oldest first', () => {
    const recent = new RecentSeqs(3);
    for (const seq of [10, 11, 12]) recent.add(seq);
    expect([10, 11, 12].map((s) => recent.has(s))).toEqual([true, true, true]);
    recent.add(13);
    expect([10, 11, 12, 13].map((s) => recent.has(s))).toEqual([false, true, true, true]);
    recent.add(11); // already there: nothing is evicted
    expect(recent.has(12)).toBe(true);
  });
});
