import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ChartToolError } from './errors';
import { REPO_ROOT } from './paths';

/** Where scripts/k8s-tools.sh put (or would put) each tool and the generated schema folder. */
export interface ToolPaths {
  bin: string;
  helm: string;
  kubeconform: string;
  skaffold: string;
  /** kubeconform -schema-location template pointing into the generated folder. */
  schemaLocation: string;
  kubernetesVersion: string;
}

const INSTALL_HINT = 'install them with: bash scripts/k8s-tools.sh install   (needs Go; results are cached)';

let cached: ToolPaths | undefined;

/** Asks scripts/k8s-tools.sh (the single source of truth for pins and cache paths) where things are. */
export function toolPaths(): ToolPaths {
  if (cached) return cached;
  const script = path.join(REPO_ROOT, 'scripts', 'k8s-tools.sh');
  const r = spawnSync('bash', [script, 'path'], { encoding: 'utf8', cwd: REPO_ROOT });
  if (r.status !== 0) {
    throw new ChartToolError('TOOLS_SCRIPT_FAILED', `bash scripts/k8s-tools.sh path exited with ${r.status}`, r.stderr);
  }
  const values = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const get = (key: string): string => {
    const v = values.get(key);
    if (v === undefined) throw new ChartToolError('TOOLS_SCRIPT_FAILED', `scripts/k8s-tools.sh path printed no ${key}`);
    return v;
  };
  cached = {
    bin: get('bin'),
    helm: get('helm'),
    kubeconform: get('kubeconform'),
    skaffold: get('skaffold'),
    schemaLocation: get('schema_location'),
    kubernetesVersion: get('kubernetes_version'),
  };
  return cached;
}

/** Path of an installed tool binary; throws TOOL_MISSING with the install command otherwise. */
export function requireTool(name: 'helm' | 'kubeconform' | 'skaffold'): string {
  const file = toolPaths()[name];
  if (!fs.existsSync(file)) {
    const hint = name === 'skaffold' ? INSTALL_HINT.replace('install ', 'install --with-skaffold ') : INSTALL_HINT;
    throw new ChartToolError('TOOL_MISSING', `${name} is not installed at ${file}; ${hint}`);
  }
  return file;
}

/** True when skaffold was installed (it is opt-in: k8s-tools.sh install --with-skaffold). */
export function hasSkaffold(): boolean {
  return fs.existsSync(toolPaths().skaffold);
}

/** Root of the generated schema folder: the template's part before the first {{ }}. */
function schemaRoot(): string {
  const location = toolPaths().schemaLocation;
  return location.slice(0, location.indexOf('/{{'));
}

/** The kubeconform -schema-location template; throws TOOL_MISSING unless the folder was generated. */
export function requireSchemas(): string {
  // scripts/k8s-schemas.js writes everything into a staging folder that is renamed when complete.
  if (!fs.existsSync(path.join(schemaRoot(), '.complete'))) {
    throw new ChartToolError('TOOL_MISSING', `Kubernetes JSON schemas are not generated at ${schemaRoot()}; ${INSTALL_HINT}`);
  }
  return toolPaths().schemaLocation;
}

/** One generated schema file, as listed in the folder's index.json. */
export interface GeneratedSchema {
  apiVersion: string;
  kind: string;
  file: string;
  /** Swagger definition name, or <crd folder>/<file> for a custom resource. */
  source: string;
}

/** Every schema scripts/k8s-schemas.js generated (Kubernetes kinds and custom resources). */
export function generatedSchemas(): GeneratedSchema[] {
  requireSchemas();
  return JSON.parse(fs.readFileSync(path.join(schemaRoot(), 'index.json'), 'utf8')) as GeneratedSchema[];
}
