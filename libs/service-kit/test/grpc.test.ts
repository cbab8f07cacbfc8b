import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  callUnary,
  createGrpcClient,
  createServiceRuntime,
  GrpcStatusError,
  type ServiceRuntime,
  useGrpcClientMetrics,
} from '@commucat/service-kit';
import { traceIdOf, withSpan } from '@commucat/telemetry';
import { trace } from '@opentelemetry/api';
import {
  ECHO_SERVICE,
  type EchoClient,
  EchoClientCtor,
  EchoDefinition,
  type EchoRequest,
  type EchoResponse,
  httpRequest,
  sleep,
  testTelemetry,
} from './support';

const { telemetry, spans, logs } = testTelemetry('grpctest');

let slowStarted: () => void = () => undefined;
/** Set when a slow handler has produced its response (server side). */
let slowFinished = false;

const implementation: grpc.UntypedServiceImplementation = {
  echo(call: grpc.ServerUnaryCall<EchoRequest, EchoResponse>, callback: grpc.sendUnaryData<EchoResponse>) {
    const span = trace.getActiveSpan();
    telemetry.logger.info({ text: call.request.text }, 'echo handled');
    callback(null, { text: call.request.text, traceId: traceIdOf(), spanId: span?.spanContext().spanId });
  },
  async echoAsync(call: grpc.ServerUnaryCall<EchoRequest, EchoResponse>) {
    await sleep(1);
    return { text: `async ${call.request.text}`, traceId: traceIdOf() };
  },
  notFound() {
    throw new GrpcStatusError(grpc.status.NOT_FOUND, 'no such user');
  },
  explode() {
    throw new Error('password=hunter2 leaked in a stack trace');
  },
  async rejectAsync() {
    await sleep(1);
    throw new TypeError('cannot read properties of undefined');
  },
  statusObject(_call: unknown, callback: grpc.sendUnaryData<EchoResponse>) {
    callback({ code: grpc.status.PERMISSION_DENIED, details: 'not your device' });
  },
  async slow(call: grpc.ServerUnaryCall<EchoRequest, EchoResponse>) {
    slowFinished = false;
    slowStarted();
    // Ends early when the call is cancelled, so no timer outlives the test.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, call.request.delayMs ?? 200);
      call.once('cancelled', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    slowFinished = true;
    return { text: 'slow done' };
  },
};

let runtime: ServiceRuntime;
let grpcPort: number;
let adminPort: number;
let client: EchoClient;

beforeAll(async () => {
  runtime = createServiceRuntime({ name: 'grpctest', adminBind: '127.0.0.1:0', grpcBind: '127.0.0.1:0', telemetry, shutdownTimeoutMs: 2000 });
  runtime.addGrpcService(EchoDefinition, implementation);
  ({ grpcPort, adminPort } = (await runtime.start()) as { grpcPort: number; adminPort: number });
  client = createGrpcClient(EchoClientCtor, `127.0.0.1:${grpcPort}`);
});

afterAll(async () => {
  client.close();
  await runtime.stop();
  await telemetry.shutdown();
});

beforeEach(() => spans.reset());

async function rejection(promise: Promise<unknown>): Promise<GrpcStatusError> {
  try {
    await promise;
  } catch (error) {
    if (GrpcStatusError.is(error)) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('unary calls through createGrpcClient', () => {
  it('carry the trace across: the server span continues the client trace', async () => {
    const { outer, response } = await withSpan(telemetry.tracer, 'caller', async (span) => ({
      outer: span.spanContext(),
      response: await callUnary(client, 'echo', { text: 'hi' }),
    }));
    expect(response.text).toBe('hi');
    expect(response.traceId).toBe(outer.traceId);

    const finished = spans.getFinishedSpans();
    const server = finished.find((span) => span.kind === SpanKind.SERVER)!;
    const clientSpan = finished.find((span) => span.kind === SpanKind.CLIENT)!;
    expect(server.name).toBe(`${ECHO_SERVICE}/Echo`);
    expect(clientSpan.name).toBe(`${ECHO_SERVICE}/Echo`);
    expect(server.spanContext().traceId).toBe(outer.traceId);
    expect(clientSpan.spanContext().traceId).toBe(outer.traceId);
    // caller → CLIENT span → SERVER span, and the handler ran inside the SERVER span.
    expect(clientSpan.parentSpanContext?.spanId).toBe(outer.spanId);
    expect(server.parentSpanContext?.spanId).toBe(clientSpan.spanContext().spanId);
    expect(response.spanId).toBe(server.spanContext().spanId);
    expect(server.attributes).toMatchObject({ 'rpc.system': 'grpc', 'rpc.service': ECHO_SERVICE, 'rpc.method': 'Echo', 'rpc.grpc.status_code': 0 });
  });

  it('starts a new trace on the client when none is active, and the server joins it', async () => {
    const response = await callUnary(client, 'echoAsync', { text: 'x' });
    expect(response.text).toBe('async x');
    const clientSpan = spans.getFinishedSpans().find((span) => span.kind === SpanKind.CLIENT)!;
    expect(response.traceId).toBe(clientSpan.spanContext().traceId);
  });

  it('passes a GrpcStatusError through with its code and message', async () => {
    const error = await rejection(callUnary(client, 'notFound', { text: 'x' }));
    expect(error.code).toBe(5);
    expect(error.code).toBe(grpc.status.NOT_FOUND);
    expect(error.message).toBe('no such user');
    const server = spans.getFinishedSpans().find((span) => span.kind === SpanKind.SERVER)!;
    // A caller-side error: not a server fault, the span status stays unset.
    expect(server.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('passes a grpc-js status object given to the callback through', async () => {
    const error = await rejection(callUnary(client, 'statusObject', { text: 'x' }));
    expect(error.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(error.message).toBe('not your device');
  });

  it.each([
    ['explode', 'a synchronous throw'],
    ['rejectAsync', 'a rejected promise'],
  ] as const)('turns %s (%s) into INTERNAL with a generic message', async (method, _how) => {
    const error = await rejection(callUnary(client, method, { text: 'x' }));
    expect(error.code).toBe(grpc.status.INTERNAL);
    expect(error.message).toBe('internal error');
    expect(error.message).not.toMatch(/hunter2|undefined|at /);
    const server = spans.getFinishedSpans().find((span) => span.kind === SpanKind.SERVER)!;
    expect(server.status.code).toBe(SpanStatusCode.ERROR);
    expect(server.events.map((event) => event.name)).toEqual(['exception']);
    // The details stay on the server: logged with the trace id of the failing call.
    const logged = logs().filter((line) => line.msg === 'gRPC handler failed' && line.method === `${ECHO_SERVICE}/${method === 'explode' ? 'Explode' : 'RejectAsync'}`);
    expect(logged.at(-1)).toMatchObject({ trace_id: server.spanContext().traceId, err: { message: expect.any(String) } });
  });

  it('enforces the deadline', async () => {
    const error = await rejection(callUnary(client, 'slow', { text: 'x', delayMs: 500 }, { deadlineMs: 50 }));
    expect(error.code).toBe(grpc.status.DEADLINE_EXCEEDED);
  });

  it('cancels through an AbortSignal', async () => {
    const controller = new AbortController();
    const started = new Promise<void>((resolve) => (slowStarted = resolve));
    const pending = callUnary(client, 'slow', { text: 'x', delayMs: 500 }, { signal: controller.signal });
    await started;
    controller.abort();
    expect((await rejection(pending)).code).toBe(grpc.status.CANCELLED);
  });

  it('records duration and outcome per method and code', async () => {
    await callUnary(client, 'echo', { text: 'count me' });
    await rejection(callUnary(client, 'notFound', { text: 'x' }));
    const text = (await httpRequest(adminPort, '/metrics')).body;
    // Value of the series `name` whose labels include method, code and service (any order).
    const sample = (name: string, method: string, code: string) => {
      const wanted = [`method="${ECHO_SERVICE}/${method}"`, `code="${code}"`, 'service="grpctest"'];
      const line = text.split('\n').find((candidate) => {
        const match = /^(\w+)\{(.*)\} (\S+)$/.exec(candidate);
        return match !== null && match[1] === name && wanted.every((label) => match[2]!.split(',').includes(label));
      });
      return line === undefined ? 0 : Number(line.split(' ').at(-1));
    };
    expect(sample('commucat_grpc_server_handled_total', 'Echo', 'OK')).toBeGreaterThanOrEqual(2);
    expect(sample('commucat_grpc_server_handled_total', 'NotFound', 'NOT_FOUND')).toBeGreaterThanOrEqual(2);
    expect(sample('commucat_grpc_server_handled_total', 'Explode', 'INTERNAL')).toBe(1);
    // The deadline test and the abort test above: both 'cancelled' for grpc-js, told apart here.
    expect(sample('commucat_grpc_server_handled_total', 'Slow', 'DEADLINE_EXCEEDED')).toBe(1);
    expect(sample('commucat_grpc_server_handled_total', 'Slow', 'CANCELLED')).toBe(1);
    expect(sample('commucat_grpc_server_duration_seconds_count', 'Echo', 'OK')).toBe(sample('commucat_grpc_server_handled_total', 'Echo', 'OK'));
    expect(sample('commucat_grpc_server_duration_seconds_count', 'NotFound', 'NOT_FOUND')).toBeGreaterThanOrEqual(2);
  });

  it('records client calls per method and code once a registry is given', async () => {
    useGrpcClientMetrics(telemetry.registry);
    try {
      await callUnary(client, 'echo', { text: 'client side' });
      await rejection(callUnary(client, 'statusObject', { text: 'x' }));
    } finally {
      useGrpcClientMetrics(undefined);
    }
    // Not counted any more once the registry is taken away.
    await callUnary(client, 'echo', { text: 'unmeasured' });
    const text = await telemetry.registry.metrics();
    // Value of the series `name` whose labels include method and code (any order).
    const value = (name: string, method: string, code: string) => {
      const line = text.split('\n').find((candidate) => {
        const match = /^(\w+)\{(.*)\} (\S+)$/.exec(candidate);
        return match !== null && match[1] === name && [`method="${ECHO_SERVICE}/${method}"`, `code="${code}"`].every((label) => match[2]!.split(',').includes(label));
      });
      return line === undefined ? 0 : Number(line.split(' ').at(-1));
    };
    expect(value('commucat_grpc_client_handled_total', 'Echo', 'OK')).toBe(1);
    expect(value('commucat_grpc_client_handled_total', 'StatusObject', 'PERMISSION_DENIED')).toBe(1);
    expect(value('commucat_grpc_client_duration_seconds_count', 'Echo', 'OK')).toBe(1);
  });

  it('gives a log line written inside a handler the server span\'s trace_id and span_id', async () => {
    const response = await callUnary(client, 'echo', { text: 'log me' });
    const line = logs().find((entry) => entry.msg === 'echo handled' && entry.text === 'log me');
    expect(response.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(line).toMatchObject({ trace_id: response.traceId, span_id: response.spanId });
    const serverSpan = spans.getFinishedSpans().find((span) => span.spanContext().spanId === response.spanId);
    expect(serverSpan).toMatchObject({ name: `${ECHO_SERVICE}/Echo`, kind: SpanKind.SERVER });
  });

  it('answers UNIMPLEMENTED for a method the implementation lacks', async () => {
    const partial = createServiceRuntime({ name: 'partial', adminBind: '127.0.0.1:0', grpcBind: '127.0.0.1:0', telemetry });
    partial.addGrpcService(EchoDefinition, { echo: implementation.echo! });
    const ports = await partial.start();
    const partialClient = createGrpcClient(EchoClientCtor, `127.0.0.1:${ports.grpcPort}`);
    try {
      expect((await callUnary(partialClient, 'echo', { text: 'ok' })).text).toBe('ok');
      expect((await rejection(callUnary(partialClient, 'slow', { text: 'x' }))).code).toBe(grpc.status.UNIMPLEMENTED);
    } finally {
      partialClient.close();
      await partial.stop();
    }
  });
});

describe('gRPC health and graceful stop', () => {
  type HealthResponse = { status: string };
  type HealthClient = grpc.Client & {
    check(request: { service: string }, metadata: grpc.Metadata, options: Partial<grpc.CallOptions>, callback: (error: grpc.ServiceError | null, response: HealthResponse) => void): grpc.ClientUnaryCall;
  };
  const HealthClientCtor = grpc.makeGenericClientConstructor(healthService as unknown as grpc.ServiceDefinition, 'Health') as unknown as new (
    address: string,
    credentials: grpc.ChannelCredentials,
  ) => HealthClient;

  it('reports SERVING once started; on stop, in-flight calls finish before the shutdown hooks run', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let hookStarted = false;
    const service = createServiceRuntime({ name: 'healthtest', adminBind: '127.0.0.1:0', grpcBind: '127.0.0.1:0', telemetry });
    service.addGrpcService(EchoDefinition, implementation);
    let finishedBeforeHook: boolean | undefined;
    service.onShutdown(async () => {
      finishedBeforeHook = slowFinished;
      hookStarted = true;
      await gate;
    });

    const ports = await service.start();
    const address = `127.0.0.1:${ports.grpcPort}`;
    const health = new HealthClientCtor(address, grpc.credentials.createInsecure());
    const echo = createGrpcClient(EchoClientCtor, address);
    try {
      expect(await callUnary(health, 'check', { service: '' })).toEqual({ status: 'SERVING' });
      expect(await callUnary(health, 'check', { service: ECHO_SERVICE })).toEqual({ status: 'SERVING' });
      const unknown = await rejection(callUnary(health, 'check', { service: 'no.such.Service' }));
      expect(unknown.code).toBe(grpc.status.NOT_FOUND);

      const started = new Promise<void>((resolve) => (slowStarted = resolve));
      const inFlight = callUnary(echo, 'slow', { text: 'x', delayMs: 300 });
      await started;

      const stopping = service.stop();
      expect(service.ready).toBe(false);
      while (!hookStarted) await sleep(5);
      // Hooks (which close pools and clients) start only once the running call has completed.
      expect(finishedBeforeHook).toBe(true);
      expect(await inFlight).toEqual({ text: 'slow done' });
      release();
      await stopping;
      expect(service.state).toBe('stopped');
      const after = await rejection(callUnary(health, 'check', { service: '' }, { deadlineMs: 500 }));
      expect([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED]).toContain(after.code);
    } finally {
      health.close();
      echo.close();
    }
  });

  it('forces in-flight calls off at the shutdown deadline', async () => {
    const service = createServiceRuntime({ name: 'forcetest', adminBind: '127.0.0.1:0', grpcBind: '127.0.0.1:0', telemetry, shutdownTimeoutMs: 100 });
    service.addGrpcService(EchoDefinition, implementation);
    const ports = await service.start();
    const echo = createGrpcClient(EchoClientCtor, `127.0.0.1:${ports.grpcPort}`);
    try {
      const started = new Promise<void>((resolve) => (slowStarted = resolve));
      const inFlight = rejection(callUnary(echo, 'slow', { text: 'x', delayMs: 3000 }));
      await started;
      const before = Date.now();
      await service.stop();
      expect(Date.now() - before).toBeLessThan(2000);
      // Cut off by the server: the client sees the stream reset (CANCELLED) or the connection gone.
      expect([grpc.status.CANCELLED, grpc.status.UNAVAILABLE]).toContain((await inFlight).code);
      expect(logs().some((line) => line.msg === 'gRPC calls still running at the shutdown deadline; forcing')).toBe(true);
    } finally {
      echo.close();
    }
  });
});
