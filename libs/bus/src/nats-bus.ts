import { context, type Span } from '@opentelemetry/api';
import { connect, headers as createHeaders, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { JetStreamApiCodes, JetStreamApiError, jetstream, jetstreamManager, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type {
  Bus,
  BusSubscription,
  ConsumeDurableOptions,
  DurableConsumer,
  DurablePublishAck,
  DurablePublishOptions,
  MessageHandler,
  PublishOptions,
  RequestHandler,
  StreamOptions,
  SubscribeOptions,
} from './bus-types';
import type { BusCodec } from './codec';
import { busMetrics, noBusMetrics, type BusMetrics, type BusOperation } from './bus-metrics';
import { BusError } from './errors';
import { ensureDurableConsumer, ensureStreamWith } from './jetstream-admin';
import { silentLogger, type BusLogger } from './logger';
import { runMessageLoop } from './message-loop';
import { toBusError } from './nats-errors';
import { maskUrlCredentials, type Registry } from '@commucat/telemetry';
import type { SubjectDef, SubjectParams } from './subject-def';
import { failSpan, headersToRecord, startIncomingSpan, startOutgoingSpan, type SpanTarget } from './trace-context';

/** Header a `serve` responder sets when its handler failed; the value is a short error code. */
export const REPLY_ERROR_HEADER = 'Commucat-Error';

const MAX_NAK_DELAY_MS = 60_000;
const ERROR_CODE = /^[a-z][a-z0-9_]{0,63}$/;

export interface ConnectBusOptions {
  /** One URL or a comma-separated list (COMMUCAT_NATS_URL). */
  servers: string | string[];
  /** Connection name shown by the server; use the service name. */
  name: string;
  logger?: BusLogger;
  /**
   * Prefix for every subject (`<namespace>.commucat.…`), so several fleets can share one NATS
   * server without hearing each other (test fleets next to a `make up` fleet). Empty: none.
   */
  namespace?: string;
  /** The service's registry: NATS failures are counted in commucat_nats_errors_total. */
  registry?: Registry;
  /** Credentials for a NATS server that requires them (natsAuthOf(config.fleet)). */
  auth?: NatsAuth | undefined;
}

/** NATS authentication: user and password, or a token. */
export type NatsAuth = { readonly user: string; readonly pass: string } | { readonly token: string };

/** The credentials the fleet's config names (fleet.nats_user/_password or fleet.nats_token), if any. */
export function natsAuthOf(fleet: { readonly natsUser?: string; readonly natsPassword?: string; readonly natsToken?: string }): NatsAuth | undefined {
  if (fleet.natsToken !== undefined) return { token: fleet.natsToken };
  if (fleet.natsUser !== undefined && fleet.natsPassword !== undefined) return { user: fleet.natsUser, pass: fleet.natsPassword };
  return undefined;
}

const NAMESPACE = /^[A-Za-z0-9_-]+$/;

/** Connects to NATS. Fails with BusError('unavailable') when no server answers. */
export async function connectBus(options: ConnectBusOptions): Promise<Bus> {
  const servers = Array.isArray(options.servers) ? options.servers : options.servers.split(',').map((s) => s.trim()).filter(Boolean);
  let nc: NatsConnection;
  try {
    nc = await connect({ servers, name: options.name, maxReconnectAttempts: -1, reconnectTimeWait: 1000, ...options.auth });
  } catch (err) {
    // A URL may carry credentials: they never reach the message (which reaches logs).
    throw new BusError('unavailable', `cannot connect to NATS at ${maskUrlCredentials(servers.join(','))}: ${(err as Error).message}`, { cause: err });
  }
  const namespace = options.namespace ?? '';
  if (namespace !== '' && !NAMESPACE.test(namespace)) {
    await nc.close();
    throw new BusError('invalid_subject', `bus namespace ${JSON.stringify(namespace)} must be letters, digits, '_' or '-'`);
  }
  return new NatsBus(nc, options.name, options.logger ?? silentLogger, namespace ? `${namespace}.` : '', options.registry ? busMetrics(options.registry) : noBusMetrics);
}

interface TrackedSubscription {
  drain(): Promise<void>;
}

class NatsBus implements Bus {
  private readonly subscriptions = new Set<TrackedSubscription>();
  private readonly consumers = new Set<DurableConsumerHandle>();
  private jsClient: JetStreamClient | undefined;
  private jsManager: Promise<JetStreamManager> | undefined;
  private drained: Promise<void> | undefined;
  private readonly statusLoop: Promise<void>;

  constructor(
    private readonly nc: NatsConnection,
    readonly name: string,
    private readonly logger: BusLogger,
    private readonly prefix: string,
    private readonly metrics: BusMetrics,
  ) {
    this.statusLoop = this.watchStatus();
  }

  publish<T, P extends string>(def: SubjectDef<T, P>, params: SubjectParams<P>, message: T, options: PublishOptions = {}): void {
    this.assertOpen(def);
    const subject = this.prefix + def.subject(params);
    const data = encodeWith(def.codec, message, def.name);
    const { span, headers } = startOutgoingSpan('send', { name: def.name, pattern: def.pattern, subject }, data.length, options.headers);
    try {
      this.nc.publish(subject, data, { headers });
    } catch (err) {
      failSpan(span, err);
      throw this.counted('publish', def.name, toBusError(err, 'publish_failed', `publish ${def.name}`));
    } finally {
      span.end();
    }
  }

  subscribe<T, P extends string>(
    def: SubjectDef<T, P>,
    params: SubjectParams<P> | 'all',
    handler: MessageHandler<T>,
    options: SubscribeOptions = {},
  ): BusSubscription {
    return this.startSubscription(def, params, options, (target, msg) => this.handleMessage(def, target, msg, handler));
  }

  serve<T, P extends string, R>(
    def: SubjectDef<T, P>,
    params: SubjectParams<P> | 'all',
    replyCodec: BusCodec<R>,
    handler: RequestHandler<T, R>,
    options: SubscribeOptions = {},
  ): BusSubscription {
    return this.startSubscription(def, params, options, (target, msg) => this.handleRequest(def, target, msg, replyCodec, handler));
  }

  async request<T, P extends string, R>(
    def: SubjectDef<T, P>,
    params: SubjectParams<P>,
    message: T,
    replyCodec: BusCodec<R>,
    timeoutMs: number,
  ): Promise<R> {
    this.assertOpen(def);
    const subject = this.prefix + def.subject(params);
    const data = encodeWith(def.codec, message, def.name);
    const { span, headers } = startOutgoingSpan('request', { name: def.name, pattern: def.pattern, subject }, data.length);
    try {
      const reply = await this.nc.request(subject, data, { timeout: timeoutMs, headers });
      const remoteCode = reply.headers?.has(REPLY_ERROR_HEADER) ? reply.headers.get(REPLY_ERROR_HEADER) : undefined;
      if (remoteCode !== undefined) {
        throw new BusError('remote_error', `${def.name}: responder failed (${remoteCode})`, { remoteCode });
      }
      try {
        return replyCodec.decode(reply.data);
      } catch (err) {
        throw new BusError('decode_failed', `${def.name}: reply could not be decoded: ${(err as Error).message}`, { cause: err });
      }
    } catch (err) {
      failSpan(span, err);
      throw this.counted('request', def.name, toBusError(err, 'unavailable', `request ${def.name}`));
    } finally {
      span.end();
    }
  }

  async ensureStream(options: StreamOptions): Promise<void> {
    await ensureStreamWith(await this.manager(), {
      ...options, name: this.streamName(options.name), subjects: options.subjects.map((subject) => this.prefix + subject),
    });
  }

  async removeStream(name: string): Promise<boolean> {
    try {
      return await (await this.manager()).streams.delete(this.streamName(name));
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return false;
      throw toBusError(err, 'jetstream_failed', `remove stream ${name}`);
    }
  }

  async publishDurable<T, P extends string>(
    def: SubjectDef<T, P>,
    params: SubjectParams<P>,
    message: T,
    options: DurablePublishOptions = {},
  ): Promise<DurablePublishAck> {
    this.assertOpen(def);
    const subject = this.prefix + def.subject(params);
    const data = encodeWith(def.codec, message, def.name);
    const { span, headers } = startOutgoingSpan('send', { name: def.name, pattern: def.pattern, subject }, data.length, options.headers);
    try {
      const ack = await this.client().publish(subject, data, { headers, ...(options.msgId === undefined ? {} : { msgID: options.msgId }) });
      span.setAttribute('messaging.nats.stream.sequence', ack.seq);
      return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
    } catch (err) {
      failSpan(span, err);
      const mapped = toBusError(err, 'publish_failed', `durable publish ${def.name}`);
      // No responders on a JetStream publish means no stream captures the subject.
      throw this.counted('publish', def.name, mapped.code === 'no_responders' ? new BusError('publish_failed', `durable publish ${def.name}: no stream captures ${subject}`, { cause: err }) : mapped);
    } finally {
      span.end();
    }
  }

  async consumeDurable<T, P extends string>(def: SubjectDef<T, P>, options: ConsumeDurableOptions<T, P>): Promise<DurableConsumer> {
    this.assertOpen(def, true);
    const filterSubject = options.params ? this.prefix + def.subject(options.params) : this.prefix + def.wildcard();
    const stream = this.streamName(options.stream);
    await ensureDurableConsumer(await this.manager(), {
      stream,
      durable: options.durable,
      filterSubject,
      ackWaitMs: options.ackWaitMs ?? 30_000,
      maxDeliver: options.maxDeliver ?? -1,
      recreate: options.exclusive === true,
    });
    let messages: ConsumerMessages;
    try {
      const consumer = await this.client().consumers.get(stream, options.durable);
      messages = await consumer.consume();
    } catch (err) {
      throw toBusError(err, 'jetstream_failed', `consume ${options.stream}/${options.durable}`);
    }
    const target: SpanTarget = { name: def.name, pattern: def.pattern, subject: filterSubject, queue: options.durable };
    const loop = runMessageLoop(messages, options.concurrency ?? 1, (m) => this.handleDurable(def, target, m, options)).catch((err: unknown) => {
      this.metrics.error('consume', def.name, 'consumer_stopped');
      this.logger.error({ err, stream: options.stream, durable: options.durable }, 'durable consumer stopped with an error');
    });
    const handle = new DurableConsumerHandle(options.stream, options.durable, messages, loop);
    this.consumers.add(handle);
    void loop.finally(() => this.consumers.delete(handle));
    return handle;
  }

  async ready(timeoutMs = 2000): Promise<void> {
    if (this.nc.isClosed()) throw new BusError('closed', 'bus connection is closed');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BusError('unavailable', `NATS did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    const flush = this.nc.flush();
    flush.catch(() => undefined);
    try {
      await Promise.race([flush, timeout]);
    } catch (err) {
      throw toBusError(err, 'unavailable', 'readiness');
    } finally {
      clearTimeout(timer);
    }
  }

  drain(): Promise<void> {
    this.drained ??= this.drainAll();
    return this.drained;
  }

  async close(): Promise<void> {
    for (const consumer of this.consumers) consumer.abort();
    if (!this.nc.isClosed()) await this.nc.close();
    await this.statusLoop;
  }

  // ---- internals ----

  private async drainAll(): Promise<void> {
    // Order matters: stop taking durable work, let every subscription finish what it already
    // received (its handlers may still publish), then flush outgoing messages and close.
    await Promise.all([...this.consumers].map((c) => c.stop()));
    await Promise.all([...this.subscriptions].map((s) => s.drain()));
    if (!this.nc.isClosed()) {
      await this.nc.drain().catch((err: unknown) => this.logger.warn({ err, bus: this.name }, 'NATS drain failed'));
    }
    await this.statusLoop;
  }

  /**
   * Sending stays allowed while draining (handlers finishing their work may still publish);
   * starting new subscriptions or consumers does not.
   */
  private assertOpen(def: { name: string }, startsWork = false): void {
    if (this.nc.isClosed() || (startsWork && (this.nc.isDraining() || this.drained))) {
      throw new BusError('closed', `${def.name}: bus is closed or draining`);
    }
  }

  /** Counts a failure the caller is about to see; returns it for the throw. */
  private counted(operation: BusOperation, subject: string, err: BusError): BusError {
    this.metrics.error(operation, subject, err.code);
    return err;
  }

  /** Streams of a namespaced bus carry the namespace too, so fleets sharing a server stay apart. */
  private streamName(name: string): string {
    return this.prefix ? `${name}_${this.prefix.slice(0, -1)}` : name;
  }

  private client(): JetStreamClient {
    this.jsClient ??= jetstream(this.nc);
    return this.jsClient;
  }

  private manager(): Promise<JetStreamManager> {
    this.jsManager ??= jetstreamManager(this.nc).catch((err: unknown) => {
      this.jsManager = undefined;
      throw new BusError('jetstream_failed', `JetStream unavailable: ${(err as Error).message}`, { cause: err });
    });
    return this.jsManager;
  }

  private startSubscription<T, P extends string>(
    def: SubjectDef<T, P>,
    params: SubjectParams<P> | 'all',
    options: SubscribeOptions,
    process: (target: SpanTarget, msg: Msg) => Promise<void>,
  ): BusSubscription {
    this.assertOpen(def, true);
    const subject = params === 'all' ? this.prefix + def.wildcard() : this.prefix + def.subject(params);
    const sub = this.nc.subscribe(subject, options.queue === undefined ? {} : { queue: options.queue });
    const target: SpanTarget = { name: def.name, pattern: def.pattern, subject, ...(options.queue === undefined ? {} : { queue: options.queue }) };
    const closed = runMessageLoop(sub, options.concurrency ?? 1, (msg) => process({ ...target, subject: msg.subject }, msg)).catch((err: unknown) => {
      this.metrics.error('consume', def.name, 'subscription_ended');
      this.logger.error({ err, subject, bus: def.name }, 'subscription ended with an error');
    });
    const handle = new CoreSubscriptionHandle(subject, sub, closed);
    this.subscriptions.add(handle);
    void closed.finally(() => this.subscriptions.delete(handle));
    return handle;
  }

  private async handleMessage<T>(def: SubjectDef<T, string>, target: SpanTarget, msg: Msg, handler: MessageHandler<T>): Promise<void> {
    const { span, ctx } = startIncomingSpan('process', target, msg.headers, msg.data.length);
    await context.with(ctx, async () => {
      const message = this.decodeOrDrop(def, msg.subject, msg.data, span);
      if (message === DROP) return;
      try {
        await handler(message, { subject: msg.subject, headers: headersToRecord(msg.headers) });
      } catch (err) {
        failSpan(span, err);
        this.metrics.error('consume', def.name, 'handler_failed');
        this.logger.error({ err, subject: msg.subject, bus: def.name }, 'bus handler failed');
      }
    });
    span.end();
  }

  private async handleRequest<T, R>(
    def: SubjectDef<T, string>,
    target: SpanTarget,
    msg: Msg,
    replyCodec: BusCodec<R>,
    handler: RequestHandler<T, R>,
  ): Promise<void> {
    const { span, ctx } = startIncomingSpan('serve', target, msg.headers, msg.data.length);
    await context.with(ctx, async () => {
      if (!msg.reply) {
        this.logger.warn({ subject: msg.subject, bus: def.name }, 'dropping request without a reply subject');
        return;
      }
      const message = this.decodeOrDrop(def, msg.subject, msg.data, span);
      if (message === DROP) {
        msg.respond(new Uint8Array(0), { headers: errorHeaders('decode_failed') });
        return;
      }
      let reply: Uint8Array;
      try {
        reply = replyCodec.encode(await handler(message, { subject: msg.subject, headers: headersToRecord(msg.headers) }));
      } catch (err) {
        failSpan(span, err);
        this.metrics.error('serve', def.name, errorCodeOf(err));
        this.logger.error({ err, subject: msg.subject, bus: def.name }, 'bus request handler failed');
        msg.respond(new Uint8Array(0), { headers: errorHeaders(errorCodeOf(err)) });
        return;
      }
      msg.respond(reply);
    });
    span.end();
  }

  private async handleDurable<T, P extends string>(def: SubjectDef<T, P>, target: SpanTarget, m: JsMsg, options: ConsumeDurableOptions<T, P>): Promise<void> {
    const { span, ctx } = startIncomingSpan('process', { ...target, subject: m.subject }, m.headers, m.data.length);
    const deliveryCount = m.info.deliveryCount;
    await context.with(ctx, async () => {
      const message = this.decodeOrDrop(def, m.subject, m.data, span);
      if (message === DROP) {
        // Redelivering bytes that cannot be decoded would fail forever.
        m.term();
        return;
      }
      try {
        await options.handler(message, {
          subject: m.subject,
          headers: headersToRecord(m.headers),
          deliveryCount,
          streamSequence: m.info.streamSequence,
        });
        m.ack();
      } catch (err) {
        failSpan(span, err);
        this.metrics.error('consume', def.name, errorCodeOf(err));
        const delay = Math.min((options.nakDelayMs ?? 1000) * 2 ** (deliveryCount - 1), MAX_NAK_DELAY_MS);
        const finalAttempt = options.maxDeliver !== undefined && options.maxDeliver > 0 && deliveryCount >= options.maxDeliver;
        this.logger.error(
          { err, subject: m.subject, bus: def.name, stream: options.stream, durable: options.durable, deliveryCount, retryInMs: finalAttempt ? null : delay },
          finalAttempt ? 'durable handler failed on its last delivery; message dropped' : 'durable handler failed; message will be redelivered',
        );
        m.nak(delay);
      }
    });
    span.setAttribute('messaging.nats.delivery_count', deliveryCount);
    span.end();
  }

  private decodeOrDrop<T>(def: SubjectDef<T, string>, subject: string, data: Uint8Array, span: Span): T | typeof DROP {
    try {
      return def.codec.decode(data);
    } catch (err) {
      failSpan(span, err);
      this.metrics.error('decode', def.name, 'decode_failed');
      this.logger.warn({ err, subject, bus: def.name, bytes: data.length }, 'dropping message that failed to decode');
      return DROP;
    }
  }

  private async watchStatus(): Promise<void> {
    try {
      for await (const status of this.nc.status()) {
        switch (status.type) {
          case 'disconnect':
            this.metrics.error('connection', 'connection', 'disconnect');
            this.logger.warn({ bus: this.name, server: status.server }, 'NATS disconnected');
            break;
          case 'reconnect':
            this.logger.info({ bus: this.name, server: status.server }, 'NATS reconnected');
            break;
          case 'error':
            this.metrics.error('connection', 'connection', 'error');
            this.logger.error({ bus: this.name, err: status.error }, 'NATS error');
            break;
          case 'slowConsumer':
            this.logger.warn({ bus: this.name, subject: status.sub.getSubject(), pending: status.pending }, 'NATS slow consumer');
            break;
          default:
            break;
        }
      }
    } catch {
      // The status iterator ends (or throws) when the connection closes.
    }
  }
}

const DROP: unique symbol = Symbol('drop');

function encodeWith<T>(codec: BusCodec<T>, message: T, name: string): Uint8Array {
  try {
    return codec.encode(message);
  } catch (err) {
    throw new BusError('encode_failed', `${name}: message could not be encoded: ${(err as Error).message}`, { cause: err });
  }
}

function errorHeaders(code: string): MsgHdrs {
  const h = createHeaders();
  h.set(REPLY_ERROR_HEADER, code);
  return h;
}

/** The error's own stable code when it has one (never its message, which may carry data). */
function errorCodeOf(err: unknown): string {
  const code = typeof err === 'object' && err !== null && 'code' in err ? (err as { code: unknown }).code : undefined;
  return typeof code === 'string' && ERROR_CODE.test(code) ? code : 'handler_failed';
}

class CoreSubscriptionHandle implements BusSubscription, TrackedSubscription {
  constructor(
    readonly subject: string,
    private readonly sub: Subscription,
    readonly closed: Promise<void>,
  ) {}

  async drain(): Promise<void> {
    if (!this.sub.isClosed() && !this.sub.isDraining()) {
      await this.sub.drain().catch(() => undefined);
    }
    await this.closed;
  }

  unsubscribe(): void {
    if (!this.sub.isClosed()) this.sub.unsubscribe();
  }
}

class DurableConsumerHandle implements DurableConsumer {
  constructor(
    readonly stream: string,
    readonly durable: string,
    private readonly messages: ConsumerMessages,
    readonly closed: Promise<void>,
  ) {}

  abort(): void {
    void this.messages.close().catch(() => undefined);
  }

  async stop(): Promise<void> {
    await this.messages.close().catch(() => undefined);
    await this.closed;
  }
}
