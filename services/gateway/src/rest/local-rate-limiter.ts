import { RateLimiter, type RateDecision, type RateLimit } from '../rate-limiter.js';
import type { RateScope } from './shared-rate-limiter.js';

export interface ScopedRateLimiter {
  check(scope: RateScope, identity: string): Promise<RateDecision>;
}

/** Per-process budgets, only for a gateway run without Redis (a single replica). */
export class LocalRateLimiter implements ScopedRateLimiter {
  private readonly limiters: Record<RateScope, RateLimiter>;

  constructor(limits: Record<RateScope, RateLimit>) {
    this.limiters = { http: new RateLimiter(limits.http), session: new RateLimiter(limits.session), pairing: new RateLimiter(limits.pairing) };
  }

  async check(scope: RateScope, identity: string): Promise<RateDecision> {
    return this.limiters[scope].check(identity);
  }

  close(): void {
    for (const limiter of Object.values(this.limiters)) limiter.close();
  }
}
