import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ChartToolError } from './errors';
import type { ToolRun } from './helm';
import { REPO_ROOT } from './paths';
import { requireTool, toolPaths } from './tools';

/**
 * Runs the pinned skaffold (opt-in: k8s-tools.sh install --with-skaffold) from the repository
 * root, with the pinned helm first on PATH and a private global config (no update check, no
 * metrics, no kube-context or default-repo of the developer's).
 */
export function skaffold(args: string[]): ToolRun {
  const binary = requireTool('skaffold');
  requireTool('helm');
  const home = path.join(os.tmpdir(), 'commucat-chart-tests-skaffold');
  const globalConfig = path.join(home, 'config');
  fs.mkdirSync(home, { recursive: true });
  fs.writeFileSync(globalConfig, 'global:\n  collect-metrics: false\n  update-check: false\n');
  const r = spawnSync(binary, args, {
    encoding: 'utf8',
    cwd: REPO_ROOT,
    maxBuffer: 64 * 1024 * 1024,
    env: {
      ...process.env,
      PATH: `${toolPaths().bin}${path.delimiter}${process.env.PATH ?? ''}`,
      SKAFFOLD_UPDATE_CHECK: 'false',
      SKAFFOLD_CONFIG: globalConfig, // the --config flag: global config file
      KUBECONFIG: path.join(home, 'kubeconfig'),
    },
  });
  if (r.error) throw new ChartToolError('TOOL_MISSING', `could not run ${binary}: ${r.error.message}`);
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
