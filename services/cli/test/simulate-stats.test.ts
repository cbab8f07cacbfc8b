import { framesDue, framesInRun, nextDueMs } from '../src/simulate/frame-schedule';
import { cpuPercent, percentile, realTimeFactor, summarizeLatencies } from '../src/simulate/latency-stats';

describe('percentile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it('returns a value that occurred: p50 of 1..100 is 50, p99 is 99, p100 the maximum', () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile([1, 2, 3], 50)).toBe(2);
    expect(percentile([4, 9], 50)).toBe(4);
    expect(percentile([7], 99)).toBe(7);
  });

  it('refuses no values and percentiles outside (0, 100]', () => {
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  it('summarizes unsorted latencies; nothing to summarize gives undefined', () => {
    const latencies = [...Array.from({ length: 98 }, () => 1), 40, 3];
    expect(summarizeLatencies(latencies)).toEqual({ p50Ms: 1, p99Ms: 3, maxMs: 40 });
    expect(summarizeLatencies([])).toBeUndefined();
  });
});

describe('realTimeFactor and cpuPercent', () => {
  it('is output frames × frame duration ÷ elapsed', () => {
    // 10 audio streams × 250 frames of 20 ms in 5 s: 10 streams kept up.
    expect(realTimeFactor(2500, 20, 5000)).toBe(10);
    expect(realTimeFactor(125, 20, 5000)).toBe(0.5);
    expect(realTimeFactor(10, 20, 0)).toBe(0);
  });

  it('gives CPU as % of one core from cpu_seconds of two heartbeats', () => {
    expect(cpuPercent(10, 10.5, 1000)).toBe(50);
    expect(cpuPercent(3, 5, 1000)).toBe(200);
    expect(cpuPercent(1, 2, 0)).toBe(0);
  });
});

describe('frame schedule', () => {
  it('makes frame k due k·period after the start, capped at the total', () => {
    expect(framesDue(-1, 20, 10)).toBe(0);
    expect(framesDue(0, 20, 10)).toBe(1);
    expect(framesDue(19.9, 20, 10)).toBe(1);
    expect(framesDue(20, 20, 10)).toBe(2);
    expect(framesDue(75, 20, 10)).toBe(4);
    expect(framesDue(10_000, 20, 10)).toBe(10);
    expect(framesDue(5, 20, 0)).toBe(0);
  });

  it('tells when the next frame is due, and Infinity once all went', () => {
    expect(nextDueMs(0, 20, 3)).toBe(0);
    expect(nextDueMs(2, 1000 / 30, 3)).toBeCloseTo(66.67, 2);
    expect(nextDueMs(3, 20, 3)).toBe(Infinity);
  });

  it('counts the frames of a run: 5 s is 250 audio frames or 150 video frames at 30 fps', () => {
    expect(framesInRun(5, 20)).toBe(250);
    expect(framesInRun(5, 1000 / 30)).toBe(150);
    expect(framesInRun(0.001, 20)).toBe(1);
  });
});
