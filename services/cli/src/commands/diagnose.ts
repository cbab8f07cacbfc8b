import type { CommucatConfig } from '@commucat/config';
import { type Check, type CheckResult, runCheck } from '../diagnose/check';
import { configuredAdminBinds } from '../diagnose/admin-targets';
import { adminReadyCheck, grpcHealthChecks } from '../diagnose/service-checks';
import { jetStreamCheck, natsCheck, postgresCheck, redisCheck } from '../diagnose/store-checks';
import { ExitCode } from '../errors';
import type { Output } from '../output';
import { renderTable } from '../table';

/** Every probe the current configuration calls for, stores first, then the services. */
export function diagnoseChecks(config: CommucatConfig, env: NodeJS.ProcessEnv): Check[] {
  return [
    postgresCheck(config),
    redisCheck(config),
    natsCheck(config),
    jetStreamCheck(config),
    ...grpcHealthChecks(config),
    ...configuredAdminBinds(config, env).map(([service, bind]) => adminReadyCheck(service, bind)),
  ];
}

export function renderDiagnoseTable(results: readonly CheckResult[]): string {
  return renderTable(
    ['component', 'target', 'status', 'latency', 'detail'],
    results.map((r) => [r.component, r.target, r.status === 'ok' ? 'ok' : 'FAIL', `${r.latencyMs} ms`, r.detail]),
  );
}

/** Runs every check at once; exit 0 only when all pass. */
export async function diagnose(config: CommucatConfig, output: Output, timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<ExitCode> {
  const checks = diagnoseChecks(config, env);
  output.progress(`running ${checks.length} checks (timeout ${timeoutMs} ms each) …`);
  const results = await Promise.all(checks.map((check) => runCheck(check, timeoutMs)));
  const failed = results.filter((r) => r.status === 'fail');
  const summary = failed.length === 0 ? `all ${results.length} checks passed\n` : `${failed.length} of ${results.length} checks failed\n`;
  output.result(
    {
      ok: failed.length === 0,
      checks: results.map((r) => ({ component: r.component, target: r.target, status: r.status, latency_ms: r.latencyMs, detail: r.detail })),
    },
    renderDiagnoseTable(results) + summary,
  );
  return failed.length === 0 ? ExitCode.ok : ExitCode.failed;
}
