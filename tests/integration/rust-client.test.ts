import { fetchServerInfo } from '@commucat/client';
import { runHarness } from '../interop/support/harness';
import { TestFleet } from '../support/fleet';

// The published crates' own client code (commucat-proto/-crypto 1.0.41, what the real client
// links, and 1.0.103) completing the handshake against the fleet.
jest.setTimeout(180_000);
let fleet: TestFleet;
let serverStatic: string;
beforeAll(async () => {
  fleet = await TestFleet.start();
  serverStatic = (await fetchServerInfo(fleet.gatewayUrl(), { ca: fleet.tlsCert })).noise_public as string;
});
afterAll(() => fleet?.stop());

function harnessClient(crates: '41' | '103', extra: string[] = []): Record<string, unknown> {
  const res = runHarness(['client', '--url', fleet.gatewayUrl(), '--domain', fleet.domain, '--server-static', serverStatic, '--crates', crates, ...extra]);
  const line = res.stdout.trim().split('\n').pop() ?? '';
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new Error(`harness printed no JSON (exit ${res.status}):\n${res.stdout}\n${res.stderr}`);
  }
  if (res.status !== 0) throw new Error(`harness failed: ${line}\n${res.stderr}`);
  return parsed;
}

describe.each(['41', '103'] as const)('Rust harness with crates 1.0.%s', (crates) => {
  const handle = `rust${crates}-${process.pid}-${Date.now()}`;

  test('completes XK; the crate parses and verifies the Auth, msg2 payload and Ack', () => {
    const out = harnessClient(crates, ['--handle', handle]);
    expect(out.ok).toBe(true);
    expect(out.alpn).toBe('h2');
    expect(out.ack).toMatchObject({ handshake: 'ok', pairing_required: false, user: { handle } });
    expect(out.ack_frame).toEqual({ channel: 0, sequence: 2 });
  });

  test('an unknown device naming that existing handle is refused with PairingRequired', () => {
    const out = harnessClient(crates, ['--handle', handle, '--expect-error']);
    expect(out.ok).toBe(true);
    const frame = out.error_frame as { channel: number; sequence: number; payload: { json: string } };
    expect(frame).toMatchObject({ channel: 0, sequence: 1 });
    expect(JSON.parse(frame.payload.json)).toEqual({ detail: 'pairing required', error: 'handshake', pairing_required: true, title: 'PairingRequired' });
  });
});
