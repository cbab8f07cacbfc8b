/**
 * Runs one gRPC handler's work and rethrows what it throws through `translate` (a service's own
 * refusals become GrpcStatusErrors with their trailer; anything else passes through as INTERNAL).
 */
export async function translateErrors<T>(work: () => Promise<T>, translate: (err: unknown) => unknown): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw translate(err);
  }
}
