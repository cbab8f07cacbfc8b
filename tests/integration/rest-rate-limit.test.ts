import { TestFleet } from '../support/fleet';
import { connectTo, newIdentity } from '../support/fleet-client';
import { rest } from '../support/rest-client';

jest.setTimeout(120_000);

const BURST = 6;

/**
 * Limits live in Redis, so two gateways share them. Handshakes (and the server-info fetch
 * before each) come from 127.0.0.1; the limited calls use other loopback source addresses so
 * each test starts with fresh per-IP budgets.
 */
describe('REST rate limits across gateway replicas', () => {
  let fleet: TestFleet;
  beforeAll(async () => {
    fleet = await TestFleet.start({
      gateways: 2,
      env: {
        COMMUCAT_RATE_HTTP_BURST: String(BURST), COMMUCAT_RATE_HTTP_WINDOW_MS: '60000', COMMUCAT_RATE_HTTP_PENALTY_MS: '0',
        COMMUCAT_RATE_PAIRING_BURST: '2', COMMUCAT_SESSION_TTL: '2',
      },
    });
  });
  afterAll(() => fleet?.stop());

  test('one client IP shares its budget over both gateways; other IPs and probes are unaffected', async () => {
    const from = '127.0.0.2';
    for (let i = 0; i < BURST; i++) {
      expect((await rest(fleet, 'GET', '/api/server-info', { gateway: i % 2, localAddress: from, h1: i % 3 === 0 })).status).toBe(200);
    }
    for (const gateway of [0, 1]) {
      const refused = await rest(fleet, 'GET', '/api/server-info', { gateway, localAddress: from });
      expect(refused.status).toBe(429);
      expect(refused.json).toMatchObject({ type: 'https://commucat.dev/problems/rate-limited', title: 'Too Many Requests', status: 429 });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    expect((await rest(fleet, 'GET', '/healthz', { localAddress: from })).status).toBe(200);
    expect((await rest(fleet, 'GET', '/api/server-info', { gateway: 1, localAddress: '127.0.0.3' })).status).toBe(200);
  });

  test('one session shares its budget over IPs and gateways', async () => {
    const conn = await connectTo(fleet, newIdentity('limited'));
    try {
      const sources = ['127.0.0.4', '127.0.0.5'];
      for (let i = 0; i < BURST; i++) {
        expect((await rest(fleet, 'GET', '/api/devices', { token: conn.session, gateway: i % 2, localAddress: sources[i % 2] })).status).toBe(200);
      }
      const refused = await rest(fleet, 'GET', '/api/devices', { token: conn.session, gateway: 1, localAddress: '127.0.0.6' });
      expect(refused.status).toBe(429);
      expect(refused.json.type).toBe('https://commucat.dev/problems/rate-limited');
    } finally {
      await conn.close();
    }
  });

  test('pair claims have their own, smaller per-IP budget', async () => {
    const from = '127.0.0.7';
    for (let i = 0; i < 2; i++) expect((await rest(fleet, 'POST', '/api/pair/claim', { gateway: i, localAddress: from, body: { pair_code: 'ZZZZ-ZZZZ' } })).status).toBe(404);
    expect((await rest(fleet, 'POST', '/api/pairing/claim', { localAddress: from, body: { pair_code: 'ZZZZ-ZZZZ' } })).status).toBe(429);
    // The general HTTP budget of that address still has room.
    expect((await rest(fleet, 'GET', '/api/server-info', { localAddress: from })).status).toBe(200);
  });

  test('an expired session is refused with 401', async () => {
    const conn = await connectTo(fleet, newIdentity('expiring'));
    try {
      await new Promise((r) => setTimeout(r, 3200));
      const res = await rest(fleet, 'GET', '/api/devices', { token: conn.session, localAddress: '127.0.0.8' });
      expect(res.status).toBe(401);
      expect(res.json.detail).toBe('session not found or expired');
    } finally {
      await conn.close();
    }
  });
});
