import { pickReplica } from '../src/replica-choice';

const calls = Array.from({ length: 300 }, (_, i) => `call-${i}`);

describe('pickReplica (rendezvous hashing)', () => {
  it('picks the same replica whatever the order of the list', () => {
    for (const call of calls.slice(0, 50)) {
      expect(pickReplica(call, ['m1', 'm2', 'm3'])).toBe(pickReplica(call, ['m3', 'm1', 'm2']));
    }
  });

  it('spreads calls over the replicas', () => {
    const counts = new Map<string, number>();
    for (const call of calls) {
      const replica = pickReplica(call, ['m1', 'm2', 'm3']);
      counts.set(replica, (counts.get(replica) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(['m1', 'm2', 'm3']);
    // 100 expected each; binomial spread stays far inside 60..140.
    for (const count of counts.values()) expect(count).toBeGreaterThan(60);
  });

  it('moves only the calls of a replica that went away', () => {
    const before = calls.map((call) => pickReplica(call, ['m1', 'm2', 'm3']));
    const after = calls.map((call) => pickReplica(call, ['m1', 'm3']));
    let moved = 0;
    calls.forEach((_, i) => {
      if (before[i] !== 'm2') expect(after[i]).toBe(before[i]);
      else moved += 1;
    });
    expect(moved).toBeGreaterThan(0);
  });

  it('uses the only replica there is and refuses an empty list', () => {
    expect(pickReplica('x', ['solo'])).toBe('solo');
    expect(() => pickReplica('x', [])).toThrow(RangeError);
  });
});
