import { randomBytes } from 'node:crypto';
import { connectBus, Streams } from '@commucat/bus';
import { FrameType, parseJson, type Frame, type JsonValue } from '@commucat/ccp1';
import { createDeviceIdentity, type DeviceIdentity } from '@commucat/client';
import { DeviceKeyPair, blake3, certificateFromJson, ed25519Sign, verifyCertificate } from '@commucat/crypto';
import { Peer, control } from '../support/conversation';
import { TestFleet } from '../support/fleet';
import { connectTo, newIdentity } from '../support/fleet-client';
import { rest, type RestReply } from '../support/rest-client';

jest.setTimeout(120_000);

const P = (code: string) => `https://commucat.dev/problems/${code}`;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+00:00$/;
const NOTIFY_CHANNEL = 0;

interface Member { peer: Peer; identity: DeviceIdentity; token: string; userId: string; deviceId: string }

/** Spec rest-storage-ops §4.1 step 5, written out independently of the directory's code. */
function rotationProof(deviceId: string, current: DeviceKeyPair, next: DeviceKeyPair, expiresAt: number, nonce?: Buffer): string {
  const expires = Buffer.alloc(8);
  expires.writeBigInt64BE(BigInt(expiresAt));
  const digest = blake3(Buffer.concat([Buffer.from('commucat:device-rotation:v1'), Buffer.from(deviceId), next.publicKey, expires, nonce ?? Buffer.alloc(0)]));
  return ed25519Sign(current.privateKey, digest).toString('hex');
}

const isKeyUpdate = (f: Frame): boolean => f.type === FrameType.KeyUpdate;
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

