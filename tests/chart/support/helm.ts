import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { ChartToolError } from './errors';
import { K8sObject, parseManifests } from './manifests';
import { CHART_DIR, KUBERNETES_VERSION, REPO_ROOT } from './paths';
import { requireTool } from './tools';

export interface RenderOptions {
  /** Values files, absolute or relative to the repository root, applied in order (-f). */
  valuesFiles?: string[];
  /** --set key=value pairs (helm infers types: "true" → bool, "3" → int). */
  set?: Record<string, string>;
  /** --set-string key=value pairs (always strings). */
  setString?: Record<string, string>;
  /** --set-json key=<JSON> pairs, for lists and maps (tolerations, nodeSelector...). */
  setJson?: Record<string, unknown>;
  releaseName?: string;
  namespace?: string;
  /** Chart folder; charts/commucat by default. */
  chart?: string;
  /** Extra API versions the "cluster" offers (--api-versions), e.g. monitoring.coreos.com/v1. */
  apiVersions?: string[];
  /** Kubernetes version for .Capabilities (--kube-version); 1.30.14 by default. */
  kubeVersion?: string;
}

export interface ToolRun {
  status: number;
  stdout: string;
  stderr: string;
}

const resolveFromRoot = (file: string): string => (path.isAbsolute(file) ? file : path.join(REPO_ROOT, file));

function valueArgs(options: RenderOptions): string[] {
  const args: string[] = [];
  for (const file of options.valuesFiles ?? []) args.push('--values', resolveFromRoot(file));
  for (const [key, value] of Object.entries(options.set ?? {})) args.push('--set', `${key}=${value}`);
  for (const [key, value] of Object.entries(options.setString ?? {})) args.push('--set-string', `${key}=${value}`);
  for (const [key, value] of Object.entries(options.setJson ?? {})) args.push('--set-json', `${key}=${JSON.stringify(value)}`);
  return args;
}

function runHelm(args: string[]): ToolRun {
  const helm = requireTool('helm');
  // Private helm homes keep a developer's repositories and plugins out of the result.
  const home = path.join(os.tmpdir(), 'commucat-chart-tests-helm');
  const r = spawnSync(helm, args, {
    encoding: 'utf8',
    cwd: REPO_ROOT,
    maxBuffer: 64 * 1024 * 1024,
    env: {
      ...process.env,
      HELM_CONFIG_HOME: path.join(home, 'config'),
      HELM_DATA_HOME: path.join(home, 'data'),
      HELM_CACHE_HOME: path.join(home, 'cache'),
    },
  });
  if (r.error) throw new ChartToolError('HELM_FAILED', `could not run ${helm}: ${r.error.message}`);
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `helm template`, returning exit status and both streams without judging them. */
export function renderChartRaw(options: RenderOptions = {}): ToolRun {
  const args = [
    'template',
    options.releaseName ?? 'commucat',
    resolveFromRoot(options.chart ?? CHART_DIR),
    '--namespace',
    options.namespace ?? 'commucat',
    '--kube-version',
    options.kubeVersion ?? KUBERNETES_VERSION,
    ...(options.apiVersions ?? []).flatMap((v) => ['--api-versions', v]),
    ...valueArgs(options),
  ];
  return runHelm(args);
}

/** `helm template` parsed into objects; throws HELM_FAILED carrying helm's stderr when it fails. */
export function renderChart(options: RenderOptions = {}): K8sObject[] {
  const r = renderChartRaw(options);
  if (r.status !== 0) throw new ChartToolError('HELM_FAILED', `helm template exited with ${r.status}`, r.stderr);
  return parseManifests(r.stdout);
}

/** `helm template` output as text (what kubeconform validates). Throws like renderChart. */
export function renderChartText(options: RenderOptions = {}): string {
  const r = renderChartRaw(options);
  if (r.status !== 0) throw new ChartToolError('HELM_FAILED', `helm template exited with ${r.status}`, r.stderr);
  return r.stdout;
}

/** `helm lint` (--strict unless strict: false); returns the run so a test can read the messages.
 * helm lint has no --api-versions, so options.apiVersions is not used here. */
export function helmLint(options: RenderOptions & { strict?: boolean } = {}): ToolRun {
  const args = [
    'lint',
    resolveFromRoot(options.chart ?? CHART_DIR),
    '--namespace',
    options.namespace ?? 'commucat',
    '--kube-version',
    options.kubeVersion ?? KUBERNETES_VERSION,
    ...(options.strict === false ? [] : ['--strict']),
    ...valueArgs(options),
  ];
  return runHelm(args);
}
