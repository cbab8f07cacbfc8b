import * as https from 'node:https';
import { parseJson } from '@commucat/ccp1';
import { context, injectTraceContext, recordSpanError, type Span, SpanKind, SpanStatusCode, startChildSpan, startRootSpan } from '@commucat/telemetry';
import { retryDelayMs, type BackoffPolicy } from './backoff.js';
import { eventDigest, formatCreatedAt, type FederationEvent } from './event-digest.js';
import type { FederationMetrics } from './federation-metrics.js';
import type { OutboxRow, OutboxStore } from './outbox.js';
import { postEvent, type PeerTlsOptions } from './peer-transport.js';
import type { PeerDirectory } from './peers.js';
import { serializeSignedEvent } from './signed-event.js';
import type { FederationSigner } from './signer.js';

export interface DispatcherOptions {
  readonly store: OutboxStore;
  readonly peers: PeerDirectory;
  readonly signer: FederationSigner;
  /** This server's domain: the `origin` of every event. */
  readonly domain: string;
  readonly tls: PeerTlsOptions;
  readonly backoff: BackoffPolicy;
  readonly maxAttempts: number;
  readonly perPeerConcurrency: number;
  readonly leaseSeconds?: number;
  readonly intervalMs?: number;
  readonly metrics?: FederationMetrics;
  readonly logger?: { warn(obj: object, msg: string): void };
}

type Outcome = { kind: 'delivered' } | { kind: 'retry'; error: string } | { kind: 'permanent'; error: string };

/** 4xx means the peer will never take this event, except "try later" answers. */
function classify(status: number): Outcome {
  if (status >= 200 && status < 300) return { kind: 'delivered' };
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) return { kind: 'permanent', error: `peer answered ${status}` };
  return { kind: 'retry', error: `peer answered ${status}` };
}

/**
 * The single outbox loop of a process (§5.6: the reference runs two that race). Each tick claims
 * due rows, signs each with a fresh created_at (so a retried event is not stale at the peer) and
 * POSTs it; failures back off exponentially with jitter until max attempts, then dead-letter.
 */
