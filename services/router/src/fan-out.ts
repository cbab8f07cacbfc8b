import type { Logger } from 'pino';
import { Subjects, type Bus } from '@commucat/bus';
import type { PresenceServiceClient, RelayServiceClient, RouteEntry } from '@commucat/contracts';
import { callUnary } from '@commucat/service-kit';
import { RouterError } from './errors.js';
import { FLEET_CALL_DEADLINE_MS } from './limits.js';

export interface FanOutOptions {
  readonly relay: RelayServiceClient;
  readonly presence: PresenceServiceClient;
  readonly bus: Pick<Bus, 'publish'>;
  readonly logger: Logger;
  readonly callDeadlineMs?: number;
}

/** One frame on its way from a sender to the other members of a channel. */
export interface Outgoing {
  readonly channelId: number;
  readonly senderDeviceId: string;
  /** Unique per message and stable across retries: the relay idempotency key. */
  readonly messageId: string;
  /** The encoded frame the recipients get (the gateway rewrites its sequence). */
  readonly frame: Uint8Array;
}

const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** Durable queueing through relay and live delivery through the gateway holding each recipient. */
export class FanOut {
  private readonly deadlineMs: number;

  constructor(private readonly options: FanOutOptions) {
    this.deadlineMs = options.callDeadlineMs ?? FLEET_CALL_DEADLINE_MS;
  }

  /**
   * Queues one envelope per recipient in ONE relay Enqueue (one transaction), then delivers live
   * to the recipients that are online. Resolves once the envelopes are durable; live delivery
   * is best effort (NATS core is at-most-once) because the envelopes stay queued until the
   * device acknowledges them. Throws RouterError('unavailable') when the enqueue fails.
   */
  async queueAndDeliver(message: Outgoing, recipients: readonly string[]): Promise<void> {
    if (recipients.length === 0) return;
    const frame = asBuffer(message.frame);
    let seqs: Map<string, number>;
    try {
      const { envelopes } = await callUnary(this.options.relay, 'enqueue', {
        envelopes: recipients.map((deviceId) => ({
          deviceId, messageId: message.messageId, channelId: message.channelId, frame,
          senderDeviceId: message.senderDeviceId, enqueuedAt: 0, expiresAt: 0, seq: 0,
        })),
        ttlSeconds: 0,
      }, { deadlineMs: this.deadlineMs, waitForReady: true });
      seqs = new Map(envelopes.map((envelope) => [envelope.deviceId, envelope.seq]));
    } catch (err) {
      this.options.logger.warn({ err, channelId: message.channelId, messageId: message.messageId }, 'relay enqueue failed');
      throw new RouterError('unavailable', 'the message could not be queued; send it again');
    }
    let routes: RouteEntry[];
    try {
      routes = await this.lookupRoutes(recipients);
    } catch (err) {
      // Already durable: the recipients get it from their inbox when their gateway drains it.
      this.options.logger.warn({ err, channelId: message.channelId, messageId: message.messageId }, 'presence lookup failed; message stays queued');
      return;
    }
    for (const route of routes) this.deliver(route, message, frame, seqs.get(route.deviceId) ?? 0);
  }

  /** Delivers to the online recipients only, never queued (relaySeq 0). */
  async deliverLive(message: Outgoing, recipients: readonly string[]): Promise<void> {
    if (recipients.length === 0) return;
    let routes: RouteEntry[];
    try {
      routes = await this.lookupRoutes(recipients);
    } catch (err) {
      this.options.logger.warn({ err, channelId: message.channelId }, 'presence lookup failed');
      throw new RouterError('unavailable', 'presence is unavailable; nothing was delivered');
    }
    const frame = asBuffer(message.frame);
    for (const route of routes) this.deliver(route, message, frame, 0);
  }

  private async lookupRoutes(deviceIds: readonly string[]): Promise<RouteEntry[]> {
    const { routes } = await callUnary(this.options.presence, 'lookupRoutes', { deviceIds: [...deviceIds] }, { deadlineMs: this.deadlineMs, waitForReady: true });
    return routes;
  }

  private deliver(route: RouteEntry, message: Outgoing, frame: Buffer, relaySeq: number): void {
    try {
      this.options.bus.publish(Subjects.gatewayDelivery, { gatewayId: route.gatewayId }, {
        deviceId: route.deviceId, connectionId: route.connectionId, frame, relaySeq, messageId: message.messageId,
      });
    } catch (err) {
      // A queued message is still in the inbox; a live-only one (Typing) is simply lost.
      this.options.logger.warn({ err, deviceId: route.deviceId, gatewayId: route.gatewayId }, 'delivery publish failed');
    }
  }
}
