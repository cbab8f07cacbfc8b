import type { Envelope } from '@commucat/contracts';
import { context, type Context, type Link, SpanKind, startChildSpan, trace } from '@commucat/telemetry';

/** Sends one relay Enqueue (one Postgres transaction) and resolves with its envelopes in order. */
export type EnqueueCall = (envelopes: Envelope[]) => Promise<Envelope[]>;

export interface EnqueueBatcherOptions {
  readonly call: EnqueueCall;
  /** Relay calls in flight at once; while all are busy, new envelopes gather into the next batch. */
  readonly maxInFlight?: number;
  /** Envelopes per call (relay takes at most 1000). */
  readonly maxEnvelopes?: number;
  /** Frame bytes per call, below gRPC's 4 MiB message limit. */
  readonly maxBytes?: number;
  /**
   * True for an error that refuses the request's content (not a failure of relay): a shared
   * call that fails so is sent again per submitter, so one bad message cannot sink the others.
   */
  readonly isRefusal?: (err: unknown) => boolean;
}

interface Waiting {
  readonly envelopes: Envelope[];
  readonly bytes: number;
  readonly resolve: (stored: Envelope[]) => void;
  readonly reject: (error: unknown) => void;
  /** The submitter's trace context: its own relay call runs in it. */
  readonly ctx: Context;
}

/**
 * Coalesces the enqueues of messages handled at the same time (different channels) into shared
 * relay calls. Every call is a Postgres transaction whose commit waits for the disk, so under
 * load one commit for many messages instead of one each is what lets throughput grow. Each
 * submitter gets back exactly its own envelopes, in its order; a submitter's envelopes are never
 * split across calls, so a message is stored all at once or not at all.
 */
export class EnqueueBatcher {
  private readonly maxInFlight: number;
  private readonly maxEnvelopes: number;
  private readonly maxBytes: number;
  private waiting: Waiting[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(private readonly options: EnqueueBatcherOptions) {
    this.maxInFlight = options.maxInFlight ?? 4;
    this.maxEnvelopes = options.maxEnvelopes ?? 1000;
    this.maxBytes = options.maxBytes ?? 3 * 1024 * 1024;
  }

  /** Stores the envelopes (with others' in the same call) and resolves with them as stored. */
  enqueue(envelopes: Envelope[]): Promise<Envelope[]> {
    const bytes = envelopes.reduce((sum, e) => sum + e.frame.length, 0);
    return new Promise((resolve, reject) => {
      this.waiting.push({ envelopes, bytes, resolve, reject, ctx: context.active() });
      this.schedule();
    });
  }

  /** Flushes on the next turn, so everything submitted in this one joins the batch. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.maxInFlight && this.waiting.length > 0) {
      const batch = this.takeBatch();
      this.inFlight += 1;
      void this.send(batch).finally(() => {
        this.inFlight -= 1;
        if (this.waiting.length > 0) this.schedule();
      });
    }
  }

  /** The oldest submitters that fit one call (always at least one). */
  private takeBatch(): Waiting[] {
    let count = 0;
    let envelopes = 0;
    let bytes = 0;
    for (const w of this.waiting) {
      if (count > 0 && (envelopes + w.envelopes.length > this.maxEnvelopes || bytes + w.bytes > this.maxBytes)) break;
      count += 1;
      envelopes += w.envelopes.length;
      bytes += w.bytes;
    }
    return this.waiting.splice(0, count);
  }

  /**
   * Runs the relay call in the right trace. Alone, it runs in its submitter's context, so the
   * relay Enqueue is a descendant of that message's router span. Shared, it runs under a
   * `relay.enqueue_batch` span that is a child of the first submitter and links every
   * submitter's span; each other submitter's span links back to the batch span.
   */
  private traced<T>(batch: Waiting[], call: () => Promise<T>): Promise<T> {
    if (batch.length === 1) return context.with(batch[0]!.ctx, call);
    const links: Link[] = [];
    for (const w of batch) {
      const spanContext = trace.getSpanContext(w.ctx);
      if (spanContext !== undefined) links.push({ context: spanContext });
    }
    const { span, ctx } = startChildSpan('relay.enqueue_batch', {
      'commucat.batch.messages': batch.length, 'commucat.batch.envelopes': batch.reduce((sum, w) => sum + w.envelopes.length, 0),
    }, SpanKind.INTERNAL, batch[0]!.ctx);
    span.addLinks(links);
    for (const w of batch.slice(1)) trace.getSpan(w.ctx)?.addLink({ context: span.spanContext() });
    return context.with(ctx, call).finally(() => span.end());
  }

  private async send(batch: Waiting[]): Promise<void> {
    let stored: Envelope[];
    try {
      stored = await this.traced(batch, () => this.options.call(batch.flatMap((w) => w.envelopes)));
    } catch (err) {
      if (batch.length > 1 && this.options.isRefusal?.(err)) {
        await Promise.all(batch.map((w) => this.send([w])));
        return;
      }
      for (const w of batch) w.reject(err);
      return;
    }
    let at = 0;
    for (const w of batch) {
      w.resolve(stored.slice(at, at + w.envelopes.length));
      at += w.envelopes.length;
    }
  }
}
