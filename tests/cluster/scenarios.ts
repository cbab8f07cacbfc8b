// What a deployed gateway must do for a client, written against nothing but its URL: the cluster
// suite (skaffold verify, COMMUCAT_GATEWAY_URL) and the integration suite (a local fleet) both
// run these, so the suite the cluster runs is proven in `make test` first.

import { FrameType } from '@commucat/ccp1';
import { connectClient, createDeviceIdentity, type DeviceIdentity, fetchServerInfo, runSmokeCheck } from '@commucat/client';
import { hexToBytes } from '@commucat/crypto';
import { randomBytes, randomInt } from 'node:crypto';
import { control, Peer, text } from '../support/conversation';
import { restTo, type RestTarget } from '../support/rest-client';

/** The gateway under test: https://host:port and its TLS trust. */
export type GatewayTarget = RestTarget;

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

/** A device connected to the target, read in order through the tests' Peer. */
async function connect(target: GatewayTarget, identity: DeviceIdentity): Promise<Peer> {
  return new Peer(await connectClient({ url: target.url, identity, ...(await serverKey(target)), ...tlsOf(target) }), identity);
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
  const bob = createDeviceIdentity({ handle: freshHandle('bob') });
  const a = await connect(target, createDeviceIdentity({ handle: freshHandle('alice') }));
  let b = await connect(target, bob);
  try {
    await a.join(channel);
    await b.join(channel);
    await b.close();
    const texts = ['first', 'second', 'third'].map((word) => `${word} ${randomBytes(3).toString('hex')}`);
    for (const message of texts) await a.say(channel, message);
    b = await connect(target, bob);
    const received: string[] = [];
    for (const _ of texts) received.push(text(await b.nextMatching((f) => f.type === FrameType.Msg && f.channel === channel, 'a queued Msg')));
    expect(received).toEqual(texts);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

/** A frame the server refuses gets an Error with a stable code; the connection keeps working. */
export async function refusedFrameKeepsTheConnection(target: GatewayTarget): Promise<void> {
  const conn = await connect(target, createDeviceIdentity({ handle: freshHandle('carol') }));
  try {
    conn.sendText(freshChannel(), 'not a member here');
    const refusal = await conn.reply();
    expect(refusal.type).toBe(FrameType.Error);
    expect(control(refusal)).toMatchObject({ error: 'not_member' });
    await conn.join(freshChannel());
  } finally {
    await conn.close();
  }
}

/** REST without a session is refused as problem+json, not served or crashed. */
export async function restWithoutSessionIsProblemJson(target: GatewayTarget): Promise<void> {
  const { status, headers, json } = await restTo(target, 'GET', '/api/friends');
  expect(status).toBe(401);
  expect(String(headers['content-type'])).toContain('application/problem+json');
  expect(json).toMatchObject({ status: 401 });
}

/** Every scenario, by name, for the suites that run them all. */
export const SCENARIOS: ReadonlyArray<readonly [string, (target: GatewayTarget) => Promise<void>]> = [
  ['server-info describes the server', serverInfoDescribesTheServer],
  ['the smoke check passes (two new devices exchange a message)', smokeCheckPasses],
  ['an offline device gets its inbox in order on reconnect', offlineDeviceGetsItsInboxInOrder],
  ['a refused frame gets an Error and the connection keeps working', refusedFrameKeepsTheConnection],
  ['REST without a session answers 401 problem+json', restWithoutSessionIsProblemJson],
];
