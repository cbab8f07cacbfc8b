import { execFile, execFileSync } from 'node:child_process';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  exportSettings,
  InMemorySpanExporter,
  initTelemetry,
  injectTraceContext,
  SimpleSpanProcessor,
  startRootSpan,
  trace,
  unsampledContext,
  withSpan,
} from '@commucat/telemetry';

const execFileAsync = promisify(execFile);
const REPO_ROOT = join(__dirname, '..', '..', '..');

describe('exportSettings: which collector, in the documented precedence', () => {
  it('exports nothing without any endpoint', () => {
    expect(exportSettings(undefined, {})).toEqual({ export: false, reason: 'no_endpoint' });
  });

  it('uses the fleet key, appending /v1/traces to a base URL', () => {
    expect(exportSettings('http://collector:4318', {})).toEqual({ export: true, url: 'http://collector:4318/v1/traces' });
    expect(exportSettings('https://c/otlp/v1/traces', {})).toEqual({ export: true, url: 'https://c/otlp/v1/traces' });
  });

  it('lets OTEL_EXPORTER_OTLP_TRACES_ENDPOINT win and leaves it to the exporter (used as is)', () => {
    const env = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:9999/custom' };
    expect(exportSettings('http://collector:4318', env)).toEqual({ export: true, url: undefined });
    expect(exportSettings(undefined, env)).toEqual({ export: true, url: undefined });
  });

  it('takes OTEL_EXPORTER_OTLP_ENDPOINT as a base URL when nothing more specific is set', () => {
    expect(exportSettings(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318/' })).toEqual({ export: true, url: 'http://otel:4318/v1/traces' });
    expect(exportSettings('http://ours:4318', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318' })).toEqual({ export: true, url: 'http://ours:4318/v1/traces' });
  });

  it('turns export off for OTEL_SDK_DISABLED=true and OTEL_TRACES_EXPORTER=none, whatever the endpoint', () => {
    expect(exportSettings('http://c:4318', { OTEL_SDK_DISABLED: 'TRUE' })).toEqual({ export: false, reason: 'sdk_disabled' });
    expect(exportSettings('http://c:4318', { OTEL_SDK_DISABLED: 'false' })).toMatchObject({ export: true });
    expect(exportSettings('http://c:4318', { OTEL_TRACES_EXPORTER: 'none' })).toEqual({ export: false, reason: 'exporter_none' });
    expect(exportSettings('http://c:4318', { OTEL_TRACES_EXPORTER: 'otlp' })).toMatchObject({ export: true });
  });
});

describe('unsampled context (media frames)', () => {
  it('records no span under it and propagates "not sampled" to the next service', async () => {
    const exporter = new InMemorySpanExporter();
    const telemetry = initTelemetry({ serviceName: 'media-test', logLevel: 'silent', spanProcessors: [new SimpleSpanProcessor(exporter)] });
    try {
      const ctx = unsampledContext();
      const carrier = injectTraceContext({}, ctx);
      expect(carrier.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
      const recording = await withSpan(telemetry.tracer, 'media frame', (span) => span.isRecording(), { parent: ctx });
      expect(recording).toBe(false);
      // A root span ignores whatever is active: a frame's trace never hangs under another.
      const { span } = startRootSpan('frame');
      expect(span.isRecording()).toBe(true);
      expect((span as unknown as { parentSpanContext?: unknown }).parentSpanContext).toBeUndefined();
      expect(trace.getSpanContext(ctx)?.traceId).not.toBe(span.spanContext().traceId);
      span.end();
      expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['frame']);
    } finally {
      await telemetry.shutdown();
    }
  });
});

describe('standard OTEL_* variables in a real process', () => {
  interface Received {
    url: string | undefined;
    headers: IncomingHttpHeaders;
    body: string;
  }
  let received: Received[];
  let port: number;
  const collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });

  beforeAll(async () => {
    execFileSync('npx', ['tsc', '-b', 'libs/telemetry'], { cwd: REPO_ROOT, stdio: 'pipe' });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    port = (collector.address() as AddressInfo).port;
  }, 120_000);
  beforeEach(() => {
    received = [];
  });
  afterAll(async () => {
    collector.closeAllConnections();
    await new Promise((resolve) => collector.close(resolve));
  });

  const fixture = join(__dirname, 'fixtures', 'export-one-span.js');
  const run = (endpointArg: string, env: Record<string, string>) =>
    execFileAsync(process.execPath, [fixture, endpointArg], { env: { PATH: process.env.PATH, ...env } });

  it('sends to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, with OTEL_EXPORTER_OTLP_HEADERS and OTEL_SERVICE_NAME', async () => {
    // The fleet key names a port nobody listens on: the signal-specific variable must win.
    const { stdout } = await run('http://127.0.0.1:9/', {
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${port}/custom/traces`,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-key=abc123',
      OTEL_SERVICE_NAME: 'renamed-gateway',
    });
    const { traceId } = JSON.parse(stdout) as { traceId: string };
    expect(received.map((r) => r.url)).toEqual(['/custom/traces']);
    expect(received[0]!.headers['x-collector-key']).toBe('abc123');
    const body = JSON.parse(received[0]!.body) as { resourceSpans: { resource: { attributes: unknown[] }; scopeSpans: { spans: { traceId: string }[] }[] }[] };
    expect(body.resourceSpans[0]!.resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'renamed-gateway' } });
    expect(body.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.traceId).toBe(traceId);
  }, 60_000);

  it('honours OTEL_TRACES_SAMPLER=always_off and OTEL_SDK_DISABLED=true: nothing is sent, trace ids still exist for logs', async () => {
    const settings: Record<string, string>[] = [{ OTEL_TRACES_SAMPLER: 'always_off' }, { OTEL_SDK_DISABLED: 'true' }];
    for (const env of settings) {
      const { stdout } = await run(`http://127.0.0.1:${port}/`, env);
      expect(JSON.parse(stdout)).toEqual({ traceId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    }
    expect(received).toEqual([]);
  }, 60_000);
});
