// The cluster suite's scenarios (tests/cluster) and `commucat-cli smoke` against a local fleet:
// what skaffold verify and `helm test` run in a cluster is proven here first.
import { SCENARIOS } from '../cluster/scenarios';
import { cli } from '../support/cli-run';
import { TestFleet } from '../support/fleet';
import { freePort } from '../support/ports';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

jest.setTimeout(120_000);

let fleet: TestFleet;
let caFile: string;

beforeAll(async () => {
  fleet = await TestFleet.start({ media: false, federation: false });
  caFile = path.join(mkdtempSync(path.join(tmpdir(), 'commucat-smoke-')), 'gateway.pem');
  writeFileSync(caFile, fleet.tlsCert);
});

afterAll(async () => {
  await fleet?.stop();
});

describe('cluster scenarios against a local fleet', () => {
  test.each(SCENARIOS)('%s', async (_name, scenario) => {
    await scenario({ url: fleet.gatewayUrl(), ca: fleet.tlsCert });
  });
});

describe('commucat-cli smoke', () => {
  test('passes against the gateway with its certificate pinned, and reports each step', async () => {
    const run = await cli(['smoke', '--gateway', fleet.gatewayUrl(), '--ca', caFile, '--json'], process.env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc).toMatchObject({ ok: true, gateway: fleet.gatewayUrl(), domain: fleet.domain });
    expect(doc.steps.map((s: { step: string }) => s.step)).toEqual(['server-info', 'handshake-sender', 'handshake-receiver', 'join', 'message']);
    expect(doc.sender).not.toBe(doc.receiver);
  });

  test('--insecure accepts the self-signed certificate; without it TLS fails with a hint (exit 3)', async () => {
    const insecure = await cli(['smoke', '--gateway', fleet.gatewayUrl(), '--insecure'], process.env);
    expect(insecure.code).toBe(0);
    expect(insecure.stdout).toContain('smoke check passed');

    const untrusted = await cli(['smoke', '--gateway', fleet.gatewayUrl(), '--json'], process.env);
    expect(untrusted.code).toBe(3);
    const error = JSON.parse(untrusted.stdout).error;
    expect(error.message).toMatch(/^smoke check failed at server-info: Tls/);
    expect(error.hint).toMatch(/--ca/);
  });

  test('an unreachable gateway exits 3 naming the step', async () => {
    const port = await freePort();
    const run = await cli(['smoke', '--gateway', `https://127.0.0.1:${port}`, '--insecure', '--json', '--timeout', '2000'], process.env);
    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout).error.message).toMatch(/^smoke check failed at server-info: Network/);
  });

  test('a server that does not auto-approve devices fails at the first handshake with a clear hint (exit 1)', async () => {
    const strict = await TestFleet.start({ media: false, federation: false, env: { COMMUCAT_AUTO_APPROVE_DEVICES: 'false' } });
    try {
      const run = await cli(['smoke', '--gateway', strict.gatewayUrl(), '--insecure', '--json'], process.env);
      expect(run.code).toBe(1);
      expect(JSON.parse(run.stdout).error.message).toMatch(/^smoke check failed at handshake-sender: .*auto-approval/);
    } finally {
      await strict.stop();
    }
  });

  test('bad flags are usage errors (exit 2)', async () => {
    for (const args of [['smoke'], ['smoke', '--gateway', 'http://x:1'], ['smoke', '--gateway', 'https://x:1', '--ca', caFile, '--insecure']]) {
      const run = await cli(args, { ...process.env, COMMUCAT_GATEWAY_URL: '' });
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
    }
  });
});
