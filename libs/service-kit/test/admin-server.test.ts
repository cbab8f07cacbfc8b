import { createServiceRuntime, type ServiceRuntime } from '@commucat/service-kit';
import { httpRequest, sleep, testTelemetry } from './support';

const { telemetry, logs } = testTelemetry('admintest');
afterAll(() => telemetry.shutdown());

async function started(configure: (runtime: ServiceRuntime) => void = () => undefined, readinessTimeoutMs?: number) {
  const runtime = createServiceRuntime({
    name: 'admintest',
    adminBind: '127.0.0.1:0',
    telemetry,
    ...(readinessTimeoutMs === undefined ? {} : { readinessTimeoutMs }),
  });
  configure(runtime);
  const ports = await runtime.start();
  return { runtime, port: ports.adminPort, ports };
}

describe('admin HTTP server', () => {
  it('answers /healthz with service and uptime, without running readiness checks', async () => {
    let checked = 0;
    const { runtime, port, ports } = await started((r) =>
      r.addReadinessCheck('db', async () => {
        checked++;
        throw new Error('down');
      }),
    );
    try {
      expect(ports.grpcPort).toBeUndefined();
      const res = await httpRequest(port, '/healthz');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/json');
      const body = JSON.parse(res.body) as Record<string, unknown>;
      expect(body).toEqual({ status: 'ok', service: 'admintest', uptime_seconds: expect.any(Number) });
      expect(Number.isInteger(body.uptime_seconds)).toBe(true);
      expect(checked).toBe(0);
    } finally {
      await runtime.stop();
    }
  });

  it('answers /readyz 200 when every check passes', async () => {
    const { runtime, port } = await started((r) => {
      r.addReadinessCheck('postgres', async () => undefined);
      r.addReadinessCheck('redis', async () => undefined);
    });
    try {
      const res = await httpRequest(port, '/readyz');
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
      expect(runtime.ready).toBe(true);
    } finally {
      await runtime.stop();
    }
  });

  it('answers /readyz 503 naming the failing check, and recovers', async () => {
    let redisUp = false;
    const { runtime, port } = await started((r) => {
      r.addReadinessCheck('postgres', async () => undefined);
      r.addReadinessCheck('redis', async () => {
        if (!redisUp) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
      });
      r.addReadinessCheck('sync-throw', () => {
        if (!redisUp) throw new Error('thrown synchronously');
        return Promise.resolve();
      });
    });
    try {
      const res = await httpRequest(port, '/readyz');
      expect(res.status).toBe(503);
      expect(JSON.parse(res.body)).toEqual({
        status: 'degraded',
        checks: { postgres: 'ok', redis: 'connect ECONNREFUSED 127.0.0.1:6379', 'sync-throw': 'thrown synchronously' },
      });
      redisUp = true;
      expect((await httpRequest(port, '/readyz')).status).toBe(200);
      const warnings = logs().filter((line) => line.msg === 'readiness check failing');
      expect(warnings.map((line) => line.check).sort()).toEqual(['redis', 'sync-throw']);
    } finally {
      await runtime.stop();
    }
  });

  it('fails a check that does not answer within the timeout', async () => {
    const { runtime, port } = await started((r) => r.addReadinessCheck('hangs', () => new Promise<void>(() => undefined)), 50);
    try {
      const res = await httpRequest(port, '/readyz');
      expect(res.status).toBe(503);
      expect(JSON.parse(res.body)).toEqual({ status: 'degraded', checks: { hangs: 'timed out after 50 ms' } });
    } finally {
      await runtime.stop();
    }
  });

  it('answers /readyz 503 "stopping" once shutdown begins, while hooks still run', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let hookStarted = false;
    const { runtime, port } = await started((r) =>
      r.onShutdown(async () => {
        hookStarted = true;
        await gate;
      }),
    );
    const stopping = runtime.stop();
    while (!hookStarted) await sleep(5);
    expect(runtime.ready).toBe(false);
    const res = await httpRequest(port, '/readyz');
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toEqual({ status: 'stopping', checks: {} });
    expect((await httpRequest(port, '/healthz')).status).toBe(200);
    release();
    await stopping;
    expect(runtime.state).toBe('stopped');
    await expect(httpRequest(port, '/healthz')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('serves Prometheus text on /metrics', async () => {
    const { runtime, port } = await started();
    try {
      const res = await httpRequest(port, '/metrics');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(res.body).toMatch(/^process_cpu_user_seconds_total\{service="admintest"\} /m);
    } finally {
      await runtime.stop();
    }
  });

  it('answers unknown paths with a 404 problem+json and wrong methods with 405', async () => {
    const { runtime, port } = await started();
    try {
      const missing = await httpRequest(port, '/nope?x=1');
      expect(missing.status).toBe(404);
      expect(missing.headers['content-type']).toBe('application/problem+json');
      expect(JSON.parse(missing.body)).toEqual({ type: 'about:blank', title: 'Not Found', status: 404 });
      const post = await httpRequest(port, '/healthz', 'POST');
      expect(post.status).toBe(405);
      expect(post.headers.allow).toBe('GET, HEAD');
      expect(JSON.parse(post.body)).toEqual({ type: 'about:blank', title: 'Method Not Allowed', status: 405 });
      const head = await httpRequest(port, '/healthz', 'HEAD');
      expect(head.status).toBe(200);
      expect(head.body).toBe('');
    } finally {
      await runtime.stop();
    }
  });
});

describe('runtime lifecycle errors', () => {
  it('rejects a second start and a gRPC service without grpcBind', async () => {
    const { runtime } = await started();
    try {
      await expect(runtime.start()).rejects.toMatchObject({ code: 'RUNTIME_ALREADY_STARTED' });
      expect(() => runtime.addGrpcService({}, {})).toThrow(expect.objectContaining({ code: 'GRPC_NOT_CONFIGURED' }));
    } finally {
      await runtime.stop();
    }
  });

  it('rejects a malformed bind address at construction and reports a port in use at start', async () => {
    expect(() => createServiceRuntime({ name: 'x', adminBind: 'localhost', telemetry })).toThrow('invalid host:port "localhost": port missing');
    const { runtime, port } = await started();
    try {
      const clash = createServiceRuntime({ name: 'clash', adminBind: `127.0.0.1:${port}`, telemetry });
      await expect(clash.start()).rejects.toMatchObject({ code: 'BIND_FAILED' });
      expect(clash.state).toBe('stopped');
    } finally {
      await runtime.stop();
    }
  });

  it('runs shutdown hooks in reverse order, keeps going after a failure and reports it', async () => {
    const order: string[] = [];
    const { runtime } = await started((r) => {
      r.onShutdown(() => void order.push('first-added'));
      r.onShutdown(() => {
        order.push('second-added');
        throw new Error('close failed');
      });
      r.onShutdown(async () => void order.push('third-added'));
    });
    await expect(runtime.stop()).rejects.toMatchObject({ code: 'SHUTDOWN_HOOK_FAILED' });
    expect(order).toEqual(['third-added', 'second-added', 'first-added']);
    // Idempotent: the same outcome, hooks not run again.
    await expect(runtime.stop()).rejects.toMatchObject({ code: 'SHUTDOWN_HOOK_FAILED' });
    expect(order).toHaveLength(3);
  });
});
