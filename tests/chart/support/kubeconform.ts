import { spawnSync } from 'node:child_process';
import { ChartToolError } from './errors';
import { KUBERNETES_VERSION } from './paths';
import { requireSchemas, requireTool } from './tools';

// kubeconform reports an empty YAML document with an empty status.
export type KubeconformStatus = 'statusValid' | 'statusInvalid' | 'statusError' | 'statusSkipped' | '';

/** One resource as kubeconform's JSON output reports it. */
export interface KubeconformResult {
  filename: string;
  kind: string;
  name: string;
  version: string;
  status: KubeconformStatus;
  msg: string;
  validationErrors?: { path: string; msg: string }[];
}

export interface KubeconformSummary {
  valid: number;
  invalid: number;
  errors: number;
  skipped: number;
}

export interface KubeconformReport {
  /** True only when kubeconform exited 0, found at least one resource, and none was invalid, errored or skipped. */
  valid: boolean;
  summary: KubeconformSummary;
  results: KubeconformResult[];
  /** Results that are not valid, for a readable assertion message. */
  problems: KubeconformResult[];
  status: number;
  stderr: string;
}

/**
 * Validates a YAML stream with kubeconform in strict mode against the generated Kubernetes
 * schema folder only (no network: every -schema-location is a local path, and missing schemas
 * are errors, never skips).
 */
export function kubeconform(yamlText: string, options: { kubernetesVersion?: string } = {}): KubeconformReport {
  const binary = requireTool('kubeconform');
  const schemaLocation = requireSchemas();
  const args = [
    '-strict',
    '-summary',
    '-verbose', // report valid resources too, so results lists every object
    '-output',
    'json',
    '-kubernetes-version',
    options.kubernetesVersion ?? KUBERNETES_VERSION,
    '-schema-location',
    schemaLocation,
  ];
  const r = spawnSync(binary, args, { input: yamlText, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new ChartToolError('KUBECONFORM_FAILED', `could not run ${binary}: ${r.error.message}`);
  let parsed: { resources?: KubeconformResult[]; summary?: KubeconformSummary };
  try {
    parsed = JSON.parse(r.stdout);
  } catch {
    throw new ChartToolError('KUBECONFORM_FAILED', `kubeconform printed no JSON report (exit ${r.status}): ${r.stdout.slice(0, 500)}`, r.stderr);
  }
  const summary = parsed.summary ?? { valid: 0, invalid: 0, errors: 0, skipped: 0 };
  const results = parsed.resources ?? [];
  const problems = results.filter((res) => res.status !== 'statusValid' && res.status !== '');
  const valid =
    r.status === 0 && summary.valid > 0 && summary.invalid === 0 && summary.errors === 0 && summary.skipped === 0 && problems.length === 0;
  return { valid, summary, results, problems, status: r.status ?? -1, stderr: r.stderr };
}

/** One line per problem: "Deployment/x: msg (path: msg; ...)" — for expect(...) messages. */
export function describeProblems(report: KubeconformReport): string {
  return report.problems
    .map((p) => {
      const details = (p.validationErrors ?? []).map((e) => `${e.path}: ${e.msg}`).join('; ');
      return `${p.kind}/${p.name} [${p.status}]: ${p.msg}${details ? ` (${details})` : ''}`;
    })
    .join('\n');
}
