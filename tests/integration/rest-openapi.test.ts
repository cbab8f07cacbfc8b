import Ajv2020 from 'ajv/dist/2020';
import type { ClientConnection } from '@commucat/client';
import { TestFleet } from '../support/fleet';
import { connectTo, newIdentity } from '../support/fleet-client';
import { rest, type RestCallOptions, type RestReply } from '../support/rest-client';

jest.setTimeout(180_000);

const ADMIN = 'openapi-admin-token';
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');

type Schema = Record<string, any>;
interface Operation { method: string; path: string; op: Schema }

/**
 * Walks /openapi.json: every operation is called once with a valid request and then with bad
 * inputs generated from its documented request schema, and every answer must be a status the
 * document lists for that operation, with a body that validates against the documented schema.
 */
describe('every route answers according to /openapi.json', () => {
  let fleet: TestFleet;
  let doc: Schema;
  let ajv: Ajv2020;
  const conns: ClientConnection[] = [];
  const ctx = { token: '', ids: {} as Record<string, string>, upload: '' };
  let operations: Operation[] = [];
  const checked: string[] = [];

  beforeAll(async () => {
    fleet = await TestFleet.start({ env: { COMMUCAT_RATE_HTTP_BURST: '100000', COMMUCAT_RATE_PAIRING_BURST: '100000', COMMUCAT_ADMIN_TOKEN: ADMIN } });
    const users: Record<string, { token: string; userId: string }> = {};
    for (const name of ['a', 'friend', 'listed', 'asker', 'rejected', 'target']) {
      const identity = newIdentity(`oa-${name}`);
      const conn = await connectTo(fleet, identity);
      conns.push(conn);
      users[name] = { token: conn.session, userId: identity.userId! };
    }
    ctx.token = users.a!.token;
    for (const [k, v] of Object.entries(users)) ctx.ids[k] = v.userId;
    expect((await rest(fleet, 'PUT', '/api/friends', { token: users.friend!.token, body: { friends: [{ user_id: users.a!.userId }] } })).status).toBe(200);
    expect((await rest(fleet, 'POST', `/api/friends/requests/${users.a!.userId}`, { token: users.asker!.token })).status).toBe(201);
    expect((await rest(fleet, 'POST', `/api/friends/requests/${users.a!.userId}`, { token: users.rejected!.token })).status).toBe(201);
    const avatar = await rest(fleet, 'POST', '/api/users/me/avatar', { token: users.friend!.token, body: PNG, headers: { 'content-type': 'image/png' } });
    ctx.upload = avatar.json.filename;

    doc = (await rest(fleet, 'GET', '/openapi.json')).json;
    ajv = new Ajv2020({ strict: false, allErrors: true });
    ajv.addSchema({ ...doc, $id: 'openapi' });
    operations = Object.entries(doc.paths as Record<string, Record<string, Schema>>)
      .flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ method: method.toUpperCase(), path, op })));
  });
  afterAll(async () => {
    for (const c of conns) await c.close().catch(() => undefined);
    await fleet?.stop();
  });

  const resolve = (schema: Schema): Schema => (schema.$ref ? resolve(doc.components.schemas[String(schema.$ref).split('/').pop()!]) : schema);
  const types = (schema: Schema): string[] => {
    const s = resolve(schema);
    if (s.anyOf) return s.anyOf.flatMap(types);
    if (s.type) return ([] as string[]).concat(s.type);
    if (s.const !== undefined) return [typeof s.const];
    return [];
  };

  /** A valid request per operation (the document describes shapes, not meaningful ids). */
  function validRequest(o: Operation): { path: string; opts: RestCallOptions } {
    const ids = ctx.ids;
    const params: Record<string, string> = {
      'GET /api/friends/{id}/devices': ids.friend!, 'DELETE /api/friends/{id}': ids.listed!,
      'POST /api/friends/requests/{id}': ids.target!, 'POST /api/friends/requests/{id}/accept': ids.asker!,
      'POST /api/friends/requests/{id}/reject': ids.rejected!, 'GET /uploads/{name}': ctx.upload,
    };
    const bodies: Record<string, unknown> = {
      '/api/pair': { ttl: 120 }, '/api/pairing': { ttl: null },
      '/api/pair/claim': { pair_code: 'ZZZZ-ZZZZ', device_name: null }, '/api/pairing/claim': { pair_code: 'ZZZZ-ZZZZ' },
      '/api/devices/revoke': { device_id: 'no-such-device' },
      // Well-formed but long expired: answered 400 rotation-proof-expired without touching the key.
      '/api/device/csr': { public_key: 'ab'.repeat(32), signature: 'cd'.repeat(64), expires_at: '2020-01-01T00:00:00Z', nonce: null },
      '/api/friends': { friends: [{ user_id: ids.friend, handle: null, alias: null }, { user_id: ids.listed, handle: 'x', alias: 'l' }] },
      '/api/friends/requests/{id}': { message: 'hello' },
      '/api/p2p/assist': { peer_hint: null, paths: null, prefer_reality: null, fec: null, min_paths: null },
      // A well-formed signed event from a domain this fleet does not federate with: 403 unknown-peer.
      '/federation/events': {
        event: { event_id: 'e-1', origin: 'stranger.example', created_at: '2026-01-01T00:00:00Z', payload: {}, scope: 'example.org' },
        signature: new Array(64).fill(0), digest: new Array(32).fill(0),
      },
    };
    const key = `${o.method} ${o.path}`;
    const path = o.path.replace(/\{[a-z_]+\}/, () => encodeURIComponent(params[key] ?? 'x'));
    const opts: RestCallOptions = {};
    if (o.op.security?.[0]?.session) opts.token = ctx.token;
    if (o.op.security?.[0]?.admin) opts.token = ADMIN;
    const content = o.op.requestBody?.content ?? {};
    if (content['application/json']) {
      if (!(o.path in bodies)) throw new Error(`no valid example body for ${key}: add one`);
      opts.body = bodies[o.path] as object;
    } else if (content['image/png']) {
      opts.body = PNG;
      opts.headers = { 'content-type': 'image/png' };
    }
    return { path, opts };
  }

  function expectDocumented(o: Operation, res: RestReply, what: string): void {
    const documented = o.op.responses[String(res.status)];
    if (!documented) throw new Error(`${o.method} ${o.path} (${what}) answered ${res.status}, not in the document: ${res.text.slice(0, 200)}`);
    const types = Object.keys(documented.content ?? {});
    if (types.length === 0) {
      if (res.text !== '') throw new Error(`${o.method} ${o.path} (${what}) ${res.status} has a body the document does not describe`);
      return;
    }
    const json = types.find((t) => t.includes('json'));
    if (!json) return;
    expect(String(res.headers['content-type'])).toBe(json);
    const validate = ajv.compile({ $ref: `openapi${documented.content[json].schema.$ref ?? ''}` });
    if (!validate(res.json)) throw new Error(`${o.method} ${o.path} (${what}) ${res.status} body does not match: ${ajv.errorsText(validate.errors)}\n${res.text.slice(0, 300)}`);
    checked.push(`${o.method} ${o.path} ${res.status}`);
  }

  test('valid requests succeed where the context allows and always match the document', async () => {
    const expectSuccess = new Set(['GET /healthz', 'GET /readyz', 'GET /api/server-info', 'GET /metrics', 'GET /api/security-stats', 'POST /api/pair', 'GET /api/devices',
      'GET /api/friends', 'PUT /api/friends', 'GET /api/friends/requests', 'GET /api/friends/{id}/devices', 'POST /api/friends/requests/{id}',
      'POST /api/friends/requests/{id}/accept', 'POST /api/friends/requests/{id}/reject', 'DELETE /api/friends/{id}', 'POST /api/users/me/avatar',
      'GET /uploads/{name}', 'POST /api/p2p/assist', 'GET /api/p2p/assist', 'GET /openapi.json']);
    for (const o of operations) {
      const { path, opts } = validRequest(o);
      const res = await rest(fleet, o.method, path, opts);
      expectDocumented(o, res, 'valid');
      if (expectSuccess.has(`${o.method} ${o.path}`)) expect([`${o.method} ${o.path}`, res.status < 300]).toEqual([`${o.method} ${o.path}`, true]);
    }
    expect(operations.length).toBeGreaterThanOrEqual(25);
  });

  test('generated bad inputs get documented problems naming the field', async () => {
    for (const o of operations) {
      const { path, opts } = validRequest(o);
      if (opts.token && o.op.security?.[0]?.session) {
        const anon = await rest(fleet, o.method, path, { ...opts, token: undefined });
        expectDocumented(o, anon, 'no session');
        expect(anon.status).toBe(401);
      }
      if (o.op.parameters?.length && /friends/.test(o.path)) {
        const bad = await rest(fleet, o.method, o.path.replace(/\{[a-z_]+\}/, '%zz'), opts);
        expectDocumented(o, bad, 'bad path');
        expect(bad.json.type).toBe('https://commucat.dev/problems/invalid-path');
      }
      const json = o.op.requestBody?.content?.['application/json'];
      // Signed peer events are passed verbatim to the federation service (no edge schema, exact
      // u64 numbers); their refusals are covered by tests/integration/federation.test.ts.
      if (!json || o.path === '/federation/events') continue;
      const schema = resolve(json.schema);
      const valid = opts.body as Record<string, unknown>;

      const syntax = await rest(fleet, o.method, path, { ...opts, body: '{"x": ' });
      expectDocumented(o, syntax, 'bad JSON');
      expect(syntax.json.type).toBe('https://commucat.dev/problems/invalid-json');

      const unknown = await rest(fleet, o.method, path, { ...opts, body: { ...valid, zz_unknown: 1 } });
      expectDocumented(o, unknown, 'unknown field');
      expect(unknown.json).toMatchObject({ type: 'https://commucat.dev/problems/unknown-field', detail: 'unknown field: zz_unknown' });

      const big = await rest(fleet, o.method, path, { ...opts, body: { ...valid, pad: 'x'.repeat(70 * 1024) } });
      expectDocumented(o, big, 'oversized');
      expect(big.status).toBe(413);

      for (const [prop, propSchema] of Object.entries(schema.properties as Record<string, Schema>)) {
        const allowed = types(propSchema);
        const wrong = !allowed.includes('object') ? { wrong: true } : !allowed.includes('integer') && !allowed.includes('number') ? 12345 : 'x';
        const res = await rest(fleet, o.method, path, { ...opts, body: { ...valid, [prop]: wrong } });
        expectDocumented(o, res, `wrong type for ${prop}`);
        expect([prop, res.status, res.json.type]).toEqual([prop, 400, 'https://commucat.dev/problems/invalid-field']);
        expect(res.json.detail.startsWith(`${prop}`)).toBe(true);
      }
    }
    expect(checked.length).toBeGreaterThan(50);
  });
});
