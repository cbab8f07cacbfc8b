export type ReadinessCheck = () => Promise<void>;

export interface ReadinessReport {
  readonly ready: boolean;
  /** `ok` or the failure text, per check. */
  readonly checks: Record<string, string>;
}

function withTimeout(check: ReadinessCheck, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    // Promise.resolve().then() also turns a synchronous throw into a rejection.
    Promise.resolve()
      .then(check)
      .then(resolve, reject)
      .finally(() => clearTimeout(timer));
  });
}

function describeFailure(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text || 'failed').slice(0, 300);
}

/** Runs all checks concurrently, each bounded by `timeoutMs`. */
export async function runReadinessChecks(checks: ReadonlyMap<string, ReadinessCheck>, timeoutMs: number): Promise<ReadinessReport> {
  const entries = [...checks];
  const results = await Promise.allSettled(entries.map(([, check]) => withTimeout(check, timeoutMs)));
  const report: Record<string, string> = {};
  let ready = true;
  results.forEach((result, index) => {
    const name = entries[index]![0];
    if (result.status === 'fulfilled') {
      report[name] = 'ok';
    } else {
      ready = false;
      report[name] = describeFailure(result.reason);
    }
  });
  return { ready, checks: report };
}
