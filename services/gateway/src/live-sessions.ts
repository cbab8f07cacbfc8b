import type { Delivery, Reply } from '@commucat/contracts';
import type { ConnectSession } from './connect-session.js';

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
  deliver(delivery: Delivery): number {
    const set = this.byDevice.get(delivery.deviceId);
    if (!set) return 0;
    let taken = 0;
    for (const session of set) {
      if (delivery.connectionId && session.connectionId !== delivery.connectionId) continue;
      session.deliver(Buffer.from(delivery.frame), delivery.relaySeq, delivery.media);
      taken += 1;
    }
    return taken;
  }

  /** Hands a router reply to the one connection it answers; false if that connection is gone. */
  reply(reply: Reply): boolean {
    for (const session of this.byDevice.get(reply.deviceId) ?? []) {
      if (session.connectionId !== reply.connectionId) continue;
      session.reply(Buffer.from(reply.frame));
      return true;
    }
    return false;
  }

  get devices(): number {
    return this.byDevice.size;
  }
}
