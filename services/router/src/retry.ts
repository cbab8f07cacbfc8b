/** Backoff for waiting out a restarting dependency: 50 ms doubling to 2 s, with jitter. */
export function retryDelays(firstMs = 50, maxMs = 2_000): { next(): number } {
  let current = firstMs;
  return {
    next() {
      const delay = current / 2 + Math.random() * (current / 2);
      current = Math.min(current * 2, maxMs);
      return Math.round(delay);
    },
  };
}
