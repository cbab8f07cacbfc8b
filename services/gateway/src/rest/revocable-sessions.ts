import type { ConnectSession } from '../connect-session.js';
import { LiveSessions } from '../live-sessions.js';

/**
 * LiveSessions that can also end every connection of one device: directory publishes
 * `commucat.device.revoked` to all gateways, and each closes what it holds of that device.
 */
export class RevocableSessions extends LiveSessions {
  private readonly held = new Map<string, Set<ConnectSession>>();

  override add(deviceId: string, session: ConnectSession): void {
    super.add(deviceId, session);
    let set = this.held.get(deviceId);
    if (!set) this.held.set(deviceId, (set = new Set()));
    set.add(session);
  }

  override remove(deviceId: string, session: ConnectSession): void {
    super.remove(deviceId, session);
    const set = this.held.get(deviceId);
    if (!set) return;
    set.delete(session);
    if (set.size === 0) this.held.delete(deviceId);
  }

  /** Closes the device's connections here; returns how many were open. */
  closeDevice(deviceId: string, reason: string): number {
    const sessions = [...(this.held.get(deviceId) ?? [])];
    // close() calls remove(), so iterate over a copy.
    for (const session of sessions) session.close(reason);
    return sessions.length;
  }
}
