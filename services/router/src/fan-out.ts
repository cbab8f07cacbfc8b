import type { Logger } from 'pino';
import { Subjects, timingHeaders, type Bus, type FrameTiming } from '@commucat/bus';
import type { Envelope, FederationServiceClient, MediaFraming, PresenceServiceClient, RelayServiceClient, RouteEntry } from '@commucat/contracts';
import * as grpc from '@grpc/grpc-js';
import { callUnary, retryDelays } from '@commucat/service-kit';
import { EnqueueBatcher } from './enqueue-batcher.js';
import { RouterError, RouterStopping } from './errors.js';
import { FLEET_CALL_DEADLINE_MS } from './limits.js';

export interface FanOutOptions {
  readonly relay: RelayServiceClient;
  readonly presence: PresenceServiceClient;
  readonly bus: Pick<Bus, 'publish'>;
  readonly logger: Logger;
  /** The outbox for members on other domains (`device@domain`). */
  readonly federation?: FederationServiceClient;
  readonly callDeadlineMs?: number;
  /** Aborted when the router stops: a frame still waiting for relay is then left to the next router. */
  readonly stopping?: AbortSignal;
}

export interface QueueOptions {
  /**
   * Lifetime of the envelopes in seconds (0: relay's limits.relay_ttl). Relay never hands out an
   * expired envelope, so a frame that must not arrive late (a call offer) is given its deadline.
   */
  readonly ttlSeconds?: number;
}

/** A channel member on another domain: `target` is `device@domain` as the member was named. */
export interface RemoteMember {
  readonly target: string;
  readonly domain: string;
}

/** One frame on its way from a sender to the other members of a channel. */
export interface Outgoing {
  readonly channelId: number;
  readonly senderDeviceId: string;
  /** Unique per message and stable across retries: the relay idempotency key. */
  readonly messageId: string;
  /** The encoded frame the recipients get (the gateway rewrites its sequence). */
  readonly frame: Uint8Array;
  /** How a media frame's payload is framed, so each gateway connection gets the framing it negotiated. */
  readonly media?: MediaFraming;
  /** When the frame reached the fleet, sent along (NATS headers) for the gateway's delivery latency. */
  readonly timing?: FrameTiming;
}

const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

const LOOKUP_ATTEMPTS = 3;
/** Recipient sets whose routes are cached for live media (cleared whole when full). */
const ROUTE_CACHE_ENTRIES = 1024;

/** The callee refused the request itself; sending it again cannot help. */
function isRefusal(err: unknown): boolean {
  const code = (err as grpc.ServiceError).code;
  return code === grpc.status.INVALID_ARGUMENT || code === grpc.status.RESOURCE_EXHAUSTED;
}
/** Frame bytes per relay Enqueue call, below gRPC's 4 MiB message limit. */
const ENQUEUE_BYTES_PER_CALL = 3 * 1024 * 1024;

/** Durable queueing through relay and live delivery through the gateway holding each recipient. */
export class FanOut {
  private readonly deadlineMs: number;
  private readonly batcher: EnqueueBatcher;
  private readonly routeCache = new Map<string, { at: number; routes: RouteEntry[] }>();

  constructor(private readonly options: FanOutOptions) {
    this.deadlineMs = options.callDeadlineMs ?? FLEET_CALL_DEADLINE_MS;
    this.batcher = new EnqueueBatcher({
      call: async (envelopes) => (await callUnary(options.relay, 'enqueue', { envelopes, ttlSeconds: 0 }, { deadlineMs: this.deadlineMs, waitForReady: true })).envelopes,
      maxBytes: ENQUEUE_BYTES_PER_CALL,
      isRefusal,
    });
  }

