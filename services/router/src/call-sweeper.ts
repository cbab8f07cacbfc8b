import type { Logger } from 'pino';
import type { CallDisconnects } from './call-disconnects.js';
import type { CallSignals } from './call-signals.js';
import type { CallStore, RingTimeout } from './call-store.js';

export interface CallSweeperOptions {
  readonly store: CallStore;
  readonly signals: CallSignals;
  readonly logger: Logger;
  /** Pause between passes; a ring timeout fires at most this late. */
  readonly intervalMs?: number;
  /** Calls claimed per transaction. */
  readonly batchSize?: number;
  /** Checks the connections in calls against presence every `routeCheckEveryPasses` passes (CallDisconnects.checkRoutes). */
  readonly disconnects?: CallDisconnects;
  readonly routeCheckEveryPasses?: number;
}

const DEFAULT_INTERVAL_MS = 1_000;
const DEFAULT_BATCH = 100;
/** Ended calls are purged about once a minute with the default interval. */
const PURGE_EVERY_PASSES = 60;
/** Lost disconnects are found within about 10 s with the default interval. */
const DEFAULT_ROUTE_CHECK_EVERY_PASSES = 10;

/**
 * Ends calls nobody answered within the ring timeout (and, with `disconnects`, now and then drops
 * participants whose connection is gone without an offline event). Runs in every router replica: each pass
 * claims due calls with FOR UPDATE SKIP LOCKED (CallStore.expireRinging), so replicas split the
 * work and a call's deadline is handled once. The participants hear it as a CallEnd with reason
 * `timeout`: everyone when the call ended, otherwise only the devices that were still ringing.
 * The CallEnds are sent after the commit; a router dying in between loses them (the call's state
 * is right either way).
 */
export class CallSweeper {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;
  private passes = 0;
  private stopped = true;

  constructor(private readonly options: CallSweeperOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  /** Stops scheduling passes and waits for the one running. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.pass;
  }

  /** One pass: every due call, in batches; returns how many calls it handled. */
  async sweepOnce(): Promise<number> {
    const { store, logger } = this.options;
    const batch = this.options.batchSize ?? DEFAULT_BATCH;
    let handled = 0;
    for (;;) {
      const timeouts = await store.expireRinging(batch);
      for (const timeout of timeouts) await this.announce(timeout);
      handled += timeouts.length;
      if (timeouts.length < batch || this.stopped) break;
    }
    this.passes++;
    const { disconnects } = this.options;
    if (disconnects && this.passes % (this.options.routeCheckEveryPasses ?? DEFAULT_ROUTE_CHECK_EVERY_PASSES) === 0) {
      const left = await disconnects.checkRoutes();
      if (left > 0) logger.info({ left }, 'dropped call participants whose connection is gone');
    }
    if (this.passes % PURGE_EVERY_PASSES === 0) {
      const purged = await store.purgeEnded();
      if (purged > 0) logger.debug({ purged }, 'purged ended calls');
    }
    return handled;
  }

  private async announce(timeout: RingTimeout): Promise<void> {
    const { call, missed, remaining, ended } = timeout;
    try {
      if (ended) {
        await this.options.signals.sendEnd(call, { reason: 'timeout', cause: 'ring_timeout', callEnded: true, event: 'end' }, [...remaining, ...missed]);
      } else if (missed.length > 0) {
        await this.options.signals.sendEnd(call, { reason: 'timeout', cause: 'ring_timeout', callEnded: false, event: 'missed' }, missed);
      }
    } catch (err) {
      this.options.logger.warn({ err, callId: call.callId }, 'could not announce a ring timeout');
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.pass = this.sweepOnce()
        .then(() => undefined, (err: unknown) => this.options.logger.warn({ err }, 'call sweep failed; trying again'))
        .finally(() => this.schedule());
    }, this.options.intervalMs ?? DEFAULT_INTERVAL_MS);
  }
}
