/** Latency figures of one media kind; undefined when no frame came back. */
export interface LatencySummary {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/**
 * Nearest-rank percentile of ascending `sorted` values: the smallest value with at least p % of
 * the values at or below it. Nearest-rank (not interpolation) so p99 is a latency that happened.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of no values');
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile ${p} is outside (0, 100]`);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[rank - 1]!;
}

export function summarizeLatencies(latenciesMs: readonly number[]): LatencySummary | undefined {
  if (latenciesMs.length === 0) return undefined;
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return { p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: sorted[sorted.length - 1]! };
}

/**
 * Media seconds produced per wall second: output frames × frame duration ÷ elapsed. With S streams
 * that all keep up this is ≈ S; a service falling behind shows a smaller figure.
 */
export function realTimeFactor(outputFrames: number, frameDurationMs: number, elapsedMs: number): number {
  if (elapsedMs <= 0) return 0;
  return (outputFrames * frameDurationMs) / elapsedMs;
}

/** CPU used between two heartbeats as % of one core (100 = one core fully busy). */
export function cpuPercent(cpuSecondsBefore: number, cpuSecondsAfter: number, wallMs: number): number {
  if (wallMs <= 0) return 0;
  return ((cpuSecondsAfter - cpuSecondsBefore) * 1000 * 100) / wallMs;
}
