import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameType, type Frame, type JsonValue } from '@commucat/ccp1';
import { fetchServerInfo, type ClientConnection } from '@commucat/client';
import { TestFleet } from '../support/fleet';
import { connectTo, newIdentity } from '../support/fleet-client';

// The published crates' client code (commucat-proto/-crypto 1.0.41, what the real client links)
// chatting with a TS client through two gateways: Join / Msg / Leave as in spec Appendix B.
jest.setTimeout(240_000);
const RUN_SH = join(__dirname, '..', 'interop', 'run.sh');
const CHANNEL = 5;
let fleet: TestFleet;
let scratch: string;
beforeAll(async () => {
  fleet = await TestFleet.start({ gateways: 2 });
  scratch = mkdtempSync(join(tmpdir(), 'rust-chat-'));
});
afterAll(async () => {
  await fleet?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

interface HarnessRun {
  readonly done: Promise<{ status: number | null; stdout: string; stderr: string }>;
  readonly exited: () => boolean;
  kill(): void;
}

/** Starts `run.sh client …` in the background (it builds first if needed). */
function startHarness(args: string[]): HarnessRun {
  const child = spawn('bash', [RUN_SH, 'client', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let exited = false;
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => {
      exited = true;
      resolve({ status, stdout, stderr });
    });
  });
  return { done, exited: () => exited, kill: () => child.kill() };
}

/** Waits for a file the harness writes; fails at once if the harness exits first. */
async function waitForFile(path: string, harness: HarnessRun, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (harness.exited()) {
      const { status, stdout, stderr } = await harness.done;
      throw new Error(`harness exited (${status}) before writing ${path}:\n${stdout}\n${stderr}`);
    }
    if (Date.now() > deadline) throw new Error(`harness did not write ${path} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const text = (f: Frame) => (f.payload.kind === 'opaque' ? Buffer.from(f.payload.bytes).toString() : '');
const control = (f: Frame) => (f.payload.kind === 'control' ? (f.payload.value as Record<string, JsonValue>) : {});

/** Reads frames until `done` says the collected ones are enough. */
async function collectUntil(conn: ClientConnection, done: (frames: Frame[]) => boolean): Promise<Frame[]> {
  const frames: Frame[] = [];
  while (!done(frames)) frames.push(await conn.nextFrame(20_000));
  return frames;
}

describe('Rust harness (crates 1.0.41) and a TS client chat across two gateways', () => {
  test('each side receives the other side\'s text on channel 5 and the harness leaves cleanly', async () => {
    const info = await fetchServerInfo(fleet.gatewayUrl(0), { ca: fleet.tlsCert });
    const ready = join(scratch, 'harness-joined');
    const go = join(scratch, 'ts-joined');
    const harness = startHarness([
      '--url', fleet.gatewayUrl(0),
      '--domain', fleet.domain,
      '--server-static', info.noise_public as string,
      '--crates', '41',
      '--handle', `rust-chat-${process.pid}-${Date.now()}`,
      '--join', String(CHANNEL),
      '--ready-file', ready,
      '--wait-file', go,
      '--send', 'hello from rust',
      '--expect', 'hello from ts',
      '--timeout-ms', '30000',
    ]);
    let ts: ClientConnection | undefined;
    try {
      // The first run may compile the harness.
      await waitForFile(ready, harness, 200_000);
      const identity = newIdentity('ts-chat');
      ts = await connectTo(fleet, identity, { gateway: 1 });
      const joinSeq = ts.sendControl(FrameType.Join, CHANNEL, { members: [identity.deviceId], relay: false });
      const [joinAck] = await collectUntil(ts, (frames) => frames.some((f) => f.type === FrameType.Ack || f.type === FrameType.Error));
      expect(joinAck).toMatchObject({ type: FrameType.Ack, channel: CHANNEL });
      expect(control(joinAck)).toEqual({ ack: joinSeq });
      writeFileSync(go, '');

      const msgSeq = ts.sendOpaque(FrameType.Msg, CHANNEL, Buffer.from('hello from ts'));
      const frames = await collectUntil(
        ts,
        (got) => got.some((f) => f.type === FrameType.Ack && control(f).ack === msgSeq) && got.some((f) => f.type === FrameType.Msg && text(f) === 'hello from rust'),
      );
      expect(frames.filter((f) => f.type === FrameType.Error)).toEqual([]);
      expect(frames.find((f) => f.type === FrameType.Msg)).toMatchObject({ channel: CHANNEL });

      const { status, stdout, stderr } = await harness.done;
      const line = stdout.trim().split('\n').pop() ?? '';
      let out: Record<string, unknown>;
      try {
        out = JSON.parse(line);
      } catch {
        throw new Error(`harness printed no JSON (exit ${status}):\n${stdout}\n${stderr}`);
      }
      if (status !== 0) throw new Error(`harness failed (exit ${status}): ${line}\n${stderr}`);
      expect(out).toMatchObject({ ok: true, crates: '1.0.41', certificate_verified: true });
      const conversation = out.conversation as {
        joined: number;
        sent: { channel: number; sequence: number; type: string; text: string }[];
        received: { channel: number; sequence: number; type: string; text: string }[];
        acks: { channel: number; sequence: number; payload: Record<string, JsonValue> }[];
      };
      expect(conversation.joined).toBe(CHANNEL);
      // One client counter for all channels starting at 3 (§4.9): Join 3, Msg 4, Leave 5.
      expect(conversation.sent.map((s) => [s.type, s.channel, s.sequence])).toEqual([
        ['Join', CHANNEL, 3],
        ['Msg', CHANNEL, 4],
        ['Leave', CHANNEL, 5],
      ]);
      expect(conversation.sent[1].text).toBe('hello from rust');
      expect(conversation.received).toContainEqual(expect.objectContaining({ type: 'Msg', channel: CHANNEL, text: 'hello from ts' }));
      expect(conversation.acks.filter((a) => a.channel === CHANNEL).map((a) => a.payload.ack)).toEqual([3, 4, 5]);
    } finally {
      if (!harness.exited()) harness.kill();
      await ts?.close();
    }
  });
});
