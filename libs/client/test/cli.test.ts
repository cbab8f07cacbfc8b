import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlFrame, FrameType, opaqueFrame, parseJson, type JsonValue } from '@commucat/ccp1';
import { bytesToHex } from '@commucat/crypto';
import { type ConnectCommandOptions, runConnectCommand } from '../src/cli/connect-command';
import { TestGateway, type TestGatewayOptions } from './support/test-gateway';

let dir: string;
const gateways: TestGateway[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'commucat-cli-'));
});
afterEach(async () => {
  rmSync(dir, { recursive: true, force: true });
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
});

async function startGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const gateway = await TestGateway.start(options);
  gateways.push(gateway);
  return gateway;
}

interface Run {
  code: number;
  out: string[];
  err: string[];
}

/** Runs the command until `linesBeforeStop` stdout lines were printed, then "presses Ctrl-C". */
async function run(gateway: TestGateway, options: Partial<ConnectCommandOptions>, linesBeforeStop: number): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const abort = new AbortController();
  const finished = runConnectCommand({ url: gateway.url, insecure: true, ...options }, {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    signal: abort.signal,
  });
  let code: number | undefined;
  void finished.then((c) => {
    code = c;
  });
  await gateway.waitFor(() => out.length >= linesBeforeStop || code !== undefined);
  abort.abort();
  return { code: await finished, out, err };
}

const json = (line: string | undefined): Record<string, JsonValue> => parseJson(line ?? 'null') as Record<string, JsonValue>;

describe('commucat connect', () => {
  it('fetches the server key, prints a summary without the token and one JSON line per frame, and reuses the certificate', async () => {
    const gateway = await startGateway({
      afterAck: () => [
        opaqueFrame(FrameType.Msg, 5, 1, Buffer.from('hello world')),
        opaqueFrame(FrameType.VoiceFrame, 6, 2, Buffer.from([0xff, 0x00])),
        controlFrame(FrameType.Presence, 0, 3, { entity: 'x', big: 18_446_744_073_709_551_615n }),
      ],
    });
    const stateFile = join(dir, 'state.json');
    const first = await run(gateway, { stateFile, handle: 'alice' }, 4);
    const server = gateway.connections[0]!;
    expect(first.code).toBe(0);
    expect(first.err).toEqual([]);
    const summary = json(first.out[0]);
    expect(summary).toMatchObject({
      event: 'connected',
      pattern: 'XK',
      encrypted: false,
      handle: 'alice',
      user_id: 'user-alice',
      session_prefix: server.session.slice(0, 6),
      session_length: server.session.length,
      certificate_presented: false,
      certificate_stored: true,
    });
    expect(first.out.join('\n')).not.toContain(server.session);
    expect(json(first.out[1])).toEqual({ type: 'msg', channel: 5, sequence: 1, payload: { hex: bytesToHex(Buffer.from('hello world')), utf8: 'hello world' } });
    expect(json(first.out[2])).toEqual({ type: 'voice_frame', channel: 6, sequence: 2, payload: { hex: 'ff00' } });
    expect(first.out[3]).toBe('{"type":"presence","channel":0,"sequence":3,"payload":{"big":18446744073709551615,"entity":"x"}}');
    expect(json(first.out.at(-1))).toEqual({ event: 'closed', reason: 'local close' });
    await gateway.waitFor(() => server.requestEnded);

    expect(statSync(stateFile).mode & 0o777).toBe(0o600);
    const state = readFileSync(stateFile, 'utf8');
    expect(state).toContain('"certificate"');
    expect(first.out.join('\n')).not.toContain(json(state)['seed'] as string);

    const second = await run(gateway, { stateFile }, 1);
    expect(second.code).toBe(0);
    expect(json(second.out[0])).toMatchObject({ event: 'connected', certificate_presented: true, handle: 'alice' });
    const again = gateway.connections[1]!;
    expect(again.presentedCertificateValid).toBe(true);
    expect(controlValueOf(again.hello)['device_id']).toBe(controlValueOf(server.hello)['device_id']);
  });

  it('uses --server-static and --domain as given, and --noise-transport / --ik', async () => {
    const gateway = await startGateway();
    const result = await run(
      gateway,
      { serverStatic: bytesToHex(gateway.serverKey.publicKey), domain: gateway.domain, ik: true, noiseTransport: true },
      1,
    );
    expect(result.code).toBe(0);
    expect(json(result.out[0])).toMatchObject({ pattern: 'IK', encrypted: true, transport_encryption: 'noise' });
    expect(gateway.requests.some((request) => request[':path'] === '/api/server-info')).toBe(false);
  });

  it('prints a rejection as one error line on stderr and exits 1', async () => {
    const gateway = await startGateway({
      onHello: () => ({ kind: 'reject', error: { detail: 'pairing required', error: 'handshake', pairing_required: true, title: 'PairingRequired' } }),
    });
    const result = await run(gateway, { handle: 'bob' }, 1);
    expect(result.code).toBe(1);
    expect(result.out).toEqual([]);
    expect(json(result.err[0])).toMatchObject({ event: 'error', code: 'HandshakeRejected', title: 'PairingRequired', pairing_required: true });
  });
});

function controlValueOf(frame: { payload: { kind: string; value?: JsonValue } } | undefined): Record<string, JsonValue> {
  return (frame?.payload.value ?? {}) as Record<string, JsonValue>;
}
