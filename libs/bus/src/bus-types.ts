import type { BusCodec } from './codec';
import type { SubjectDef, SubjectParams } from './subject-def';

export interface MessageMeta {
  /** The concrete subject the message arrived on. */
  subject: string;
  /** Message headers (first value per key), including traceparent when present. */
  headers: Readonly<Record<string, string>>;
}

export interface DurableMessageMeta extends MessageMeta {
  /** 1 on first delivery, 2 on the first redelivery, … */
  deliveryCount: number;
  /** Sequence of the message in its stream. */
  streamSequence: number;
}

export type MessageHandler<T, Meta = MessageMeta> = (message: T, meta: Meta) => Promise<void> | void;
export type RequestHandler<T, R> = (message: T, meta: MessageMeta) => Promise<R> | R;

export interface SubscribeOptions {
  /** Queue group: each message goes to exactly one subscriber of the group. */
  queue?: string;
  /** Messages handled at once by this subscription (default 1 = in order). */
  concurrency?: number;
}

export interface PublishOptions {
  /** Extra headers (e.g. the sender's identity). Trace context headers are added by the bus. */
  headers?: Readonly<Record<string, string>>;
}

export interface DurablePublishOptions extends PublishOptions {
  /** JetStream de-duplication id: a second publish with the same id inside the stream's duplicate window is stored once. */
  msgId?: string;
}

export interface DurablePublishAck {
  stream: string;
  seq: number;
  /** True when the server recognised msgId as a duplicate and did not store the message again. */
  duplicate: boolean;
}

export interface ConsumeDurableOptions<T, Param extends string> {
  /** Stream holding the subject. */
  stream: string;
  /** Durable consumer name; every replica using the same name shares the work. */
  durable: string;
  handler: MessageHandler<T, DurableMessageMeta>;
  /** Only messages for these parameters (default: every subject matching the pattern). */
  params?: SubjectParams<Param>;
  /** Redelivery happens if a message is neither acked nor nak'ed within this time (default 30000). */
  ackWaitMs?: number;
  /** Give up after this many deliveries (default: unlimited). */
  maxDeliver?: number;
  /** Delay before redelivering a message whose handler threw; doubles per attempt up to 60 s (default 1000). */
  nakDelayMs?: number;
  /** Messages handled at once (default 1 = in stream order). */
  concurrency?: number;
  /**
   * This process is the consumer's only user. On start the consumer is recreated, so messages a
   * previous process took but never acknowledged (it died) come first, in stream order, instead
   * of after their ack wait behind newer ones. Needs a work-queue stream, where acknowledged
   * messages are already gone.
   */
  exclusive?: boolean;
}

export interface StreamOptions {
  name: string;
  subjects: string[];
  storage: 'file' | 'memory';
  /** Messages older than this are removed (default: kept until limits). */
  maxAgeSeconds?: number;
  /** Keep at most this many messages per subject (default: unlimited). */
  maxMsgsPerSubject?: number;
  /** Window in which publishDurable's msgId de-duplicates (default 120 s, capped at maxAge). */
  duplicateWindowSeconds?: number;
  /** 'workqueue': a message is removed once acknowledged (default 'limits': kept until limits). */
  retention?: 'limits' | 'workqueue';
}

export interface BusSubscription {
  readonly subject: string;
  /** Stops delivery after messages already received are handled; resolves when they are. */
  drain(): Promise<void>;
  /** Stops delivery now; messages already received are still handled. */
  unsubscribe(): void;
  /** Resolves when the subscription has ended and its last handler has returned. */
  readonly closed: Promise<void>;
}

export interface DurableConsumer {
  readonly stream: string;
  readonly durable: string;
  /** Stops pulling; waits for the handler in progress. Unacknowledged messages are redelivered later. */
  stop(): Promise<void>;
  readonly closed: Promise<void>;
}

export interface Bus {
  readonly name: string;
  /** At-most-once publish on NATS core. Throws BusError on encode failure or a closed bus. */
  publish<T, P extends string>(def: SubjectDef<T, P>, params: SubjectParams<P>, message: NoInfer<T>, options?: PublishOptions): void;
  subscribe<T, P extends string>(
    def: SubjectDef<T, P>,
    params: SubjectParams<P> | 'all',
    handler: MessageHandler<T>,
    options?: SubscribeOptions,
  ): BusSubscription;
  /** Request/reply; rejects with BusError timeout / no_responders / remote_error / decode_failed. */
  request<T, P extends string, R>(
    def: SubjectDef<T, P>,
    params: SubjectParams<P>,
    message: NoInfer<T>,
    replyCodec: BusCodec<R>,
    timeoutMs: number,
  ): Promise<R>;
  /** Answers requests on a subject; a throwing handler answers with an error the requester sees as remote_error. */
  serve<T, P extends string, R>(
    def: SubjectDef<T, P>,
    params: SubjectParams<P> | 'all',
    replyCodec: BusCodec<R>,
    handler: RequestHandler<T, R>,
    options?: SubscribeOptions,
  ): BusSubscription;
  /** Idempotent create-or-update of a JetStream stream. */
  ensureStream(options: StreamOptions): Promise<void>;
  /** Deletes a stream and its messages (test fleets, operators' cleanup); false if there was none. */
  removeStream(name: string): Promise<boolean>;
  /** JetStream publish; resolves once the server stored the message (PubAck). */
  publishDurable<T, P extends string>(
    def: SubjectDef<T, P>,
    params: SubjectParams<P>,
    message: NoInfer<T>,
    options?: DurablePublishOptions,
  ): Promise<DurablePublishAck>;
  /** Pull consumer with explicit ack: ack after the handler resolves, nak with delay when it throws. */
  consumeDurable<T, P extends string>(def: SubjectDef<T, P>, options: ConsumeDurableOptions<T, P>): Promise<DurableConsumer>;
  /** Readiness probe: a round trip to the server within timeoutMs (default 2000), else BusError unavailable. */
  ready(timeoutMs?: number): Promise<void>;
  /** Graceful shutdown: stop consumers, let subscriptions handle what they received, flush, close. */
  drain(): Promise<void>;
  /** Immediate shutdown. */
  close(): Promise<void>;
}
