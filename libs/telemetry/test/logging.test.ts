import { initTelemetry, type Telemetry, withSpan } from '@commucat/telemetry';
import { captureLines } from './capture';

let telemetry: Telemetry;
let output: ReturnType<typeof captureLines>;

beforeEach(() => {
  output = captureLines();
  telemetry = initTelemetry({ serviceName: 'logtest', logLevel: 'debug', logDestination: output, version: '1.2.3' });
});
afterEach(() => telemetry.shutdown());

describe('log records', () => {
  it('are JSON with service, version, level label and time', () => {
    telemetry.logger.info({ user: 'u1' }, 'hello');
    const [record] = output.lines();
    expect(record).toMatchObject({ service: 'logtest', version: '1.2.3', level: 'info', msg: 'hello', user: 'u1' });
    expect(typeof record!.time).toBe('string');
    expect(record).not.toHaveProperty('trace_id');
  });

  it('carry trace_id and span_id of the active span, across awaits', async () => {
    let ids = { traceId: '', spanId: '' };
    await withSpan(telemetry.tracer, 'outer', async (span) => {
      ids = span.spanContext();
      await new Promise((resolve) => setTimeout(resolve, 5));
      telemetry.logger.info('inside');
    });
    telemetry.logger.info('outside');
    const [inside, outside] = output.lines();
    expect(inside).toMatchObject({ msg: 'inside', trace_id: ids.traceId, span_id: ids.spanId });
    expect(ids.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(outside).not.toHaveProperty('trace_id');
  });

  it('respect the level', () => {
    telemetry.logger.trace('too detailed');
    telemetry.logger.debug('kept');
    expect(output.lines().map((line) => line.msg)).toEqual(['kept']);
  });
});

describe('redaction', () => {
  const SECRET = (name: string) => `SENTINEL-${name}-VALUE`;

  it('never prints values under secret-looking keys, at any depth and spelling', () => {
    const record = {
      token: SECRET('token'),
      password: SECRET('password'),
      noise_private: SECRET('noise_private'),
      noisePrivate: SECRET('noisePrivate'),
      privateKey: SECRET('privateKey'),
      secretsKek: SECRET('kek'),
      client_secret: SECRET('client_secret'),
      session: SECRET('session'),
      authorization: SECRET('authorization'),
      headers: { Authorization: SECRET('Authorization'), cookie: SECRET('cookie'), 'x-request-id': 'req-1' },
      storage: { postgres_dsn: SECRET('dsn'), dsn: SECRET('dsn2') },
      crypto: { federationSeed: SECRET('seed'), noisePublic: 'public-is-fine' },
      devices: [{ id: 'd1', accessToken: SECRET('accessToken') }],
      deep: { a: { b: { c: { d: { refresh_token: SECRET('refresh') } } } } },
    };
    const before = JSON.stringify(record);
    telemetry.logger.info(record, 'login');
    const text = output.text();
    expect(text).not.toContain('SENTINEL');
    const [line] = output.lines();
    expect(line).toMatchObject({
      token: '[REDACTED]',
      headers: { Authorization: '[REDACTED]', 'x-request-id': 'req-1' },
      crypto: { federationSeed: '[REDACTED]', noisePublic: 'public-is-fine' },
      devices: [{ id: 'd1', accessToken: '[REDACTED]' }],
    });
    // The caller's object is not modified.
    expect(JSON.stringify(record)).toBe(before);
  });

  it('redacts child logger bindings and credentials embedded in URLs', () => {
    const child = telemetry.logger.child({ session: SECRET('binding'), component: 'c1' });
    child.info({ redis: 'redis://default:SENTINEL-pw@cache:6379/0' }, 'connecting');
    expect(output.text()).not.toContain('SENTINEL');
    expect(output.lines()[0]).toMatchObject({ component: 'c1', redis: 'redis://default:***@cache:6379/0' });
  });

  it('keeps errors intact for the err serializer and survives cycles', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    telemetry.logger.error({ err: new Error('boom'), cyclic }, 'failed');
    const [line] = output.lines();
    expect(line!.err).toMatchObject({ type: 'Error', message: 'boom' });
    expect(line!.cyclic).toEqual({ name: 'loop', self: '[Circular]' });
  });
});