describe('device key rotation over the fleet', () => {
  let fleet: TestFleet;
  const peers: Peer[] = [];

  beforeAll(async () => {
    fleet = await TestFleet.start({ gateways: 2, env: { COMMUCAT_ROTATION_DEVICE_MIN_INTERVAL: '0', COMMUCAT_RATE_PAIRING_BURST: '100000' } });
  });
  afterAll(async () => {
    for (const peer of peers) await peer.close().catch(() => undefined);
    const namespace = fleet?.natsNamespace;
    await fleet?.stop();
    if (namespace) {
      const bus = await connectBus({ servers: fleet.env().COMMUCAT_NATS_URL!, name: 'device-rotation-cleanup', namespace });
      await bus.removeStream(Streams.routerNotice.name).finally(() => bus.close());
    }
  });

  async function connect(identity: DeviceIdentity, gateway: number): Promise<Member> {
    const conn = await connectTo(fleet, identity, { gateway });
    const peer = new Peer(conn, identity);
    peers.push(peer);
    return { peer, identity, token: conn.session, userId: identity.userId!, deviceId: identity.deviceId };
  }

  /** A second device of `owner`'s user, paired with a client-generated key, connected to `gateway`. */
  async function pairedDevice(owner: Member, gateway: number): Promise<Member> {
    const code = await rest(fleet, 'POST', '/api/pair', { token: owner.token, body: {} });
    expect(code.status).toBe(200);
    const seed = randomBytes(64);
    const keys = DeviceKeyPair.fromSeed(seed);
    const claim = await rest(fleet, 'POST', '/api/pair/claim', {
      body: {
        pair_code: code.json.pair_code,
        device_public: keys.publicKey.toString('hex'),
        device_signature: ed25519Sign(keys.privateKey, Buffer.concat([Buffer.from(`commucat-pair-claim:${code.json.pair_code}`), keys.publicKey])).toString('hex'),
      },
    });
    expect(claim.status).toBe(200);
    const identity = createDeviceIdentity({ seed, deviceId: claim.json.device_id, handle: claim.json.user.handle });
    identity.userId = claim.json.user.id;
    identity.certificate = certificateFromJson((parseJson(claim.text) as Record<string, JsonValue>).device_certificate!);
    identity.deviceCaPublic = Buffer.from(claim.json.device_ca_public, 'hex');
    return connect(identity, gateway);
  }

  async function listFriends(member: Member, friends: Member[]): Promise<void> {
    const res = await rest(fleet, 'PUT', '/api/friends', { token: member.token, body: { friends: friends.map((f) => ({ user_id: f.userId })) } });
    expect(res.status).toBe(200);
  }

  async function queuedKeyUpdates(deviceId: string): Promise<number> {
    const { rows } = await fleet.db.pool.query("SELECT count(*)::int AS n FROM relay_queue WHERE device_id = $1 AND message_id LIKE 'keyupdate:%'", [deviceId]);
    return rows[0].n as number;
  }

  const rotate = (member: Member, body: Record<string, unknown>, gateway = 0): Promise<RestReply> =>
    rest(fleet, 'POST', '/api/device/csr', { token: member.token, body, gateway });

  test('server-info reports the configured rotation', async () => {
    const info = await rest(fleet, 'GET', '/api/server-info');
    expect(info.json.device_rotation).toEqual({ enabled: true, min_interval_seconds: 0, proof_ttl_seconds: 600 });
  });

  test('a rotation reaches the user\'s devices and mutual friends (online now, offline on reconnect), and only the new key connects', async () => {
    const a1 = await connect(newIdentity('rot-a'), 0);
    const a2 = await pairedDevice(a1, 1);
    const friendOnline = await connect(newIdentity('rot-b'), 1);
    const friendOffline = await connect(newIdentity('rot-c'), 0);
    const oneSided = await connect(newIdentity('rot-d'), 0);
    await listFriends(a1, [friendOnline, friendOffline]);
    await listFriends(friendOnline, [a1]);
    await listFriends(friendOffline, [a1]);
    await listFriends(oneSided, [a1]); // A does not list D back
    await friendOffline.peer.close();

    const nextSeed = randomBytes(64);
    const next = DeviceKeyPair.fromSeed(nextSeed);
    const expiresAt = nowSeconds() + 300;
    const nonce = randomBytes(16);
    const res = await rotate(a1, {
      public_key: next.publicKey.toString('hex'),
      signature: rotationProof(a1.deviceId, a1.identity.keys, next, expiresAt, nonce),
      expires_at: new Date(expiresAt * 1000).toISOString(),
      nonce: nonce.toString('hex'),
    }, 1);
    expect(res.status).toBe(200);
    const body = parseJson(res.text) as Record<string, JsonValue>;
    expect(body).toMatchObject({
      device_id: a1.deviceId, user_id: a1.userId,
      public_key: next.publicKey.toString('hex'), old_public_key: a1.identity.keys.publicKey.toString('hex'),
      proof_expires_at: new Date(expiresAt * 1000).toISOString().replace('Z', '+00:00'),
    });
    expect(body.applied_at).toMatch(RFC3339);
    expect(body.rotation_id).toMatch(/^[0-9a-f]{64}$/);
    expect(body.event_id).toMatch(/^[0-9a-f]{64}$/);
    const certificate = certificateFromJson(body.certificate!);
    const caPublic = Buffer.from((await rest(fleet, 'GET', '/api/server-info')).json.device_ca_public, 'hex');
    expect(verifyCertificate(certificate, caPublic)).toBe(true);
    expect(certificate).toMatchObject({ deviceId: a1.deviceId, userId: a1.userId });
    expect(certificate.publicKey.equals(next.publicKey)).toBe(true);

    const expected = {
      type: 'device-key-rotated', device_id: a1.deviceId, user_id: a1.userId,
      public_key: next.publicKey.toString('hex'), old_public_key: a1.identity.keys.publicKey.toString('hex'),
      rotation_id: body.rotation_id, event_id: body.event_id, certificate: body.certificate,
      issued_at: certificate.issuedAt, expires_at: certificate.expiresAt,
    };
    // The rotating device itself (its live connection stays), its sibling on the other gateway, and the online mutual friend.
    for (const member of [a1, a2, friendOnline]) {
      const frame = await member.peer.nextMatching(isKeyUpdate, `KEY_UPDATE at ${member.deviceId}`);
      expect(frame.channel).toBe(NOTIFY_CHANNEL);
      expect(frame.payload.kind).toBe('control');
      expect(control(frame)).toEqual(expected);
      // The certificate in the frame is the signed one, serial and all.
      expect(verifyCertificate(certificateFromJson(control(frame).certificate!), caPublic)).toBe(true);
    }

    // The notice was stored for every recipient in one relay call before any live delivery.
    expect(await queuedKeyUpdates(friendOffline.deviceId)).toBe(1);
    expect(await queuedKeyUpdates(oneSided.deviceId)).toBe(0);
    await expect(oneSided.peer.nextMatching(isKeyUpdate, 'no KEY_UPDATE', 1_500)).rejects.toThrow(/waiting for no KEY_UPDATE/);

    const back = await connect(friendOffline.identity, 1);
    expect(control(await back.peer.nextMatching(isKeyUpdate, 'the queued KEY_UPDATE'))).toEqual(expected);

    // The REST session granted to the old key is revoked (weakness §11.5).
    expect((await rest(fleet, 'GET', '/api/devices', { token: a1.token })).status).toBe(401);
    // The old key is refused; the new one, with the new certificate, connects.
    await expect(connectTo(fleet, a1.identity, { gateway: 0 })).rejects.toThrow();
    const rotated = createDeviceIdentity({ seed: nextSeed, deviceId: a1.deviceId, handle: a1.identity.handle! });
    rotated.userId = a1.userId;
    rotated.certificate = certificate;
    rotated.deviceCaPublic = caPublic;
    const again = await connect(rotated, 0);
    expect(again.userId).toBe(a1.userId);
    const devices = await rest(fleet, 'GET', '/api/devices', { token: a2.token });
    expect(devices.json.devices.find((d: { device_id: string }) => d.device_id === a1.deviceId).public_key).toBe(next.publicKey.toString('hex'));
  });

  test('bad proofs are 400 problems, an unchanged key 409, and nothing changes', async () => {
    const e = await connect(newIdentity('rot-e'), 0);
    const next = DeviceKeyPair.generate();
    const proofBody = (expiresAt: number, signer = e.identity.keys, key = next) => ({
      public_key: key.publicKey.toString('hex'),
      signature: rotationProof(e.deviceId, signer, key, expiresAt),
      expires_at: new Date(expiresAt * 1000).toISOString(),
    });
    const expectProblem = (res: RestReply, status: number, type: string, detail?: string) => {
      expect({ status: res.status, ct: res.headers['content-type'], type: res.json.type }).toEqual({ status, ct: 'application/problem+json', type: P(type) });
      if (detail) expect(res.json.detail).toBe(detail);
    };

    expectProblem(await rotate(e, proofBody(nowSeconds() - 5)), 400, 'rotation-proof-expired', 'proof expired');
    expectProblem(await rotate(e, proofBody(nowSeconds() + 3600)), 400, 'rotation-proof-beyond-ttl', 'expires_at exceeds proof_ttl');
    expectProblem(await rotate(e, proofBody(nowSeconds() + 300, next)), 400, 'rotation-signature-invalid', 'signature verification failed');
    expectProblem(await rotate(e, proofBody(nowSeconds() + 300, e.identity.keys, e.identity.keys)), 409, 'rotation-key-unchanged', 'public key unchanged');
    expectProblem(await rotate(e, { ...proofBody(nowSeconds() + 300), public_key: 'ab' }), 400, 'invalid-field');
    expectProblem(await rotate(e, { ...proofBody(nowSeconds() + 300), nonce: 'abcd' }), 400, 'invalid-field');
    expectProblem(await rest(fleet, 'POST', '/api/device/csr', { body: proofBody(nowSeconds() + 300) }), 401, 'missing-authorization');

    const devices = await rest(fleet, 'GET', '/api/devices', { token: e.token });
    expect(devices.json.devices[0].public_key).toBe(e.identity.keys.publicKey.toString('hex'));
  });
});
