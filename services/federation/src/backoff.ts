export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
}

/**
 * Delay before retry number `attempts` (1 = after the first failure): capped exponential with
 * "equal jitter" — half fixed, half random — so a peer coming back is not hit by every row at once.
 */
export function retryDelayMs(policy: BackoffPolicy, attempts: number, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempts - 1, 0), 30);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