  /**
   * Queues one envelope per recipient (in one relay transaction, shared with the messages of
   * other channels handled at the same time, unless the frame is large), then delivers live
   * to the recipients that are online. Resolves once the envelopes are durable. Relay being down
   * (restarting) is waited out, retrying, because answering `unavailable` would let the sender's
   * next message overtake this one; only the router's own shutdown ends the wait (RouterStopping).
   * Envelopes relay reports as already acknowledged (seq 0, a resent message) are not delivered
   * again. Live delivery is best effort (NATS core is at-most-once): the envelopes stay queued
   * until the device acknowledges them (or they expire, see QueueOptions).
   */
  async queueAndDeliver(message: Outgoing, recipients: readonly string[], opts: QueueOptions = {}): Promise<void> {
    if (recipients.length === 0) return;
    const ttlSeconds = opts.ttlSeconds ?? 0;
    const frame = asBuffer(message.frame);
    const envelopes: Envelope[] = [];
    // gRPC carries at most 4 MiB per call and every envelope repeats the frame: large frames to
    // many members go in several calls (each one transaction; relay is idempotent per envelope).
    const perCall = Math.max(1, Math.floor(ENQUEUE_BYTES_PER_CALL / Math.max(1, frame.length)));
    for (let start = 0; start < recipients.length; start += perCall) {
      const chunk = recipients.slice(start, start + perCall).map((deviceId) => ({
        deviceId, messageId: message.messageId, channelId: message.channelId, frame,
        senderDeviceId: message.senderDeviceId, enqueuedAt: 0, expiresAt: 0, seq: 0,
      }));
      // The batcher shares one relay call (and so one ttl) among many messages: a message with its
      // own lifetime goes alone.
      const enqueue = ttlSeconds > 0
        ? async () => (await callUnary(this.options.relay, 'enqueue', { envelopes: chunk, ttlSeconds }, { deadlineMs: this.deadlineMs, waitForReady: true })).envelopes
        : () => this.batcher.enqueue(chunk);
      envelopes.push(...await this.untilDone('relay enqueue', message, enqueue));
    }
    const seqs = new Map(envelopes.filter((envelope) => envelope.seq > 0).map((envelope) => [envelope.deviceId, envelope.seq]));
    if (seqs.size === 0) return;
    let routes: RouteEntry[];
    try {
      routes = await this.lookupRoutes([...seqs.keys()]);
    } catch (err) {
      // Already durable: the recipients get it from their inbox when their gateway drains it.
      this.options.logger.warn({ err, channelId: message.channelId, messageId: message.messageId }, 'presence lookup failed; message stays queued');
      return;
    }
    for (const route of routes) this.deliver(route, message, frame, seqs.get(route.deviceId) ?? 0);
  }

  /** Runs `call` until it succeeds; a refusal (INVALID_ARGUMENT, RESOURCE_EXHAUSTED) is final, anything else is retried. */
  private async untilDone<T>(what: string, message: Outgoing, call: () => Promise<T>): Promise<T> {
    const delays = retryDelays();
    for (let attempt = 1; ; attempt++) {
      if (this.options.stopping?.aborted) throw new RouterStopping();
      try {
        return await call();
      } catch (err) {
        if (isRefusal(err)) {
          throw new RouterError('invalid', `${what} refused the message: ${(err as grpc.ServiceError).details ?? (err as Error).message}`);
        }
        const delayMs = delays.next();
        if (attempt === 1 || attempt % 10 === 0) {
          this.options.logger.warn({ err, attempt, retryInMs: delayMs, channelId: message.channelId, messageId: message.messageId }, `${what} failed; retrying`);
        }
        await this.pause(delayMs);
      }
    }
  }

