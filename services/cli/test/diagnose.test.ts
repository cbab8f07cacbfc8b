import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '@commucat/config';
import { runCheck } from '../src/diagnose/check';
import { configuredAdminBinds } from '../src/diagnose/admin-targets';
import { adminReadyCheck } from '../src/diagnose/service-checks';

describe('runCheck', () => {
  it('reports ok with the detail and a latency', async () => {
    const result = await runCheck({ component: 'c', target: 't', run: async () => 'fine' }, 1000);
    expect(result).toMatchObject({ component: 'c', target: 't', status: 'ok', detail: 'fine' });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('reports a rejected probe as fail with its message', async () => {
    const result = await runCheck({ component: 'c', target: 't', run: async () => Promise.reject(new Error('refused')) }, 1000);
    expect(result).toMatchObject({ status: 'fail', detail: 'refused' });
  });

  it('fails a probe that never answers instead of waiting for it', async () => {
    const result = await runCheck({ component: 'c', target: 't', run: () => new Promise<string>(() => undefined) }, 50);
    expect(result.status).toBe('fail');
    expect(result.detail).toMatch(/no answer within 550 ms/);
  });
});

describe('configuredAdminBinds', () => {
  it('lists only admin binds set in the environment or the config file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cli-diag-'));
    const file = path.join(dir, 'commucat.toml');
    writeFileSync(file, '[server]\ndomain = "example.org"\n[services.relay]\nadmin_bind = "0.0.0.0:9555"\n');
    const env = { COMMUCAT_CONFIG: file, COMMUCAT_DIRECTORY_ADMIN_BIND: '127.0.0.1:9444' };
    const config = loadConfig({ env });
    expect(configuredAdminBinds(config, env)).toEqual([
      ['directory', '127.0.0.1:9444'],
      ['relay', '0.0.0.0:9555'],
    ]);
    expect(configuredAdminBinds(loadConfig({ env: { COMMUCAT_CONFIG: file } }), {})).toEqual([['relay', '0.0.0.0:9555']]);
  });
});

describe('adminReadyCheck', () => {
  let server: Server;
  let port: number;
  let answer: { status: number; body: unknown };
  beforeAll(async () => {
    server = createServer((req, res) => {
      expect(req.url).toBe('/readyz');
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('passes on 200 and dials loopback for a wildcard bind', async () => {
    answer = { status: 200, body: { status: 'ready', checks: { postgres: 'ok' } } };
    const check = adminReadyCheck('directory', `0.0.0.0:${port}`);
    expect(check.target).toBe(`127.0.0.1:${port}/readyz`);
    await expect(check.run(1000)).resolves.toBe('ready');
  });

  it('fails on 503 naming the failing readiness checks', async () => {
    answer = { status: 503, body: { status: 'degraded', checks: { postgres: 'ok', redis: 'timed out after 1000 ms' } } };
    await expect(adminReadyCheck('presence', `127.0.0.1:${port}`).run(1000)).rejects.toThrow('HTTP 503: redis: timed out after 1000 ms');
  });
});
