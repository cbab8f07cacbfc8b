/**
 * Feeds messages from an async iterator to `process`, at most `concurrency` at a time.
 * With concurrency 1 (the default everywhere) messages are handled strictly in arrival order,
 * which is what per-channel ordering needs. `process` must not reject; it owns its errors.
 * Resolves once the iterator has ended and every started message has finished.
 */
export async function runMessageLoop<M>(
  messages: AsyncIterable<M>,
  concurrency: number,
  process: (message: M) => Promise<void>,
): Promise<void> {
  const limit = Math.max(1, Math.floor(concurrency));
  const inFlight = new Set<Promise<void>>();
  for await (const message of messages) {
    const running: Promise<void> = process(message).finally(() => inFlight.delete(running));
    inFlight.add(running);
    if (inFlight.size >= limit) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}
