import * as http from 'node:http';
import Ajv2020 from 'ajv/dist/2020';
import pino from 'pino';
import { Counter, Registry } from 'prom-client';
import { DirectoryServiceClient } from '@commucat/contracts';
import { callUnary, createGrpcClient } from '@commucat/service-kit';
import { DirectoryHarness, DOMAIN } from '../../directory/test/support/directory-harness';
import { LocalRateLimiter } from '../src/rest/local-rate-limiter';
import { RestApi } from '../src/rest/rest-api';
import type { RestDeps } from '../src/rest/rest-deps';
import { restRoutes } from '../src/rest/rest-routes';
import { SecurityStats } from '../src/rest/security-stats';
import { jsonCall, type JsonReply } from './support/json-call';


/**
 * The friend-request routes end to end in-process: this REST edge, the real directory over a
 * migrated Postgres schema, and the directory harness's stand-in for our federation service
 * (peers b.test and c.test; it can be told to be down).
 */
const dir = new DirectoryHarness();
let server: http.Server;
let directory: DirectoryServiceClient;
let doc: any;

beforeAll(async () => {
  await dir.start('gwfriend');
  directory = createGrpcClient(DirectoryServiceClient, dir.address);
  const registry = new Registry();
  const roomy = { burst: 10_000, windowMs: 1000, penaltyMs: 0 };
  const deps: RestDeps = {
    directory, domain: DOMAIN, prologue: Buffer.from('commucat'), keepaliveSeconds: 60, pairingTtlSeconds: 300,
    isReady: () => true, serverInfo: () => ({}),
    metrics: { contentType: registry.contentType, text: () => registry.metrics() },
    security: new SecurityStats(new Counter({ name: 'hs_total', help: 'x', labelNames: ['result'], registers: [registry] })),
    logger: pino({ level: 'silent' }),
  };
  const api = new RestApi({
    routes: restRoutes(deps),
    sessions: { validateSession: (req) => callUnary(directory, 'validateSession', req) },
    limiter: new LocalRateLimiter({ http: roomy, session: roomy, pairing: roomy }),
    version: '0.0.0', logger: pino({ level: 'silent' }),
  });
  server = http.createServer((req, res) => api.handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  doc = (await call('GET', '/openapi.json')).json;
});
afterAll(async () => {
  server?.close();
  directory?.close();
  await dir.stop();
});
afterEach(() => { dir.federation.down = false; });

const call = (method: string, path: string, token?: string, body?: unknown): Promise<JsonReply> => jsonCall(server, method, path, { token, body });

/** The body matches the component the OpenAPI document names for this status. */
function matchesDocument(path: string, status: number, body: unknown): boolean {
  const ajv = new Ajv2020({ strict: false });
  const ref: string = doc.paths[path].post.responses[String(status)].content['application/json'].schema.$ref;
  const name = ref.split('/').at(-1)!;
  const schema = JSON.parse(JSON.stringify(doc.components.schemas[name]).replaceAll('"#/components/schemas/', '"#/$defs/'));
  return ajv.validate({ ...schema, $defs: doc.components.schemas }, body);
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

describe('POST /api/friends/requests/{id}', () => {
  test('handle@another-domain: 202 with the queued request; listed as outgoing', async () => {
    const ann = await dir.signUp('ann');
    const res = await call('POST', `/api/friends/requests/${encodeURIComponent('bob@B.test')}`, ann.token, { message: 'hi bob' });
    expect(res.status).toBe(202);
    expect(res.json).toEqual({
      request: { id: expect.any(String), from: `${ann.handle}@${DOMAIN}`, to: 'bob@b.test', status: 'pending', message: 'hi bob', created_at: expect.stringMatching(RFC3339) },
      federation: { domain: 'b.test', status: 'queued' },
    });
    expect(matchesDocument('/api/friends/requests/{id}', 202, res.json)).toBe(true);
    expect(matchesDocument('/api/friends/requests/{id}', 202, { ...res.json, to_user: null })).toBe(false);
    expect(dir.federation.payloadsFor('b.test').at(-1)).toMatchObject({ type: 'friend_request', to: 'bob@b.test', message: 'hi bob' });

    const listed = await call('GET', '/api/friends/requests', ann.token);
    expect(listed.json.outgoing).toEqual([expect.objectContaining({ id: res.json.request.id, from_user_id: ann.userId, to_user_id: 'bob@b.test', status: 'pending' })]);
    // pending already
    expect((await call('POST', '/api/friends/requests/bob@b.test', ann.token)).status).toBe(409);
  });

  test('a domain federation does not know is 400 unknown-domain; federation down is 503', async () => {
    const ben = await dir.signUp('ben');
    const unknown = await call('POST', '/api/friends/requests/bob@nowhere.test', ben.token);
    expect(unknown.status).toBe(400);
    expect(unknown.json.type).toBe('https://commucat.dev/problems/unknown-domain');
    dir.federation.down = true;
    const down = await call('POST', '/api/friends/requests/bob@b.test', ben.token);
    expect(down.status).toBe(503);
    expect((await call('GET', '/api/friends/requests', ben.token)).json.outgoing).toEqual([]);
  });

  test('a local target, also as handle@THIS-domain, keeps 201 with to_user', async () => {
    const [cal, dot] = [await dir.signUp('cal'), await dir.signUp('dot')];
    const res = await call('POST', `/api/friends/requests/${dot.handle}@${DOMAIN.toUpperCase()}`, cal.token);
    expect(res.status).toBe(201);
    expect(res.json.to_user).toEqual({ user_id: dot.userId, handle: dot.handle, display_name: null, avatar_url: null });
    expect(matchesDocument('/api/friends/requests/{id}', 201, res.json)).toBe(true);
  });
});

describe('POST /api/friends/requests/{id}/accept|reject with a remote requester', () => {
  test('accept: 200, from_user is the remote id; reject likewise', async () => {
    const eve = await dir.signUp('eve');
    await dir.rpc('receiveFederatedFriendRequest', { origin: 'b.test', requestId: 'w-1', from: 'bob@b.test', to: eve.handle, message: 'hello' });
    await dir.rpc('receiveFederatedFriendRequest', { origin: 'c.test', requestId: 'w-2', from: 'cat@c.test', to: eve.handle });
    const incoming = (await call('GET', '/api/friends/requests', eve.token)).json.incoming;
    expect(incoming.map((r: any) => r.from_user_id).sort()).toEqual(['bob@b.test', 'cat@c.test']);

    const accepted = await call('POST', `/api/friends/requests/${encodeURIComponent('bob@b.test')}/accept`, eve.token);
    expect(accepted.status).toBe(200);
    expect(accepted.json.request).toMatchObject({ from_user_id: 'bob@b.test', to_user_id: eve.userId, status: 'accepted', message: 'hello' });
    expect(accepted.json.from_user).toEqual({ user_id: 'bob@b.test', handle: 'bob', display_name: null, avatar_url: null });
    expect(matchesDocument('/api/friends/requests/{id}/accept', 200, accepted.json)).toBe(true);
    expect((await call('GET', '/api/friends', eve.token)).json.friends).toEqual([{ user_id: 'bob@b.test' }]);

    const rejected = await call('POST', '/api/friends/requests/cat@C.TEST/reject', eve.token);
    expect(rejected.status).toBe(200);
    expect(rejected.json.from_user).toEqual({ user_id: 'cat@c.test', handle: 'cat', display_name: null, avatar_url: null });
    expect(dir.federation.payloadsFor('c.test').at(-1)).toMatchObject({ type: 'friend_answer', request_id: 'w-2', status: 'rejected' });

    expect((await call('POST', '/api/friends/requests/bob@b.test/accept', eve.token)).status).toBe(409);
    const none = await call('POST', '/api/friends/requests/zed@b.test/accept', eve.token);
    expect(none.status).toBe(404);
    expect(none.json.type).toBe('https://commucat.dev/problems/friend-request-not-found');
  });
});
