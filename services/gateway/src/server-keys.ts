import { NoiseStaticKey } from '@commucat/crypto';
import type { NoiseKey, SecretsServiceClient } from '@commucat/contracts';
import { callUnary } from '@commucat/service-kit';
import type { Logger } from 'pino';

export interface ActiveNoiseKey {
  version: number;
  key: NoiseStaticKey;
  validAfter: number;
  /** Unix ms; 0 = never. */
  rotatesAt: number;
  expiresAt: number;
}

/**
 * The gateway's copy of the Noise static key catalogue and the device CA public key, fetched from
 * secrets and refreshed in the background. Handshakes never wait on secrets once the first fetch
 * succeeded; until then the gateway is not ready.
 */
export class ServerKeys {
  private keys: ActiveNoiseKey[] = [];
  /** Versions secrets reported as expired: only to recognise a client pinned to one (key_expired). */
  private expiredKeys: ActiveNoiseKey[] = [];
  private pendingRefresh: Promise<void> | undefined;
  private ca: Buffer | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly client: SecretsServiceClient, private readonly logger: Logger, private readonly refreshMs = 30_000) {}

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => {
      this.refresh().catch((err: unknown) => this.logger.warn({ err }, 'noise key refresh failed; keeping the previous catalogue'));
    }, this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async refresh(): Promise<void> {
    const [catalog, ca] = await Promise.all([
      callUnary(this.client, 'getNoiseKeys', {}, { deadlineMs: 5000 }),
      callUnary(this.client, 'getDeviceCa', {}, { deadlineMs: 5000 }),
    ]);
    if (catalog.keys.length === 0) throw new Error('secrets returned an empty Noise key catalogue');
    const previous = new Map([...this.keys, ...this.expiredKeys].map((k) => [k.version, k]));
    // Re-importing a key costs a KeyObject; keep the ones we already hold. Timings are taken
    // fresh: a rotation may have brought an older key's expiry forward.
    const load = (k: NoiseKey): ActiveNoiseKey => ({
      version: k.version, key: previous.get(k.version)?.key ?? NoiseStaticKey.fromPrivate(Buffer.from(k.privateKey)),
      validAfter: k.validAfter, rotatesAt: k.rotatesAt, expiresAt: k.expiresAt,
    });
    this.keys = catalog.keys.map(load).sort((a, b) => b.version - a.version);
    this.expiredKeys = (catalog.expired ?? []).map(load).sort((a, b) => b.version - a.version);
    this.ca = Buffer.from(ca.publicKey);
  }

  /**
   * Reload now (secrets announced a rotation on NATS); concurrent announcements share one
   * reload, and a failure keeps the previous catalogue (the poll retries).
   */
  refreshSoon(): Promise<void> {
    this.pendingRefresh ??= this.refresh()
      .catch((err: unknown) => this.logger.warn({ err }, 'noise key reload after a rotation event failed; keeping the previous catalogue'))
      .finally(() => { this.pendingRefresh = undefined; });
    return this.pendingRefresh;
  }

  get ready(): boolean {
    return this.keys.length > 0 && this.ca !== undefined;
  }

  /** Newest first, skipping keys that expired since the last refresh. */
  active(now = Date.now()): ActiveNoiseKey[] {
    return this.keys.filter((k) => k.validAfter <= now && (k.expiresAt === 0 || k.expiresAt > now));
  }

  /**
   * Keys that no longer answer handshakes but are still remembered, newest first: those secrets
   * listed as expired plus catalogue keys whose expiry passed since the last refresh.
   */
  expired(now = Date.now()): ActiveNoiseKey[] {
    const lapsed = this.keys.filter((k) => k.expiresAt !== 0 && k.expiresAt <= now);
    const seen = new Set(lapsed.map((k) => k.version));
    return [...lapsed, ...this.expiredKeys.filter((k) => !seen.has(k.version))].sort((a, b) => b.version - a.version);
  }

  get deviceCaPublic(): Buffer {
    if (!this.ca) throw new Error('device CA public key not loaded');
    return this.ca;
  }
}
