/**
 * Backoff for waiting out a restarting fleet peer: `firstMs` doubling to `maxMs`, each delay
 * jittered down to half so many waiters do not retry in step. Create one per wait.
 */
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
