import { execFile, execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  extractTraceContext,
  InMemorySpanExporter,
  initTelemetry,
  injectTraceContext,
  otlpTracesUrl,
  SimpleSpanProcessor,
  traceIdOf,
  withSpan,
} from '@commucat/telemetry';

const execFileAsync = promisify(execFile);
const REPO_ROOT = join(__dirname, '..', '..', '..');

function setUp() {
  const exporter = new InMemorySpanExporter();
  const telemetry = initTelemetry({
    serviceName: 'tracetest',
    logLevel: 'silent',
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  return { telemetry, exporter };
}

describe('trace context propagation', () => {
  it('round-trips the trace id through inject and extract', async () => {
    const { telemetry, exporter } = setUp();
    try {
      const carrier: Record<string, string> = {};
      let parentSpanId = '';
      const traceId = await withSpan(telemetry.tracer, 'producer', (span) => {
        parentSpanId = span.spanContext().spanId;
        injectTraceContext(carrier);
        return traceIdOf();
      });
      expect(carrier.traceparent).toBe(`00-${traceId}-${parentSpanId}-01`);

      // The consumer side starts from an empty context, as a fresh request would.
      const extracted = extractTraceContext(carrier, context.active());
      expect(traceIdOf(extracted)).toBe(traceId);
      await withSpan(telemetry.tracer, 'consumer', () => undefined, { parent: extracted, kind: SpanKind.CONSUMER });
      const consumer = exporter.getFinishedSpans().find((span) => span.name === 'consumer')!;
      expect(consumer.spanContext().traceId).toBe(traceId);
      expect(consumer.parentSpanContext?.spanId).toBe(parentSpanId);
    } finally {
      await telemetry.shutdown();
    }
  });

  it('carries baggage and accepts array-valued headers', async () => {
    const { telemetry } = setUp();
    try {
      const withBaggage = propagation.setBaggage(context.active(), propagation.createBaggage({ tenant: { value: 'acme' } }));
      const carrier = injectTraceContext({}, withBaggage);
      expect(carrier.baggage).toBe('tenant=acme');
      const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      const extracted = extractTraceContext({ traceparent: [traceparent], baggage: carrier.baggage });
      expect(traceIdOf(extracted)).toBe('0af7651916cd43dd8448eb211c80319c');
      expect(propagation.getBaggage(extracted)?.getEntry('tenant')?.value).toBe('acme');
    } finally {
      await telemetry.shutdown();
    }
  });

  it('returns undefined outside a trace and ignores a malformed traceparent', async () => {
    const { telemetry } = setUp();
    try {
      expect(traceIdOf()).toBeUndefined();
      expect(traceIdOf(extractTraceContext({ traceparent: 'garbage' }))).toBeUndefined();
      expect(injectTraceContext({})).toEqual({});
    } finally {
      await telemetry.shutdown();
    }
  });

  it('follows the parent sampling decision (parent-based sampler)', async () => {
    const { telemetry, exporter } = setUp();
    try {
      const unsampled = extractTraceContext({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00' });
      const recording = await withSpan(telemetry.tracer, 'child', (span) => span.isRecording(), { parent: unsampled });
      expect(recording).toBe(false);
      const root = await withSpan(telemetry.tracer, 'root', (span) => span.isRecording());
      expect(root).toBe(true);
      expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual(['root']);
    } finally {
      await telemetry.shutdown();
    }
  });
});

describe('withSpan', () => {
  it('records the exception and sets status ERROR, then rethrows', async () => {
    const { telemetry, exporter } = setUp();
    try {
      const failure = new Error('database unreachable');
      await expect(withSpan(telemetry.tracer, 'failing', () => Promise.reject(failure))).rejects.toBe(failure);
      await expect(withSpan(telemetry.tracer, 'failing-sync', () => { throw failure; })).rejects.toBe(failure);
      const spans = exporter.getFinishedSpans();
      expect(spans.map((span) => span.name)).toEqual(['failing', 'failing-sync']);
      for (const span of spans) {
        expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'database unreachable' });
        expect(span.events.map((event) => event.name)).toEqual(['exception']);
        expect(span.events[0]!.attributes?.['exception.message']).toBe('database unreachable');
      }
    } finally {
      await telemetry.shutdown();
    }
  });

  it('makes the span active inside fn and leaves the status unset on success', async () => {
    const { telemetry, exporter } = setUp();
    try {
      const value = await withSpan(telemetry.tracer, 'ok', (span) => {
        expect(trace.getActiveSpan()).toBe(span);
        return 42;
      });
      expect(value).toBe(42);
      expect(exporter.getFinishedSpans()[0]!.status.code).toBe(SpanStatusCode.UNSET);
      expect(exporter.getFinishedSpans()[0]!.resource.attributes['service.name']).toBe('tracetest');
    } finally {
      await telemetry.shutdown();
    }
  });
});

describe('lifecycle and export', () => {
  it('hands the globals back on shutdown so a later instance works', async () => {
    const first = setUp();
    await first.telemetry.shutdown();
    const second = setUp();
    try {
      const inner = await withSpan(second.telemetry.tracer, 'again', async () => {
        await new Promise((resolve) => setImmediate(resolve));
        return traceIdOf();
      });
      expect(inner).toMatch(/^[0-9a-f]{32}$/);
      expect(second.exporter.getFinishedSpans()).toHaveLength(1);
    } finally {
      await second.telemetry.shutdown();
    }
  });

  it('exports spans over OTLP/HTTP to the configured collector and flushes them on shutdown', async () => {
    execFileSync('npx', ['tsc', '-b', 'libs/telemetry'], { cwd: REPO_ROOT, stdio: 'pipe' });
    const received: { url: string | undefined; body: string }[] = [];
    const collector = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ url: req.url, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const { port } = collector.address() as AddressInfo;
    try {
      const fixture = join(__dirname, 'fixtures', 'export-one-span.js');
      const { stdout } = await execFileAsync(process.execPath, [fixture, `http://127.0.0.1:${port}/`]);
      const { traceId } = JSON.parse(stdout) as { traceId: string };
      expect(received.map((request) => request.url)).toEqual(['/v1/traces']);
      const body = JSON.parse(received[0]!.body) as {
        resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: { name: string; traceId: string }[] }[] }[];
      };
      const [resourceSpans] = body.resourceSpans;
      expect(resourceSpans!.resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'exported' } });
      expect(resourceSpans!.scopeSpans[0]!.spans.map((span) => [span.name, span.traceId])).toEqual([['sent-to-collector', traceId]]);
    } finally {
      collector.closeAllConnections();
      await new Promise((resolve) => collector.close(resolve));
    }
  }, 120_000);

  it('builds the traces URL from a base endpoint', () => {
    expect(otlpTracesUrl('http://collector:4318')).toBe('http://collector:4318/v1/traces');
    expect(otlpTracesUrl('http://collector:4318/')).toBe('http://collector:4318/v1/traces');
    expect(otlpTracesUrl('https://c/otlp/v1/traces')).toBe('https://c/otlp/v1/traces');
  });
});
