import { ReplicaWatch } from '../src/simulate/replica-watch';

const hb = (replicaId: string, at: number, cpuSeconds: number, droppedFrames = 0, activeStreams = 0) => ({ replicaId, at, cpuSeconds, droppedFrames, activeStreams });

describe('ReplicaWatch', () => {
  it('lists the replicas heard within the last second', () => {
    let now = 10_000;
    const watch = new ReplicaWatch(() => now);
    watch.heard(hb('m2', 10_000, 1));
    now = 10_600;
    watch.heard(hb('m1', 10_600, 1));
    expect(watch.alive()).toEqual(['m1', 'm2']);
    now = 11_200;
    expect(watch.alive()).toEqual(['m1']);
  });

  it('measures CPU, drops and the busiest moment between the baseline and the newest heartbeat', () => {
    const watch = new ReplicaWatch(() => 0);
    watch.heard(hb('m1', 1000, 4.0, 7, 2));
    watch.markBaseline();
    watch.heard(hb('m1', 1250, 4.1, 7, 11));
    watch.heard(hb('m1', 3000, 5.0, 9, 10));
    // A late, older heartbeat does not move the window back.
    watch.heard(hb('m1', 2750, 4.9, 8, 10));
    const usage = watch.usage('m1')!;
    expect(usage.windowMs).toBe(2000);
    expect(usage.cpuSeconds).toBeCloseTo(1.0, 9);
    expect(usage.cpuPercent).toBeCloseTo(50, 9);
    expect(usage.droppedFrames).toBe(2);
    expect(usage.maxActiveStreams).toBe(11);
    expect(watch.usage('m9')).toBeUndefined();
  });

  it('ends the window at the first heartbeat after the run, not at idle ones that came later', () => {
    const watch = new ReplicaWatch(() => 0);
    watch.heard(hb('m1', 0, 1.0));
    watch.markBaseline();
    watch.heard(hb('m1', 900, 1.4));
    watch.heard(hb('m1', 1100, 1.5));
    watch.heard(hb('m1', 3000, 1.51));
    const usage = watch.usage('m1', 1000)!;
    expect(usage.windowMs).toBe(1100);
    expect(usage.cpuSeconds).toBeCloseTo(0.5, 9);
    expect(watch.usage('m1', 5000)!.windowMs).toBe(3000);
  });

  it('waits for heartbeats stamped after a moment, and gives up after the timeout', async () => {
    const watch = new ReplicaWatch();
    watch.heard(hb('m1', 100, 0));
    setTimeout(() => watch.heard(hb('m1', 600, 0)), 20);
    await expect(watch.heartbeatsSince(['m1'], 500, 2000)).resolves.toBe(true);
    await expect(watch.heartbeatsSince(['m1', 'm2'], 500, 30)).resolves.toBe(false);
    await expect(watch.nextHeartbeat(10)).resolves.toBe(false);
  });
});
