// What a deployed gateway must do for a client, written against nothing but its URL: the cluster
// suite (skaffold verify, COMMUCAT_GATEWAY_URL) and the integration suite (a local fleet) both
// run these, so the suite the cluster runs is proven in `make test` first.

import { type Frame, FrameType } from '@commucat/ccp1';
import {
  type ClientConnection,
  connectClient,
  createDeviceIdentity,
  type DeviceIdentity,
  fetchServerInfo,
  runSmokeCheck,
} from '@commucat/client';
import { hexToBytes } from '@commucat/crypto';
import { randomBytes, randomInt } from 'node:crypto';
import * as http2 from 'node:http2';

export interface GatewayTarget {
  /** https://host:port */
  readonly url: string;
  readonly ca?: Buffer;
  /** false: any certificate (self-signed in-cluster gateway). */
  readonly rejectUnauthorized?: boolean;
}

const tlsOf = (t: GatewayTarget) => ({
  ...(t.ca === undefined ? {} : { ca: t.ca }),
  ...(t.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: t.rejectUnauthorized }),
});

/** A high random channel, so runs against a shared deployment never meet. */
const freshChannel = (): number => 0xa0000000 + randomInt(0x1fffffff);
const freshHandle = (role: string): string => `cluster-${role}-${randomBytes(4).toString('hex')}`;

async function serverKey(target: GatewayTarget): Promise<{ domain: string; serverStatic: Uint8Array }> {
  const info = await fetchServerInfo(target.url, tlsOf(target));
  return { domain: info.domain as string, serverStatic: hexToBytes(info.noise_public as string) };
}

async function connect(target: GatewayTarget, identity: DeviceIdentity): Promise<ClientConnection> {
  return connectClient({ url: target.url, identity, ...(await serverKey(target)), ...tlsOf(target) });
}

async function nextOf(conn: ClientConnection, wanted: (f: Frame) => boolean, what: string): Promise<Frame> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new Error(`timed out waiting for ${what}`);
    const frame = await conn.nextFrame(remaining);
    if (wanted(frame)) return frame;
  }
}

const controlOf = (f: Frame): Record<string, unknown> => (f.payload.kind === 'control' ? (f.payload.value as Record<string, unknown>) : {});
const textOf = (f: Frame): string => (f.payload.kind === 'opaque' ? Buffer.from(f.payload.bytes).toString() : '');
const isAnswer = (f: Frame) => f.type === FrameType.Ack || f.type === FrameType.Error;

async function answer(conn: ClientConnection, type: FrameType, channel: number, value: Record<string, unknown>): Promise<Frame> {
  conn.sendControl(type, channel, value as never);
  return nextOf(conn, isAnswer, `the answer to ${FrameType[type]}`);
}

async function join(conn: ClientConnection, channel: number): Promise<void> {
  const reply = await answer(conn, FrameType.Join, channel, { members: [conn.identity.deviceId], relay: false });
  if (reply.type !== FrameType.Ack) throw new Error(`Join refused: ${JSON.stringify(controlOf(reply))}`);
}

export async function smokeCheckPasses(target: GatewayTarget): Promise<void> {
  const result = await runSmokeCheck({ url: target.url, handlePrefix: 'cluster-smoke', ...tlsOf(target) });
  expect(result.steps.map((s) => s.step)).toEqual(['server-info', 'handshake-sender', 'handshake-receiver', 'join', 'message']);
  expect(result.sender).not.toBe(result.receiver);
}

export async function serverInfoDescribesTheServer(target: GatewayTarget): Promise<void> {
  const info = await fetchServerInfo(target.url, tlsOf(target));
  expect(info.noise_public).toMatch(/^[0-9a-f]{64}$/);
  expect(typeof info.domain).toBe('string');
  expect(info.supported_patterns).toEqual(expect.arrayContaining(['XK']));
}

/** A device that was offline gets what was sent meanwhile, in order, when it reconnects. */
export async function offlineDeviceGetsItsInboxInOrder(target: GatewayTarget): Promise<void> {
  const channel = freshChannel();
  const alice = createDeviceIdentity({ handle: freshHandle('alice') });
  const bob = createDeviceIdentity({ handle: freshHandle('bob') });
  const a = await connect(target, alice);
  let b = await connect(target, bob);
  try {
    await join(a, channel);
    await join(b, channel);
    await b.close();
    const texts = ['first', 'second', 'third'].map((word) => `${word} ${randomBytes(3).toString('hex')}`);
    for (const text of texts) {
      const sequence = a.sendOpaque(FrameType.Msg, channel, Buffer.from(text));
      const reply = await nextOf(a, isAnswer, 'the Msg Ack');
      expect(controlOf(reply)).toEqual({ ack: sequence });
    }
    b = await connect(target, bob);
    const received: string[] = [];
    for (const _ of texts) received.push(textOf(await nextOf(b, (f) => f.type === FrameType.Msg && f.channel === channel, 'a queued Msg')));
    expect(received).toEqual(texts);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

/** A frame the server refuses gets an Error with a stable code; the connection keeps working. */
export async function refusedFrameKeepsTheConnection(target: GatewayTarget): Promise<void> {
  const conn = await connect(target, createDeviceIdentity({ handle: freshHandle('carol') }));
  try {
    const outsider = freshChannel();
    conn.sendOpaque(FrameType.Msg, outsider, Buffer.from('not a member here'));
    const refusal = await nextOf(conn, isAnswer, 'the answer to a Msg on a foreign channel');
    expect(refusal.type).toBe(FrameType.Error);
    expect(controlOf(refusal)).toMatchObject({ error: 'not_member' });
    const channel = freshChannel();
    await join(conn, channel);
  } finally {
    await conn.close();
  }
}

/** REST without a session is refused as problem+json, not served or crashed. */
export async function restWithoutSessionIsProblemJson(target: GatewayTarget): Promise<void> {
  const session = http2.connect(target.url, tlsOf(target));
  try {
    const { status, contentType, body } = await new Promise<{ status: number; contentType: string; body: string }>((resolve, reject) => {
      const req = session.request({ ':method': 'GET', ':path': '/api/friends' });
      let body = '';
      let status = 0;
      let contentType = '';
      req.on('response', (headers) => {
        status = Number(headers[':status']);
        contentType = String(headers['content-type'] ?? '');
      });
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => resolve({ status, contentType, body }));
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(401);
    expect(contentType).toContain('application/problem+json');
    expect(JSON.parse(body)).toMatchObject({ status: 401 });
  } finally {
    session.close();
  }
}

/** Every scenario, by name, for the suites that run them all. */
export const SCENARIOS: ReadonlyArray<readonly [string, (target: GatewayTarget) => Promise<void>]> = [
  ['server-info describes the server', serverInfoDescribesTheServer],
  ['the smoke check passes (two new devices exchange a message)', smokeCheckPasses],
  ['an offline device gets its inbox in order on reconnect', offlineDeviceGetsItsInboxInOrder],
  ['a refused frame gets an Error and the connection keeps working', refusedFrameKeepsTheConnection],
  ['REST without a session answers 401 problem+json', restWithoutSessionIsProblemJson],
];
