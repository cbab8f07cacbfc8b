// The smallest end-to-end proof that a deployment works: two brand-new devices sign up through
// the gateway's Noise handshake, share a channel, and one's message reaches the other. Used by
// `commucat-cli smoke` (the Helm test pod) and by the cluster suite (skaffold verify).

import { randomBytes, randomInt } from 'node:crypto';
import { type Frame, FrameType } from '@commucat/ccp1';
import { hexToBytes } from '@commucat/crypto';
import { connectClient, type ClientConnection } from './connection';
import { ClientError, HandshakeRejectedError } from './errors';
import { createDeviceIdentity } from './identity';
import { fetchServerInfo } from './server-info';

export interface SmokeCheckOptions {
  /** The gateway's origin, e.g. https://commucat-gateway:8443. */
  url: string;
  /** PEM of the CA (or self-signed certificate) the gateway's TLS certificate chains to. */
  ca?: Buffer | string;
  /** false accepts any TLS certificate (in-cluster checks against a self-signed gateway). */
  rejectUnauthorized?: boolean;
  /** Per step; default 10 s. */
  timeoutMs?: number;
  /** Prefix of the two throw-away handles; default "smoke". */
  handlePrefix?: string;
}

export type SmokeStepName = 'server-info' | 'handshake-sender' | 'handshake-receiver' | 'join' | 'message';

export interface SmokeStep {
  readonly step: SmokeStepName;
  readonly ms: number;
}

export interface SmokeCheckResult {
  readonly domain: string;
  readonly channel: number;
  readonly sender: string;
  readonly receiver: string;
  readonly steps: readonly SmokeStep[];
}

/** A failed smoke check: which step broke and why (the cause keeps the client error). */
export class SmokeCheckError extends Error {
  override readonly name = 'SmokeCheckError';
  constructor(
    readonly step: SmokeStepName,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${step}: ${message}`, options);
  }
}

const DEFAULT_TIMEOUT_MS = 10_000;
// Channels of smoke runs sit high in the u32 space, away from the small numbers real clients use.
const CHANNEL_BASE = 0xc0000000;
const CHANNEL_SPAN = 0x3fffffff;

export async function runSmokeCheck(options: SmokeCheckOptions): Promise<SmokeCheckResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const tls = {
    ...(options.ca === undefined ? {} : { ca: options.ca }),
    ...(options.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: options.rejectUnauthorized }),
  };
  const steps: SmokeStep[] = [];
  const timed = async <T>(step: SmokeStepName, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      const value = await work();
      steps.push({ step, ms: Math.round((performance.now() - started) * 10) / 10 });
      return value;
    } catch (error) {
      throw new SmokeCheckError(step, describe(error), { cause: error });
    }
  };

  const info = await timed('server-info', () => fetchServerInfo(options.url, { ...tls, timeoutMs }));
  const domain = typeof info.domain === 'string' ? info.domain : '';
  const noisePublic = typeof info.noise_public === 'string' ? info.noise_public : '';
  if (domain === '' || !/^[0-9a-f]{64}$/i.test(noisePublic)) {
    throw new SmokeCheckError('server-info', 'the answer lacks domain or a 32-byte hex noise_public');
  }
  const run = `${options.handlePrefix ?? 'smoke'}-${randomBytes(5).toString('hex')}`;
  const connect = (handle: string) =>
    connectClient({ url: options.url, domain, serverStatic: hexToBytes(noisePublic), identity: createDeviceIdentity({ handle }), timeoutMs, ...tls });

  const sender = await timed('handshake-sender', () => connect(`${run}-a`));
  let receiver: ClientConnection | undefined;
  try {
    receiver = await timed('handshake-receiver', () => connect(`${run}-b`));
    const channel = CHANNEL_BASE + randomInt(CHANNEL_SPAN);
    const both = [sender, receiver] as const;
    await timed('join', () => Promise.all(both.map((conn) => joinAlone(conn, channel, timeoutMs))));
    const text = `smoke ${run}`;
    await timed('message', () => deliver(sender, receiver!, channel, text, timeoutMs));
    await Promise.all(both.map((conn) => leave(conn, channel, timeoutMs)));
    return { domain, channel, sender: sender.identity.deviceId, receiver: receiver.identity.deviceId, steps };
  } finally {
    await Promise.all([sender.close(), receiver?.close()]);
  }
}

/** Joins the way the real client does (only itself declared) and waits for the Ack. */
async function joinAlone(conn: ClientConnection, channel: number, timeoutMs: number): Promise<void> {
  const sequence = conn.sendControl(FrameType.Join, channel, { members: [conn.identity.deviceId], relay: false });
  await answerTo(conn, sequence, timeoutMs);
}

async function leave(conn: ClientConnection, channel: number, timeoutMs: number): Promise<void> {
  const sequence = conn.sendControl(FrameType.Leave, channel, {});
  await answerTo(conn, sequence, timeoutMs);
}

/** Sends `text`, waits for the sender's Ack and for the receiver's copy of exactly that text. */
async function deliver(sender: ClientConnection, receiver: ClientConnection, channel: number, text: string, timeoutMs: number): Promise<void> {
  const sequence = sender.sendOpaque(FrameType.Msg, channel, Buffer.from(text));
  const received = nextMatching(receiver, timeoutMs, (f) => f.type === FrameType.Msg && f.channel === channel);
  await answerTo(sender, sequence, timeoutMs);
  const frame = await received;
  const body = frame.payload.kind === 'opaque' ? Buffer.from(frame.payload.bytes).toString() : '';
  if (body !== text) throw new ClientError('Protocol', `the receiver got ${JSON.stringify(body.slice(0, 80))} instead of the message`);
}

/** The Ack for `sequence`; an Error frame answering it becomes ClientError('Refused'). */
async function answerTo(conn: ClientConnection, sequence: number, timeoutMs: number): Promise<void> {
  const frame = await nextMatching(conn, timeoutMs, (f) => f.type === FrameType.Ack || f.type === FrameType.Error);
  const value = frame.payload.kind === 'control' ? (frame.payload.value as Record<string, unknown>) : {};
  if (frame.type === FrameType.Error) throw new ClientError('Refused', `the server answered ${JSON.stringify(value)}`);
  if (value.ack !== sequence) throw new ClientError('Protocol', `expected the Ack of ${sequence}, got ${JSON.stringify(value)}`);
}

async function nextMatching(conn: ClientConnection, timeoutMs: number, wanted: (f: Frame) => boolean): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const frame = await conn.nextFrame(Math.max(1, deadline - Date.now()));
    if (wanted(frame)) return frame;
  }
}

function describe(error: unknown): string {
  if (error instanceof HandshakeRejectedError && error.pairingRequired) {
    return `${error.message} (the server does not approve new devices automatically: enable auto-approval for smoke checks)`;
  }
  if (error instanceof ClientError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
