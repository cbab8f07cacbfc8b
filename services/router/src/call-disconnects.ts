import type { Logger } from 'pino';
import type { CallSignals } from './call-signals.js';
import type { CallStore } from './call-store.js';

export interface CallDisconnectsOptions {
  readonly store: CallStore;
  readonly signals: CallSignals;
  readonly logger: Logger;
  /** Presence: the current route (gateway connection) of each online device. */
  readonly lookupRoutes?: (deviceIds: string[]) => Promise<Array<{ deviceId: string; connectionId: string }>>;
}

/** Connections checked against presence per pass, and device ids per lookup. */
const ROUTE_CHECK_LIMIT = 5_000;
const LOOKUP_BATCH = 500;

/**
 * A device's connection closed while it was in a call (spec calls-media §3.4): the participants
 * still in the call get the reference's synthetic CallEnd `{"call_id", "reason": "failure",
 * "metadata": {"system": true, "cause": "disconnect", "device": <id>, "call_ended": …}}`, and the
 * call ends for everyone when fewer than two remain. Only the connection that offered or
 * accepted counts: a device that is only ringing keeps ringing (its queued offer waits for it
 * until the ring deadline). Idempotent: a second report of the same connection does nothing.
 */
export class CallDisconnects {
  constructor(private readonly options: CallDisconnectsOptions) {}

  /** Returns how many calls the device left. */
  async disconnected(deviceId: string, connectionId: string): Promise<number> {
    const departures = await this.options.store.disconnect(deviceId, connectionId);
    for (const departure of departures) {
      try {
        await this.options.signals.sendEnd(departure.call, {
          reason: 'failure', cause: 'disconnect', device: departure.deviceId, callEnded: departure.ended, event: `disconnect:${departure.deviceId}`,
        }, departure.others);
      } catch (err) {
        this.options.logger.warn({ err, callId: departure.call.callId, deviceId }, 'could not announce a disconnect');
      }
    }
    return departures.length;
  }

  /**
   * The backstop for offline events that never came: presence announces a disconnect once, on
   * NATS core, and not at all when a route merely expires (its gateway died) or is taken over by
   * the device's new connection. Every connection in a live call whose route is gone or belongs
   * to another connection now is handled as disconnected. Returns how many calls were left.
   */
  async checkRoutes(): Promise<number> {
    const lookup = this.options.lookupRoutes;
    if (!lookup) return 0;
    const connected = await this.options.store.connectedParticipants(ROUTE_CHECK_LIMIT);
    const current = new Map<string, string>();
    const devices = [...new Set(connected.map((c) => c.deviceId))];
    for (let start = 0; start < devices.length; start += LOOKUP_BATCH) {
      for (const route of await lookup(devices.slice(start, start + LOOKUP_BATCH))) current.set(route.deviceId, route.connectionId);
    }
    let left = 0;
    for (const { deviceId, connectionId } of connected) {
      if (current.get(deviceId) !== connectionId) left += await this.disconnected(deviceId, connectionId);
    }
    return left;
  }
}
