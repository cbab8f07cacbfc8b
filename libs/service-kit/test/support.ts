import { request } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { InMemorySpanExporter, initTelemetry, SimpleSpanProcessor, type Telemetry } from '@commucat/telemetry';

export interface HttpResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A plain HTTP request without keep-alive, so no socket outlives the test. */
export function httpRequest(port: number, path: string, method = 'GET'): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Telemetry whose logs and spans stay in memory for assertions. */
export function testTelemetry(serviceName: string): { telemetry: Telemetry; spans: InMemorySpanExporter; logs: () => Record<string, unknown>[] } {
  const spans = new InMemorySpanExporter();
  const chunks: string[] = [];
  const telemetry = initTelemetry({
    serviceName,
    logLevel: 'info',
    logDestination: { write: (line: string) => void chunks.push(line) },
    spanProcessors: [new SimpleSpanProcessor(spans)],
  });
  const logs = () =>
    chunks.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
  return { telemetry, spans, logs };
}

// A real gRPC service with JSON messages: hand-written definition, no codegen needed.
const serialize = (value: unknown) => Buffer.from(JSON.stringify(value));
const deserialize = (bytes: Buffer) => JSON.parse(bytes.toString('utf8')) as unknown;

function unary(service: string, method: string): grpc.MethodDefinition<unknown, unknown> {
  return {
    path: `/${service}/${method}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: serialize,
    requestDeserialize: deserialize,
    responseSerialize: serialize,
    responseDeserialize: deserialize,
    originalName: method,
  };
}

export const ECHO_SERVICE = 'commucat.test.Echo';

export const EchoDefinition: grpc.ServiceDefinition = {
  echo: unary(ECHO_SERVICE, 'Echo'),
  echoAsync: unary(ECHO_SERVICE, 'EchoAsync'),
  notFound: unary(ECHO_SERVICE, 'NotFound'),
  explode: unary(ECHO_SERVICE, 'Explode'),
  rejectAsync: unary(ECHO_SERVICE, 'RejectAsync'),
  statusObject: unary(ECHO_SERVICE, 'StatusObject'),
  slow: unary(ECHO_SERVICE, 'Slow'),
};

export interface EchoRequest {
  readonly text: string;
  readonly delayMs?: number;
}
export interface EchoResponse {
  readonly text: string;
  readonly traceId?: string;
  readonly spanId?: string;
}

type Callback<Res> = (error: grpc.ServiceError | null, response: Res) => void;

/** The shape ts-proto generates for @grpc/grpc-js clients (three overloads per method). */
interface UnaryClientMethod<Req, Res> {
  (request: Req, callback: Callback<Res>): grpc.ClientUnaryCall;
  (request: Req, metadata: grpc.Metadata, callback: Callback<Res>): grpc.ClientUnaryCall;
  (request: Req, metadata: grpc.Metadata, options: Partial<grpc.CallOptions>, callback: Callback<Res>): grpc.ClientUnaryCall;
}

export interface EchoClient extends grpc.Client {
  echo: UnaryClientMethod<EchoRequest, EchoResponse>;
  echoAsync: UnaryClientMethod<EchoRequest, EchoResponse>;
  notFound: UnaryClientMethod<EchoRequest, EchoResponse>;
  explode: UnaryClientMethod<EchoRequest, EchoResponse>;
  rejectAsync: UnaryClientMethod<EchoRequest, EchoResponse>;
  statusObject: UnaryClientMethod<EchoRequest, EchoResponse>;
  slow: UnaryClientMethod<EchoRequest, EchoResponse>;
}

export const EchoClientCtor = grpc.makeGenericClientConstructor(EchoDefinition, 'Echo') as unknown as new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: Partial<grpc.ClientOptions>,
) => EchoClient;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
