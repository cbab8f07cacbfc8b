import type { PresenceServiceClient, UserProfile } from '@commucat/contracts';
import { callUnary } from '@commucat/service-kit';
import type { Logger } from 'pino';

interface LiveRoute {
  deviceId: string;
}

/**
 * Tells presence which device this gateway holds, keeps those routes alive while the streams are
 * open (one batched refresh for all of them), and removes them when a stream ends.
 */
export class RouteRegistry {
  private readonly live = new Map<string, LiveRoute>();
  /** Removals still in flight, so shutdown can wait for them. */
  private readonly removing = new Set<Promise<unknown>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly presence: PresenceServiceClient,
    private readonly gatewayId: string,
    private readonly presenceTtlMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    // A third of the TTL leaves two refreshes of slack before a live route could expire.
    this.timer = setInterval(() => void this.refreshAll(), Math.max(1000, Math.floor(this.presenceTtlMs / 3)));
    this.timer.unref();
  }

  get size(): number {
    return this.live.size;
  }

  async register(connectionId: string, deviceId: string, user: UserProfile): Promise<void> {
    await callUnary(this.presence, 'registerRoute', {
      route: { deviceId, userId: user.userId, gatewayId: this.gatewayId, connectionId, connectedAt: Date.now() },
      user,
    }, { deadlineMs: 3000, waitForReady: true });
    this.live.set(connectionId, { deviceId });
  }

  /** Fire-and-forget: the stream is gone either way, and the TTL cleans up if this fails. */
  unregister(connectionId: string, deviceId: string): void {
    this.live.delete(connectionId);
    const removal = callUnary(this.presence, 'unregisterRoute', { route: { deviceId, connectionId } }, { deadlineMs: 3000 })
      .catch((err: unknown) => this.logger.warn({ err, device_id: deviceId }, 'route removal failed; it will expire by TTL'))
      .finally(() => this.removing.delete(removal));
    this.removing.add(removal);
  }

  async refreshAll(): Promise<void> {
    if (this.live.size === 0) return;
    const routes = [...this.live].map(([connectionId, r]) => ({ deviceId: r.deviceId, connectionId }));
    try {
      const { missing } = await callUnary(this.presence, 'refreshRoutes', { gatewayId: this.gatewayId, routes }, { deadlineMs: 5000 });
      if (missing.length > 0) this.logger.info({ missing: missing.length }, 'some routes were taken over or expired');
    } catch (err) {
      this.logger.warn({ err }, 'route refresh failed');
    }
  }

  /** On shutdown: remove every route now instead of leaving them to expire, and wait for it. */
  async unregisterAll(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const [connectionId, r] of [...this.live]) this.unregister(connectionId, r.deviceId);
    await Promise.allSettled([...this.removing]);
  }
}
