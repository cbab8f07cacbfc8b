import { parseJson } from '@commucat/ccp1';
import { createDeviceIdentity, type ClientConnection, type DeviceIdentity } from '@commucat/client';
import { DeviceKeyPair, certificateFromJson, ed25519Sign } from '@commucat/crypto';
import { TestFleet } from '../support/fleet';
import { connectTo, newIdentity } from '../support/fleet-client';
import { rest, type RestReply } from '../support/rest-client';

jest.setTimeout(120_000);

const ADMIN = 'it-admin-token-0123456789';
const P = (code: string) => `https://commucat.dev/problems/${code}`;
const HEX32 = /^[0-9a-f]{64}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+00:00$/;

interface Member { identity: DeviceIdentity; conn: ClientConnection; token: string; userId: string; deviceId: string }

describe('REST API on the fleet edge', () => {
  let fleet: TestFleet;
  const open: ClientConnection[] = [];

  beforeAll(async () => {
    fleet = await TestFleet.start({
      gateways: 2,
      env: { COMMUCAT_RATE_HTTP_BURST: '100000', COMMUCAT_RATE_PAIRING_BURST: '100000', COMMUCAT_ADMIN_TOKEN: ADMIN },
    });
  });
  afterAll(async () => {
    for (const conn of open) await conn.close().catch(() => undefined);
    await fleet?.stop();
  });

  async function member(prefix: string, gateway = 0, identity: DeviceIdentity = newIdentity(prefix)): Promise<Member> {
    const conn = await connectTo(fleet, identity, { gateway });
    open.push(conn);
    return { identity, conn, token: conn.session, userId: identity.userId!, deviceId: identity.deviceId };
  }

  const expectProblem = (res: RestReply, status: number, type?: string) => {
    expect({ status: res.status, ct: res.headers['content-type'] }).toEqual({ status, ct: 'application/problem+json' });
    expect(typeof res.json.title).toBe('string');
    expect(res.json.status).toBe(status);
    if (type) expect(res.json.type).toBe(P(type));
  };

  /** Pairs a new device to `issuer`'s user, with the server- or a client-generated key. */
  async function pairDevice(issuer: Member, opts: { clientKey?: boolean; gateway?: number } = {}) {
    const code = await rest(fleet, 'POST', '/api/pair', { token: issuer.token, body: { ttl: null } });
    expect(code.status).toBe(200);
    const body: Record<string, unknown> = { pair_code: code.json.pair_code, device_name: 'second' };
    let keys: { seed: Buffer; pair: DeviceKeyPair } | undefined;
    if (opts.clientKey) {
      const seed = Buffer.from(DeviceKeyPair.generate().privateKey);
      const pair = DeviceKeyPair.fromSeed(seed);
      keys = { seed, pair };
      body.device_public = pair.publicKey.toString('hex');
      body.device_signature = ed25519Sign(pair.privateKey, Buffer.concat([Buffer.from(`commucat-pair-claim:${code.json.pair_code}`), pair.publicKey])).toString('hex');
    }
    const claim = await rest(fleet, 'POST', '/api/pair/claim', { body, gateway: opts.gateway ?? 1 });
    expect(claim.status).toBe(200);
    const lossless = parseJson(claim.text) as Record<string, any>;
    const seed = keys ? keys.seed : Buffer.from(claim.json.seed, 'hex');
    const identity = createDeviceIdentity({ seed, deviceId: claim.json.device_id, handle: claim.json.user.handle });
    identity.userId = claim.json.user.id;
    identity.certificate = certificateFromJson(lossless.device_certificate);
    identity.deviceCaPublic = Buffer.from(claim.json.device_ca_public, 'hex');
    return { code, claim, identity };
  }

  test('server-info, health and openapi answer over HTTP/2 and HTTP/1.1', async () => {
    for (const h1 of [false, true]) {
      const info = await rest(fleet, 'GET', '/api/server-info', { h1 });
      expect(info.status).toBe(200);
      expect(info.json).toMatchObject({ domain: fleet.domain, supported_patterns: ['XK', 'IK'], pairing: { auto_approve: true } });
      expect(info.json.noise_public).toMatch(HEX32);
      expect((await rest(fleet, 'GET', '/openapi.json', { h1 })).json.openapi).toBe('3.1.0');
      expect((await rest(fleet, 'GET', '/healthz', { h1 })).json).toEqual({ status: 'ok' });
    }
  });

  test('every session route refuses a missing or unknown session with 401 problem+json', async () => {
    const routes: Array<[string, string]> = [
      ['GET', '/api/devices'], ['POST', '/api/devices/revoke'], ['GET', '/api/friends'], ['PUT', '/api/friends'],
      ['GET', '/api/friends/requests'], ['GET', '/api/friends/x/devices'], ['POST', '/api/friends/requests/x'],
      ['POST', '/api/friends/requests/x/accept'], ['POST', '/api/friends/requests/x/reject'], ['DELETE', '/api/friends/x'],
      ['POST', '/api/pair'], ['POST', '/api/pairing'], ['POST', '/api/users/me/avatar'], ['POST', '/api/p2p/assist'], ['GET', '/api/p2p/assist'],
    ];
    for (const [method, path] of routes) {
      const none = await rest(fleet, method, path, { body: {} });
      expectProblem(none, 401, 'missing-authorization');
      expect(none.json.detail).toBe('missing Authorization header');
      const unknown = await rest(fleet, method, path, { body: {}, token: 'f'.repeat(64) });
      expectProblem(unknown, 401);
      expect(unknown.json.detail).toBe('session not found or expired');
    }
  });

  test('JSON bodies: bad JSON, wrong types, unknown fields and oversized bodies are refused on every JSON route', async () => {
    const a = await member('bodies');
    const routes: Array<{ method: string; path: string; wrong: object; field: string; unknown: object; auth: boolean }> = [
      { method: 'POST', path: '/api/pair', wrong: { ttl: 'soon' }, field: 'ttl', unknown: { ttl: 60, uses: 2 }, auth: true },
      { method: 'POST', path: '/api/pair/claim', wrong: { pair_code: 12345678 }, field: 'pair_code', unknown: { pair_code: 'ABCD-EFGH', admin: true }, auth: false },
      { method: 'POST', path: '/api/devices/revoke', wrong: { device_id: ['d'] }, field: 'device_id', unknown: { device_id: 'd', force: true }, auth: true },
      { method: 'PUT', path: '/api/friends', wrong: { friends: [{ user_id: 1 }] }, field: 'friends[0].user_id', unknown: { friends: [], extra: 1 }, auth: true },
      { method: 'POST', path: '/api/friends/requests/someone', wrong: { message: 5 }, field: 'message', unknown: { message: 'hi', urgent: true }, auth: true },
      { method: 'POST', path: '/api/p2p/assist', wrong: { prefer_reality: 'yes' }, field: 'prefer_reality', unknown: { prefer_reality: true, turbo: 1 }, auth: true },
    ];
    for (const r of routes) {
      const token = r.auth ? a.token : undefined;
      const bad = await rest(fleet, r.method, r.path, { token, body: '{"oops":' });
      expectProblem(bad, 400, 'invalid-json');
      const wrong = await rest(fleet, r.method, r.path, { token, body: r.wrong });
      expectProblem(wrong, 400, 'invalid-field');
      expect(wrong.json.detail.startsWith(`${r.field}: `)).toBe(true);
      const unknown = await rest(fleet, r.method, r.path, { token, body: r.unknown });
      expectProblem(unknown, 400, 'unknown-field');
      const big = await rest(fleet, r.method, r.path, { token, body: JSON.stringify({ pad: 'x'.repeat(80 * 1024) }) });
      expectProblem(big, 413, 'body-too-large');
      const bigH1 = await rest(fleet, r.method, r.path, { token, body: JSON.stringify({ pad: 'x'.repeat(80 * 1024) }), h1: true });
      expectProblem(bigH1, 413, 'body-too-large');
    }
  });

  test('pairing end to end: code, claim (server key), handshake with the claimed key and certificate, device list', async () => {
    const first = await member('pair');
    const { code, claim, identity } = await pairDevice(first);
    expect(code.json).toEqual({
      pair_code: expect.stringMatching(/^[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}$/), issued_at: expect.stringMatching(RFC3339), expires_at: expect.stringMatching(RFC3339),
      ttl: expect.any(Number), device_seed: expect.stringMatching(HEX32), issuer_device_id: first.deviceId, device_ca_public: expect.stringMatching(HEX32),
    });
    expect(Number.isInteger(code.json.ttl)).toBe(true);
    expect(claim.json).toMatchObject({
      device_id: expect.any(String), private_key: expect.stringMatching(HEX32), public_key: expect.stringMatching(HEX32), seed: expect.stringMatching(HEX32),
      issuer_device_id: first.deviceId, user_id: first.userId, user: { id: first.userId, user_id: first.userId, handle: first.identity.handle }, device_name: 'second',
    });
    expect(identity.keys.publicKey.toString('hex')).toBe(claim.json.public_key);
    expect(Buffer.from(identity.keys.privateKey).toString('hex')).toBe(claim.json.private_key);

    const second = await member('pair', 1, identity);
    expect(second.token).toMatch(/^[0-9a-f]{64}$/);
    const list = await rest(fleet, 'GET', '/api/devices', { token: first.token });
    expect(list.status).toBe(200);
    expect(list.json.devices).toEqual([
      { device_id: first.deviceId, status: 'active', created_at: expect.stringMatching(RFC3339), public_key: first.identity.keys.publicKey.toString('hex'), current: true },
      { device_id: identity.deviceId, status: 'active', created_at: expect.stringMatching(RFC3339), public_key: claim.json.public_key, current: false },
    ]);
    // The same code cannot be used twice; an unknown one is 404; the dash and case do not matter.
    expectProblem(await rest(fleet, 'POST', '/api/pair/claim', { body: { pair_code: code.json.pair_code } }), 400);
    expectProblem(await rest(fleet, 'POST', '/api/pairing/claim', { body: { pair_code: 'ZZZZ-ZZZZ' } }), 404);
  });

  test('pairing with a client-generated key: no private key on the wire, and the device can connect', async () => {
    const first = await member('pairc');
    const { claim, identity } = await pairDevice(first, { clientKey: true });
    expect(claim.json.private_key).toBeUndefined();
    expect(claim.json.seed).toBeUndefined();
    expect(claim.json.public_key).toBe(identity.keys.publicKey.toString('hex'));
    const second = await member('pairc', 0, identity);
    expect(second.conn.isClosed).toBe(false);
    // A signature by another key is refused.
    const code = await rest(fleet, 'POST', '/api/pair', { token: first.token, body: {} });
    const other = DeviceKeyPair.generate();
    const res = await rest(fleet, 'POST', '/api/pair/claim', {
      body: { pair_code: code.json.pair_code, device_public: other.publicKey.toString('hex'), device_signature: ed25519Sign(DeviceKeyPair.generate().privateKey, Buffer.from('x')).toString('hex') },
    });
    expectProblem(res, 400);
  });

  test('revocation closes the device\'s live connection on another gateway within 1 s, and its token stops working', async () => {
    const first = await member('revoke', 0);
    const { identity } = await pairDevice(first);
    const second = await member('revoke', 1, identity);
    expect((await rest(fleet, 'GET', '/api/devices', { token: second.token, gateway: 1 })).status).toBe(200);

    const started = Date.now();
    const revoked = await rest(fleet, 'POST', '/api/devices/revoke', { token: first.token, body: { device_id: identity.deviceId } });
    expect(revoked.status).toBe(200);
    expect(revoked.json).toEqual({ device_id: identity.deviceId, status: 'revoked' });
    await Promise.race([second.conn.closed, new Promise((r) => setTimeout(r, 3000))]);
    const elapsed = Date.now() - started;
    expect(second.conn.isClosed).toBe(true);
    expect(elapsed).toBeLessThan(1000);

    expectProblem(await rest(fleet, 'GET', '/api/devices', { token: second.token, gateway: 1 }), 401);
    const list = await rest(fleet, 'GET', '/api/devices', { token: first.token });
    expect(list.json.devices.find((d: { device_id: string }) => d.device_id === identity.deviceId).status).toBe('revoked');
    // Own current device → 409, another user's device → 403, unknown → 404, blank → 400.
    expectProblem(await rest(fleet, 'POST', '/api/devices/revoke', { token: first.token, body: { device_id: first.deviceId } }), 409);
    const stranger = await member('stranger');
    expectProblem(await rest(fleet, 'POST', '/api/devices/revoke', { token: first.token, body: { device_id: stranger.deviceId } }), 403);
    expectProblem(await rest(fleet, 'POST', '/api/devices/revoke', { token: first.token, body: { device_id: 'no-such-device' } }), 404);
    expectProblem(await rest(fleet, 'POST', '/api/devices/revoke', { token: first.token, body: { device_id: '  ' } }), 400, 'invalid-field');
  });

  test('friends: the real client\'s PUT (handle + null alias), devices only for mutual friends', async () => {
    const [a, b, c] = [await member('fa'), await member('fb', 1), await member('fc')];
    const put = await rest(fleet, 'PUT', '/api/friends', { token: a.token, body: { friends: [{ user_id: b.userId, handle: null, alias: null }, { user_id: c.userId, handle: 'whatever', alias: ' Cee ' }] } });
    expect(put.status).toBe(200);
    expect(put.json.friends).toEqual([
      { user_id: b.userId, handle: b.identity.handle }, { user_id: c.userId, alias: 'Cee', handle: c.identity.handle },
    ].map((f) => expect.objectContaining(f)));
    expect((await rest(fleet, 'PUT', '/api/friends', { token: b.token, gateway: 1, body: { friends: [{ user_id: a.userId, handle: null, alias: null }] } })).status).toBe(200);

    const got = await rest(fleet, 'GET', '/api/friends', { token: a.token, gateway: 1 });
    expect(got.status).toBe(200);
    expect(Object.keys(got.json.devices).sort()).toEqual([b.userId, c.userId].sort());
    expect(got.json.devices[b.userId]).toEqual([{ device_id: b.deviceId, public_key: b.identity.keys.publicKey.toString('hex'), status: 'active', created_at: expect.stringMatching(RFC3339), last_rotated_at: expect.stringMatching(RFC3339) }].map((d) => expect.objectContaining({ device_id: d.device_id, public_key: d.public_key, status: 'active' })));
    expect(got.json.devices[c.userId]).toEqual([]);

    const mutual = await rest(fleet, 'GET', `/api/friends/${encodeURIComponent(b.identity.handle!)}/devices`, { token: a.token });
    expect(mutual.status).toBe(200);
    expect(mutual.json.friend).toBe(b.userId);
    expect(mutual.json.devices.map((d: { device_id: string }) => d.device_id)).toEqual([b.deviceId]);
    expectProblem(await rest(fleet, 'GET', `/api/friends/${c.userId}/devices`, { token: a.token }), 404);
    expectProblem(await rest(fleet, 'GET', '/api/friends/%zz/devices', { token: a.token }), 400, 'invalid-path');

    const removed = await rest(fleet, 'DELETE', `/api/friends/${c.userId}`, { token: a.token });
    expect(removed.status).toBe(204);
    expect(removed.text).toBe('');
    expectProblem(await rest(fleet, 'DELETE', `/api/friends/${c.userId}`, { token: a.token }), 404);
    expect((await rest(fleet, 'GET', '/api/friends', { token: c.token })).json.friends).toEqual([]);
  });

  test('friend requests: create, list, accept makes mutual friends, reject, duplicates and foreign domains', async () => {
    const [a, d, e] = [await member('ra'), await member('rd', 1), await member('re')];
    const created = await rest(fleet, 'POST', `/api/friends/requests/${encodeURIComponent(`${d.identity.handle}@${fleet.domain}`)}`, { token: a.token, body: { message: 'hi' } });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({
      request: { id: expect.any(String), from_user_id: a.userId, to_user_id: d.userId, status: 'pending', message: 'hi', created_at: expect.stringMatching(RFC3339), updated_at: expect.stringMatching(RFC3339) },
      to_user: { user_id: d.userId, handle: d.identity.handle, display_name: null, avatar_url: null },
    });
    expectProblem(await rest(fleet, 'POST', `/api/friends/requests/${d.userId}`, { token: a.token }), 409);
    expectProblem(await rest(fleet, 'POST', '/api/friends/requests/bob@elsewhere.example', { token: a.token }), 400, 'unknown-domain');

    const listed = await rest(fleet, 'GET', '/api/friends/requests', { token: d.token, gateway: 1 });
    expect(listed.json.incoming.map((r: { from_user_id: string }) => r.from_user_id)).toEqual([a.userId]);
    expect((await rest(fleet, 'GET', '/api/friends/requests', { token: a.token })).json.outgoing).toHaveLength(1);

    const accepted = await rest(fleet, 'POST', `/api/friends/requests/${a.userId}/accept`, { token: d.token, gateway: 1 });
    expect(accepted.status).toBe(200);
    expect(accepted.json.request.status).toBe('accepted');
    expect(accepted.json.from_user.user_id).toBe(a.userId);
    expect((await rest(fleet, 'GET', `/api/friends/${d.userId}/devices`, { token: a.token })).status).toBe(200);

    expect((await rest(fleet, 'POST', `/api/friends/requests/${d.userId}`, { token: e.token })).status).toBe(201);
    const rejected = await rest(fleet, 'POST', `/api/friends/requests/${e.userId}/reject`, { token: d.token });
    expect(rejected.status).toBe(200);
    expect(rejected.json.request.status).toBe('rejected');
    expectProblem(await rest(fleet, 'POST', `/api/friends/requests/${e.userId}/accept`, { token: d.token }), 409);
  });

  test('avatars: raw image upload, served by any gateway with nosniff; wrong types and sizes refused', async () => {
    const a = await member('avatar');
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.from('0000000d49484452000000010000000108060000001f15c489', 'hex')]);
    const up = await rest(fleet, 'POST', '/api/users/me/avatar', { token: a.token, body: png, headers: { 'content-type': 'image/png' } });
    expect(up.status).toBe(200);
    expect(up.json).toEqual({ avatar_url: expect.any(String), filename: expect.stringMatching(/\.png$/) });
    const served = await rest(fleet, 'GET', `/uploads/${up.json.filename}`, { gateway: 1 });
    expect(served.status).toBe(200);
    expect(served.headers['content-type']).toBe('image/png');
    expect(served.headers['x-content-type-options']).toBe('nosniff');
    expect(Buffer.from(served.text, 'latin1').length).toBeGreaterThan(0);
    expectProblem(await rest(fleet, 'GET', '/uploads/..secret', {}), 403);
    expectProblem(await rest(fleet, 'GET', '/uploads/nothing-here.png', {}), 404);
    expectProblem(await rest(fleet, 'POST', '/api/users/me/avatar', { token: a.token, body: png, headers: { 'content-type': 'image/gif' } }), 400);
    expectProblem(await rest(fleet, 'POST', '/api/users/me/avatar', { token: a.token, body: Buffer.from('<svg/>'), headers: { 'content-type': 'image/svg+xml' } }), 415, 'unsupported-media-type');
    expectProblem(await rest(fleet, 'POST', '/api/users/me/avatar', { token: a.token, body: Buffer.from('plain text'), headers: { 'content-type': 'text/plain' } }), 415);
    const huge = Buffer.concat([png, Buffer.alloc(5 * 1024 * 1024)]);
    expectProblem(await rest(fleet, 'POST', '/api/users/me/avatar', { token: a.token, body: huge, headers: { 'content-type': 'image/png' } }), 413, 'body-too-large');
  });

  test('p2p assist with the real client\'s body: exactly the fields it decodes, pq always present', async () => {
    const a = await member('assist');
    const res = await rest(fleet, 'POST', '/api/p2p/assist', {
      token: a.token,
      body: { peer_hint: null, paths: [{ address: '127.0.0.1', id: 'hint-1', port: 3478, server_name: 'https://x', priority: 1, reality_fingerprint: null, reality_pem: null }], prefer_reality: true, fec: { mtu: 1200, repair_overhead: 0.18 }, min_paths: 1 },
    });
    expect(res.status).toBe(200);
    for (const key of ['noise', 'pq', 'transports', 'multipath', 'obfuscation', 'security']) expect(res.json).toHaveProperty(key);
    expect(res.json.noise).toMatchObject({ pattern: 'Xk', prologue_hex: Buffer.from('commucat').toString('hex') });
    expect(res.json.pq).toEqual({ identity_public_hex: '', signed_prekey_public_hex: '', kem_public_hex: '', signature_public_hex: '' });
    expect(res.json.transports[0].path_id).toBe('hint-1');
    expect(res.json.security.noise_handshakes).toBeGreaterThanOrEqual(1);
    const nulls = await rest(fleet, 'POST', '/api/p2p/assist', { token: a.token, body: { peer_hint: null, paths: null, prefer_reality: null, fec: null, min_paths: null } });
    expect(nulls.status).toBe(200);
  });

  test('admin routes need the admin token', async () => {
    for (const path of ['/metrics', '/api/security-stats']) {
      expectProblem(await rest(fleet, 'GET', path), 401, 'admin-required');
      expectProblem(await rest(fleet, 'GET', path, { token: `${ADMIN}x` }), 401, 'admin-required');
    }
    const metrics = await rest(fleet, 'GET', '/metrics', { token: ADMIN });
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('commucat_gateway_handshakes_total');
    const stats = await rest(fleet, 'GET', '/api/security-stats', { token: ADMIN, h1: true });
    expect(Object.keys(stats.json).sort()).toEqual(['average_paths', 'censorship_deflections', 'fec_packets', 'multipath_sessions', 'noise_handshakes', 'pq_handshakes']);
  });
});
