import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

// The Grafana dashboard the chart ships (charts/commucat/dashboards/commucat.json) must only
// query metrics the code registers: a renamed metric would otherwise leave an empty panel.

const REPO_ROOT = join(__dirname, '..', '..', '..');
const DASHBOARD = join(REPO_ROOT, 'charts', 'commucat', 'dashboards', 'commucat.json');

interface Target {
  expr: string;
  datasource: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: Target[];
}
interface Dashboard {
  schemaVersion: number;
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown }[] };
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const queryPanels = dashboard.panels.filter((panel) => panel.type !== 'row');
const expressions = queryPanels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));

/** Every TypeScript source file of the fleet's packages (not tests, not build output). */
function sourceFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith('.ts') && !entry.endsWith('.d.ts')) files.push(path);
    }
  };
  for (const group of ['libs', 'services']) {
    for (const pkg of readdirSync(join(REPO_ROOT, group))) {
      const src = join(REPO_ROOT, group, pkg, 'src');
      if (statSync(join(REPO_ROOT, group, pkg)).isDirectory() && existsDir(src)) walk(src);
    }
  }
  return files;
}

function existsDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Metric names registered in code: string literals `'commucat_…'` (prom-client `name:` values and constants). */
function registeredNames(): Set<string> {
  const names = new Set<string>();
  for (const file of sourceFiles()) {
    for (const match of readFileSync(file, 'utf8').matchAll(/['"`](commucat_[a-z0-9_]+)['"`]/g)) names.add(match[1]!);
  }
  return names;
}

/** commucat_* series a PromQL expression reads; histogram series map back to their metric. */
function queriedMetrics(expr: string): string[] {
  return [...expr.matchAll(/\b(commucat_[a-z0-9_]+)/g)].map((match) => match[1]!);
}

describe('Grafana dashboard', () => {
  it('queries only metrics the code registers', () => {
    const registered = registeredNames();
    // The scan itself works: names from three different packages are found.
    for (const known of ['commucat_gateway_connections', 'commucat_grpc_server_handled_total', 'commucat_nats_errors_total']) {
      expect(registered.has(known)).toBe(true);
    }
    const missing: string[] = [];
    for (const expr of expressions) {
      for (const series of queriedMetrics(expr)) {
        const metric = series.replace(/_(bucket|sum|count)$/, '');
        if (!registered.has(series) && !registered.has(metric)) missing.push(`${series} (in ${expr})`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('covers connections, handshakes, frames, delivery latency, relay depth, NATS/gRPC errors, media and up', () => {
    const all = expressions.join('\n');
    for (const metric of [
      'commucat_gateway_connections',
      'commucat_gateway_handshakes_total',
      'commucat_gateway_frames_in_total',
      'commucat_gateway_frames_out_total',
      'commucat_gateway_delivery_latency_seconds_bucket',
      'commucat_relay_queue_depth',
      'commucat_nats_errors_total',
      'commucat_grpc_server_handled_total',
      'commucat_grpc_client_handled_total',
      'commucat_media_encode_latency_seconds_bucket',
    ]) {
      expect(all).toContain(metric);
    }
    expect(all).toMatch(/\bup\{/);
    expect(all).toContain('histogram_quantile(0.5, sum by (le) (rate(commucat_gateway_delivery_latency_seconds_bucket');
    expect(all).toContain('histogram_quantile(0.99, sum by (le) (rate(commucat_gateway_delivery_latency_seconds_bucket');
  });

  it('is a schema 39 dashboard whose every query uses the templated Prometheus datasource', () => {
    expect(dashboard.schemaVersion).toBe(39);
    expect(dashboard.uid).toBe('commucat-fleet');
    const datasourceVar = dashboard.templating.list.find((v) => v.name === 'datasource');
    expect(datasourceVar).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(queryPanels.length).toBeGreaterThanOrEqual(10);
    for (const panel of queryPanels) {
      expect(panel.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.targets?.length).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
