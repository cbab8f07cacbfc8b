import type { Delivery, Reply } from '@commucat/contracts';
import { startChildSpan } from '@commucat/telemetry';
import type { ConnectSession } from './connect-session.js';
import type { DeliveryTiming } from './delivery-stream.js';

/** The established sessions of this gateway by device, so deliveries find their streams. */
export class LiveSessions {
  private readonly byDevice = new Map<string, Set<ConnectSession>>();

  add(deviceId: string, session: ConnectSession): void {
    let set = this.byDevice.get(deviceId);
    if (!set) {
      set = new Set();
      this.byDevice.set(deviceId, set);
    }
    set.add(session);
  }

  remove(deviceId: string, session: ConnectSession): void {
    const set = this.byDevice.get(deviceId);
    if (!set) return;
    set.delete(session);
    if (set.size === 0) this.byDevice.delete(deviceId);
  }

  /**
   * Hands a delivery to the device's session (or only the named connection). Returns how many
   * sessions took it; 0 means the device is not here and the envelope stays in its relay inbox.
   */
  deliver(delivery: Delivery, timing?: DeliveryTiming): number {
    const set = this.byDevice.get(delivery.deviceId);
    if (!set) return 0;
    let taken = 0;
    for (const session of set) {
      if (delivery.connectionId && session.connectionId !== delivery.connectionId) continue;
      session.deliver(Buffer.from(delivery.frame), delivery.relaySeq, delivery.media, timing);
      taken += 1;
    }
    return taken;
  }

  /** Hands a router reply to the one connection it answers; false if that connection is gone. */
  reply(reply: Reply): boolean {
    // The router's Ack/Error for a frame: the last span of that frame's trace on this side.
    const { span } = startChildSpan('gateway.write_reply', { 'commucat.device_id': reply.deviceId, 'commucat.connection_id': reply.connectionId });
    try {
      for (const session of this.byDevice.get(reply.deviceId) ?? []) {
        if (session.connectionId !== reply.connectionId) continue;
        session.reply(Buffer.from(reply.frame));
        span.setAttribute('commucat.delivery.outcome', 'written');
        return true;
      }
      span.setAttribute('commucat.delivery.outcome', 'connection_gone');
      return false;
    } finally {
      span.end();
    }
  }

  get devices(): number {
    return this.byDevice.size;
  }
}