export class OutboxDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private claiming: Promise<void> | undefined;
  private claimAgain = false;
  private readonly sending = new Set<Promise<void>>();
  private stopped = true;
  private readonly agent: https.Agent;

  constructor(private readonly options: DispatcherOptions) {
    // Kept-alive connections: a TLS handshake per event would dominate the send time.
    this.agent = new https.Agent({ keepAlive: true, maxSockets: Math.max(1, options.perPeerConcurrency), ca: options.tls.ca, rejectUnauthorized: options.tls.rejectUnauthorized ?? true });
  }

  /** One claim-and-send round, waiting for every send; resolves with the number of rows attempted. */
  async tick(): Promise<number> {
    const rows = await this.claim();
    await Promise.all(rows.map((row) => this.send(row)));
    await this.refreshGauges();
    return rows.length;
  }

  private claim(): Promise<OutboxRow[]> {
    const o = this.options;
    return o.store.claim({ peers: o.peers.domains(), perPeerLimit: o.perPeerConcurrency, leaseSeconds: o.leaseSeconds ?? 60 });
  }

  /** Rows per state for the gauge: a count over the table, so once per poll, not per send. */
  private async refreshGauges(): Promise<void> {
    const metrics = this.options.metrics;
    if (!metrics) return;
    const { counts } = await this.options.store.summary(0);
    for (const [state, n] of Object.entries(counts)) metrics.outboxRows.set({ state }, n);
  }

  /**
   * Asks for a claim round soon: after an enqueue in this process, and whenever a send finishes
   * (its slot is free, and the next row of its order key may be due). Rounds never overlap.
   */
  wake(): void {
    if (this.stopped) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    this.claimAgain = false;
    this.claiming = this.claim()
      .then((rows) => {
        for (const row of rows) {
          const sent: Promise<void> = this.send(row)
            .catch((error: unknown) => this.options.logger?.warn({ error: error instanceof Error ? error.message : String(error), outboxId: row.id }, 'federation send bookkeeping failed'))
            .finally(() => {
              this.sending.delete(sent);
              this.wake();
            });
          this.sending.add(sent);
        }
      })
      .catch((error: unknown) => this.options.logger?.warn({ error: error instanceof Error ? error.message : String(error) }, 'federation outbox claim failed'))
      .finally(() => {
        this.claiming = undefined;
        if (this.claimAgain) this.wake();
      });
  }

  /** Polls every interval (retries coming due, rows enqueued by other replicas) besides the wake-ups. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.timer = setInterval(() => {
      this.wake();
      this.refreshGauges().catch((error: unknown) => this.options.logger?.warn({ error: error instanceof Error ? error.message : String(error) }, 'federation outbox gauge refresh failed'));
    }, this.options.intervalMs ?? 1000);
    this.wake();
  }

  /** Stops claiming and waits for the sends in progress; rows still leased are reclaimed after their lease. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.claiming;
    await Promise.all([...this.sending]);
    this.agent.destroy();
  }

  /**
   * Every attempt is a trace of its own (`federation.dispatch`), whose HTTP client span sends its
   * traceparent to the peer: the peer gateway's REST span, its federation Receive and the local
   * delivery there continue it.
   */
  private send(row: OutboxRow): Promise<void> {
    const { span, ctx } = startRootSpan('federation.dispatch', {
      'commucat.federation.peer': row.peer, 'commucat.federation.event_type': row.eventType,
      'commucat.federation.event_id': row.eventId, 'commucat.federation.attempt': row.attempts,
    }, SpanKind.PRODUCER);
    return context.with(ctx, () => this.sendRow(row, span)).then(
      () => span.end(),
      (error: unknown) => {
        recordSpanError(span, error);
        span.end();
        throw error;
      },
    );
  }

  /** POSTs the signed event under an HTTP CLIENT span whose context travels as traceparent. */
  private async post(url: string, body: string, eventType: string): Promise<number> {
    const http = startChildSpan('POST', { 'http.request.method': 'POST', 'url.full': new URL('/federation/events', url.endsWith('/') ? url : `${url}/`).href }, SpanKind.CLIENT);
    try {
      const headers = injectTraceContext({ 'x-commucat-federation-event-type': eventType }, http.ctx);
      const response = await postEvent(url, body, headers, this.agent, this.options.tls.timeoutMs);
      http.span.setAttribute('http.response.status_code', response.status);
      if (response.status >= 400) http.span.setStatus({ code: SpanStatusCode.ERROR, message: `peer answered ${response.status}` });
      return response.status;
    } catch (error) {
      recordSpanError(http.span, error);
      throw error;
    } finally {
      http.span.end();
    }
  }

  private async sendRow(row: OutboxRow, span: Span): Promise<void> {
    const o = this.options;
    let outcome: Outcome;
    const peer = o.peers.find(row.peer);
    if (!peer) {
      outcome = { kind: 'permanent', error: `peer ${row.peer} is not configured` };
    } else {
      try {
        const event: FederationEvent = { event_id: row.eventId, origin: o.domain, created_at: formatCreatedAt(new Date()), payload: parseJson(row.payload), scope: row.peer };
        const digest = eventDigest(event);
        const signature = await o.signer.sign(digest);
        outcome = classify(await this.post(peer.url, serializeSignedEvent({ event, digest, signature }), row.eventType));
      } catch (error) {
        outcome = { kind: 'retry', error: error instanceof Error ? error.message : String(error) };
      }
    }
    span.setAttribute('commucat.federation.outcome', outcome.kind);
    if (outcome.kind !== 'delivered') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error });
    if (outcome.kind === 'delivered') {
      await o.store.markDelivered(row);
      o.metrics?.delivered.inc();
      return;
    }
    o.metrics?.attemptsFailed.inc();
    if (outcome.kind === 'permanent' || row.attempts >= o.maxAttempts) {
      await o.store.markDead(row, outcome.error);
      o.metrics?.deadLettered.inc();
      o.logger?.warn({ outboxId: row.id, peer: row.peer, attempts: row.attempts, error: outcome.error }, 'federation event dead-lettered');
      return;
    }
    await o.store.markRetry(row, retryDelayMs(o.backoff, row.attempts), outcome.error);
  }
}
