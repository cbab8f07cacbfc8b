import { MediaReplicas, MEDIA_REPLICA_TIMEOUT_MS } from '../src/media-replicas';

describe('MediaReplicas', () => {
  let now = 1_000_000;
  const replicas = () => new MediaReplicas(() => now);
  const beat = (r: MediaReplicas, replicaId: string) => r.heard({ replicaId, at: now, activeStreams: 0, cpuSeconds: 0, droppedFrames: 0 });

  it('has no replica to pick before any heartbeat', () => {
    expect(replicas().pick('call-1')).toBeUndefined();
  });

  it('gives a call the same replica on every router, whatever order the heartbeats came in', () => {
    const a = replicas();
    const b = replicas();
    for (const id of ['m1', 'm2', 'm3']) beat(a, id);
    for (const id of ['m3', 'm1', 'm2']) beat(b, id);
    const calls = Array.from({ length: 50 }, (_, i) => `call-${i}`);
    expect(calls.map((c) => a.pick(c))).toEqual(calls.map((c) => b.pick(c)));
    // Spread over the replicas, not all on one.
    expect(new Set(calls.map((c) => a.pick(c))).size).toBe(3);
  });

  it('moves only the calls of a replica that stopped beating, once its heartbeat is older than the timeout', () => {
    const r = replicas();
    for (const id of ['m1', 'm2', 'm3']) beat(r, id);
    const calls = Array.from({ length: 60 }, (_, i) => `call-${i}`);
    const before = new Map(calls.map((c) => [c, r.pick(c)]));
    now += MEDIA_REPLICA_TIMEOUT_MS + 1;
    beat(r, 'm1');
    beat(r, 'm3');
    expect(r.alive()).toEqual(['m1', 'm3']);
    for (const c of calls) {
      const after = r.pick(c);
      if (before.get(c) === 'm2') expect(['m1', 'm3']).toContain(after);
      else expect(after).toBe(before.get(c));
    }
  });
});
