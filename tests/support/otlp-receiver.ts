import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** One span as an OTLP/HTTP receiver sees it, with its resource's service.name. */
export interface ReceivedSpan {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  readonly links: readonly { traceId: string; spanId: string }[];
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  readonly statusCode: number;
  readonly startNanos: bigint;
}

// The OTLP JSON encoding (opentelemetry-proto, JSON mapping): ids are hex strings, 64-bit
// integers may come as strings.
interface JsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
}
interface JsonKeyValue {
  key: string;
  value?: JsonAnyValue;
}
interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  startTimeUnixNano?: string | number;
  attributes?: JsonKeyValue[];
  links?: { traceId: string; spanId: string }[];
  status?: { code?: number };
}
interface JsonExportRequest {
  resourceSpans?: { resource?: { attributes?: JsonKeyValue[] }; scopeSpans?: { spans?: JsonSpan[] }[] }[];
}

function scalar(value: JsonAnyValue | undefined): string | number | boolean {
  if (value === undefined) return '';
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  return '';
}

function attributeMap(list: JsonKeyValue[] | undefined): Record<string, string | number | boolean> {
  const map: Record<string, string | number | boolean> = {};
  for (const entry of list ?? []) map[entry.key] = scalar(entry.value);
  return map;
}

/** Flattens one OTLP/JSON ExportTraceServiceRequest into spans. */
export function spansOfExport(request: JsonExportRequest): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of request.resourceSpans ?? []) {
    const service = String(attributeMap(resourceSpans.resource?.attributes)['service.name'] ?? '');
    for (const scope of resourceSpans.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        spans.push({
          service,
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId ?? '',
          name: span.name,
          kind: span.kind ?? 0,
          attributes: attributeMap(span.attributes),
          links: (span.links ?? []).map((link) => ({ traceId: link.traceId, spanId: link.spanId })),
          statusCode: span.status?.code ?? 0,
          startNanos: BigInt(span.startTimeUnixNano ?? 0),
        });
      }
    }
  }
  return spans;
}

/**
 * A real OTLP/HTTP trace receiver on a free loopback port: POST /v1/traces with the JSON encoding
 * (what @opentelemetry/exporter-trace-otlp-http sends), gzip or not. Protobuf bodies are refused
 * with 415, so an exporter switched to protobuf fails loudly instead of looking silent.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Request bodies that could not be read (a broken exporter shows here). */
  readonly rejected: string[] = [];

  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(): Promise<OtlpReceiver> {
    let receiver: OtlpReceiver | undefined;
    const server = createServer((req, res) => receiver!.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver = new OtlpReceiver(server, (server.address() as AddressInfo).port);
    return receiver;
  }

  /** The collector base URL (what OTEL_EXPORTER_OTLP_ENDPOINT takes). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      const type = String(req.headers['content-type'] ?? '');
      if (!type.startsWith('application/json')) {
        this.rejected.push(`unsupported content-type ${type}`);
        res.writeHead(415, { 'content-type': 'application/json' }).end('{"message":"only OTLP/JSON is accepted"}');
        return;
      }
      try {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        this.spans.push(...spansOfExport(JSON.parse(body.toString('utf8')) as JsonExportRequest));
      } catch (err) {
        this.rejected.push((err as Error).message);
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"message":"unreadable export request"}');
        return;
      }
      // An empty ExportTraceServiceResponse: every span accepted.
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  }

  /** Spans of one trace. */
  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((span) => span.traceId === traceId);
  }

  /** Polls until `check` returns a value (not undefined), or fails after `timeoutMs` with `what`. */
  async waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = check();
      if (found !== undefined) return found;
      if (Date.now() > deadline) {
        const names = [...new Set(this.spans.map((span) => `${span.service}:${span.name}`))].sort();
        throw new Error(`no ${what} after ${timeoutMs} ms; ${this.spans.length} spans received: ${names.join(', ')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