  /** Waits `ms`, or less when the router starts stopping. */
  private pause(ms: number): Promise<void> {
    const signal = this.options.stopping;
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * Puts the frame in the federation outbox once per remote member (spec §5.3 relay payload, plus
   * `sender_user` so the peer can check the sender is the target's friend). Idempotent per
   * (message, target), so a frame handled again is sent once; ordered per target. Federation
   * being down is waited out like relay. Members on a domain that is not a configured peer are
   * refused (RouterError 'unknown_domain') after every other target got the frame.
   */
  async forward(message: Outgoing, remote: readonly RemoteMember[], sender: { sequence: number; userHandle: string; domain: string }): Promise<void> {
    const federation = this.options.federation;
    const unknown: string[] = [];
    for (const member of remote) {
      const payload = JSON.stringify({
        channel: message.channelId, sequence: sender.sequence, payload: asBuffer(message.frame).toString('hex'),
        sender: message.senderDeviceId, sender_user: `${sender.userHandle}@${sender.domain}`, target: member.target,
      });
      if (!federation) {
        unknown.push(member.target);
        continue;
      }
      try {
        await this.untilDone('federation', message, () => callUnary(federation, 'enqueue', {
          peer: member.domain, eventType: 'relay', payloadJson: payload, idempotencyKey: `${message.messageId}:${member.target}`, orderKey: member.target,
        }, { deadlineMs: this.deadlineMs, waitForReady: true }));
      } catch (err) {
        if (!(err instanceof RouterError)) throw err;
        unknown.push(member.target);
      }
    }
    if (unknown.length > 0) throw new RouterError('unknown_domain', `not delivered to ${unknown.join(', ')}: not a federation peer of this server`);
  }

  /** Delivers to the online recipients only, never queued (relaySeq 0). */
  async deliverLive(message: Outgoing, recipients: readonly string[], opts: { routesMaxAgeMs?: number } = {}): Promise<void> {
    if (recipients.length === 0) return;
    let routes: RouteEntry[];
    try {
      routes = opts.routesMaxAgeMs ? await this.cachedRoutes(recipients, opts.routesMaxAgeMs) : await this.lookupRoutes(recipients);
    } catch (err) {
      this.options.logger.warn({ err, channelId: message.channelId }, 'presence lookup failed');
      throw new RouterError('unavailable', 'presence is unavailable; nothing was delivered');
    }
    const frame = asBuffer(message.frame);
    for (const route of routes) this.deliver(route, message, frame, 0);
  }

  /**
   * Routes at most `maxAgeMs` old: media sends 50 frames a second to the same devices, and a
   * presence call per frame would cost more than the frame. A device that moved gateways misses
   * at most `maxAgeMs` of live media.
   */
  private async cachedRoutes(deviceIds: readonly string[], maxAgeMs: number): Promise<RouteEntry[]> {
    const key = [...deviceIds].sort().join('\0');
    const now = Date.now();
    const hit = this.routeCache.get(key);
    if (hit && now - hit.at <= maxAgeMs) return hit.routes;
    const routes = await this.lookupRoutes(deviceIds);
    if (this.routeCache.size >= ROUTE_CACHE_ENTRIES) this.routeCache.clear();
    this.routeCache.set(key, { at: now, routes });
    return routes;
  }

  /** Presence answers from Redis; a couple of quick retries ride out a presence restart. */
  private async lookupRoutes(deviceIds: readonly string[]): Promise<RouteEntry[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        const { routes } = await callUnary(this.options.presence, 'lookupRoutes', { deviceIds: [...deviceIds] }, { deadlineMs: this.deadlineMs, waitForReady: true });
        return routes;
      } catch (err) {
        if (attempt >= LOOKUP_ATTEMPTS || this.options.stopping?.aborted) throw err;
        await this.pause(100 * attempt);
      }
    }
  }

  private deliver(route: RouteEntry, message: Outgoing, frame: Buffer, relaySeq: number): void {
    try {
      this.options.bus.publish(Subjects.gatewayDelivery, { gatewayId: route.gatewayId }, {
        deviceId: route.deviceId, connectionId: route.connectionId, frame, relaySeq, messageId: message.messageId, media: message.media,
      }, ...(message.timing === undefined ? [] : [{ headers: timingHeaders(message.timing) }]));
    } catch (err) {
      // A queued message is still in the inbox; a live-only one (Typing) is simply lost.
      this.options.logger.warn({ err, deviceId: route.deviceId, gatewayId: route.gatewayId }, 'delivery publish failed');
    }
  }
}
