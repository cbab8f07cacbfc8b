/** One line of the diagnose table. */
export interface CheckResult {
  readonly component: string;
  readonly target: string;
  readonly status: 'ok' | 'fail';
  readonly latencyMs: number;
  readonly detail: string;
}

/** A named probe: resolves with a detail text when healthy, rejects with the reason otherwise. */
export interface Check {
  readonly component: string;
  readonly target: string;
  run(timeoutMs: number): Promise<string>;
}

function timeout(ms: number): { promise: Promise<never>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

/** Runs one check with a hard deadline (a probe that hangs cannot hold the whole report). */
export async function runCheck(check: Check, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now();
  // A little headroom over the probe's own timeout, so its own clearer message wins.
  const guard = timeout(timeoutMs + 500);
  const work = check.run(timeoutMs);
  work.catch(() => undefined);
  try {
    const detail = await Promise.race([work, guard.promise]);
    return { component: check.component, target: check.target, status: 'ok', latencyMs: Math.round(performance.now() - started), detail };
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return { component: check.component, target: check.target, status: 'fail', latencyMs: Math.round(performance.now() - started), detail };
  } finally {
    guard.cancel();
  }
}

/** Never prints a password: `scheme://user:***@host`. */
export function redactUrl(text: string): string {
  return text.replace(/(\/\/[^:/@\s]*:)[^@\s]*@/g, '$1***@');
}
