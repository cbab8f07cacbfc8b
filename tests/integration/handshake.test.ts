import { FrameType, controlFrame, encodeFrame, type JsonValue } from '@commucat/ccp1';
import { NoiseHandshake, NoiseStaticKey, certificateFromJson, verifyCertificate, x25519PublicKey } from '@commucat/crypto';
import { createRedis, type Redis } from '@commucat/storage';
import { buildHello, createDeviceIdentity, fetchServerInfo } from '@commucat/client';
import { TestFleet } from '../support/fleet';
import { connectTo, newIdentity } from '../support/fleet-client';
import { rawExchange } from '../support/raw-connect';
import { stackEnv } from '../support/stack-env';

jest.setTimeout(60_000);
let fleet: TestFleet;
let redis: Redis;
beforeAll(async () => {
  fleet = await TestFleet.start();
  redis = createRedis(stackEnv().redisUrl);
});
afterAll(async () => {
  await redis?.quit();
  await fleet?.stop();
});

const waitFor = async (check: () => Promise<boolean>, ms = 5000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
};

describe('handshake against the real fleet', () => {
  test('GET /api/server-info gives what the real client pins', async () => {
    const info = await fetchServerInfo(fleet.gatewayUrl(), { ca: fleet.tlsCert });
    expect(info).toMatchObject({ domain: fleet.domain, supported_patterns: ['XK', 'IK'], supported_versions: [1] });
    expect(info.noise_public).toMatch(/^[0-9a-f]{64}$/);
    expect(info.device_ca_public).toMatch(/^[0-9a-f]{64}$/);
    expect((info.noise_keys as JsonValue[])).toHaveLength(1);
  });

  test('XK by the TS client: Auth, msg2 payload and Ack as the spec says; presence shows it online', async () => {
    const identity = newIdentity('xk');
    const conn = await connectTo(fleet, identity);
    expect(conn.encrypted).toBe(false);
    expect(Object.keys(conn.auth).sort()).toEqual(['device_id', 'handshake', 'protocol_version', 'server_static', 'supported_versions']);
    expect(conn.auth).toMatchObject({ device_id: identity.deviceId, protocol_version: 1, supported_versions: [1] });
    expect(conn.session).toMatch(/^[0-9a-f]{64}$/);
    expect(conn.handshakePayload).toMatchObject({ domain: fleet.domain, protocol_version: 1, session: conn.session });
    const userId = conn.handshakePayload.user_id as string;
    expect(conn.ack).toMatchObject({ handshake: 'ok', user_id: userId, pairing_required: false, user: { handle: identity.handle, id: userId, user_id: userId, display_name: null, avatar_url: null } });
    expect(JSON.stringify(conn.ack, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))).not.toContain(conn.session);
    const cert = certificateFromJson(conn.ack.device_certificate);
    expect(verifyCertificate(cert, Buffer.from(conn.ack.device_ca_public as string, 'hex'))).toBe(true);
    expect(cert.deviceId).toBe(identity.deviceId);
    expect(conn.certificateStored).toBe(true);

    await waitFor(async () => (await redis.get(`route:${identity.deviceId}`)) !== null);
    const route = JSON.parse((await redis.get(`route:${identity.deviceId}`))!);
    expect(route).toMatchObject({ deviceId: identity.deviceId, userId, gatewayId: expect.stringMatching(/^gw-0-/) });
    expect(JSON.parse((await redis.get(`presence:${identity.deviceId}`))!)).toMatchObject({ entity: identity.deviceId, state: 'online' });

    await conn.close();
    await waitFor(async () => (await redis.get(`route:${identity.deviceId}`)) === null);
    expect(JSON.parse((await redis.get(`presence:${identity.deviceId}`))!)).toMatchObject({ state: 'offline' });
  });

  test('IK by the TS client completes, acknowledged right after msg2', async () => {
    const conn = await connectTo(fleet, newIdentity('ik'), { pattern: 'IK' });
    expect(conn.ack.handshake).toBe('ok');
    expect(conn.session).toMatch(/^[0-9a-f]{64}$/);
    await conn.close();
  });

  test('a reconnecting device presents its certificate and gets the same one back', async () => {
    const identity = newIdentity('again');
    const first = await connectTo(fleet, identity);
    const serial = certificateFromJson(first.ack.device_certificate).serial;
    await first.close();
    expect(identity.certificate?.serial).toBe(serial);
    const second = await connectTo(fleet, identity);
    expect(certificateFromJson(second.ack.device_certificate).serial).toBe(serial);
    expect(second.ack.user_id).toBe(first.ack.user_id);
    const issued = await fleet.db.pool.query('SELECT count(*)::int AS n FROM device_certificate WHERE device_id = $1', [identity.deviceId]);
    expect(issued.rows[0].n).toBe(1);
    await second.close();
  });

  test('noise-transport: frames after the Ack travel as varint‖ciphertext units both ways', async () => {
    const conn = await connectTo(fleet, newIdentity('noise'), { noiseTransport: true });
    expect(conn.ack.transport_encryption).toBe('noise');
    expect(conn.encrypted).toBe(true);
    conn.sendControl(FrameType.Presence, 0, { state: 'online' });
    // An undecodable frame inside a valid unit gets the decode Error, sealed like every frame;
    // the stream stays in step, so the connection goes on (the reference would close it).
    conn.sendBytes(Buffer.from('0415000000', 'hex'));
    const error = await conn.nextFrame(5000);
    expect(error.type).toBe(FrameType.Error);
    expect(error.payload).toEqual({ kind: 'control', value: { error: 'decode', detail: expect.any(String), in_reply_to: 0 } });
    const seq = conn.sendControl(FrameType.Join, 77, { members: [] });
    const ack = await conn.nextFrame(5000);
    expect(ack.type).toBe(FrameType.Ack);
    expect(ack.payload).toEqual({ kind: 'control', value: { ack: seq } });
    await conn.close();
  });

  test('the session token is usable: the directory knows it', async () => {
    const conn = await connectTo(fleet, newIdentity('sess'));
    const { createHash } = await import('node:crypto');
    const digest = createHash('sha256').update(conn.session).digest();
    const row = await fleet.db.pool.query('SELECT device_id, expires_at FROM session WHERE token_hash = $1', [digest]);
    expect(row.rows[0].device_id).toBe(conn.identity.deviceId);
    expect(new Date(row.rows[0].expires_at).getTime()).toBeGreaterThan(Date.now() + 3000 * 1000);
    await conn.close();
  });

  test('the device certificate JSON keeps u64 serials exact', async () => {
    const conn = await connectTo(fleet, newIdentity('serial'));
    const summary = conn.ack.certificate as Record<string, JsonValue>;
    expect(BigInt(summary.serial as number | bigint)).toBe(certificateFromJson(conn.ack.device_certificate).serial);
    await conn.close();
  });
});

describe('a client that leaves mid-handshake', () => {
  test('an IK Hello followed at once by END_STREAM leaves no route behind', async () => {
    const info = await fetchServerInfo(fleet.gatewayUrl(), { ca: fleet.tlsCert });
    const identity = createDeviceIdentity({ handle: `leaver-${Date.now()}` });
    const noise = new NoiseHandshake({ pattern: 'IK', initiator: true, prologue: Buffer.from('commucat'), staticKey: NoiseStaticKey.fromPrivate(identity.keys.privateKey), remoteStatic: Buffer.from(info.noise_public as string, 'hex') });
    const hello = buildHello({ identity, domain: fleet.domain, pattern: 'IK', clientStatic: x25519PublicKey(identity.keys.privateKey), handshakeMessage: noise.writeMessage(), capabilities: [] });
    const res = await rawExchange(fleet.gatewayUrl(), fleet.tlsCert, [encodeFrame(controlFrame(FrameType.Hello, 0, 1, hello))], { endRequest: true });
    expect(res.ending).toBe('end');
    await new Promise((r) => setTimeout(r, 1000));
    expect(await redis.get(`route:${identity.deviceId}`)).toBeNull();
  });
});
