import { randomBytes } from 'node:crypto';
import type { Redis } from '@commucat/storage';
import type { RateDecision, RateLimit } from '../rate-limiter.js';

/**
 * Sliding-window log with a penalty box (the reference's semantics, spec §10) kept in Redis so
 * every gateway replica shares one budget per key. One Lua script per check keeps it atomic; the
 * clock is Redis's own (TIME), so replicas with skewed clocks still agree.
 *
 * KEYS[1] = hit log (sorted set, score = ms), KEYS[2] = penalty marker.
 * ARGV = window ms, burst, penalty ms, unique member suffix.
 * Returns {allowed (0/1), retry-after ms}.
 */
const CHECK_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local penalty = tonumber(ARGV[3])
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then return {0, blocked} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < burst then
  redis.call('ZADD', KEYS[1], now, now .. ':' .. ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, 0}
end
if penalty > 0 then
  redis.call('SET', KEYS[2], '1', 'PX', penalty)
  return {0, penalty}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local wait = window
if oldest[2] then wait = tonumber(oldest[2]) + window - now end
if wait < 1 then wait = 1 end
return {0, wait}
`;

export type RateScope = 'http' | 'session' | 'pairing';

export interface SharedRateLimiterOptions {
  /** Key prefix, e.g. `commucat:<namespace>:rl`; fleets sharing a Redis keep separate budgets. */
  prefix: string;
  limits: Record<RateScope, RateLimit>;
  /** Called when Redis fails; the request is then let through (a Redis outage must not stop the API). */
  onError?: (err: unknown) => void;
}

export class SharedRateLimiter {
  constructor(private readonly redis: Redis, private readonly opts: SharedRateLimiterOptions) {}

  key(scope: RateScope, identity: string): string {
    return `${this.opts.prefix}:${scope}:${identity}`;
  }

  async check(scope: RateScope, identity: string): Promise<RateDecision> {
    const limit = this.opts.limits[scope];
    const key = this.key(scope, identity);
    try {
      const [allowed, waitMs] = (await this.redis.eval(
        CHECK_SCRIPT, 2, key, `${key}:penalty`,
        limit.windowMs, limit.burst, limit.penaltyMs, randomBytes(6).toString('hex'),
      )) as [number, number];
      if (allowed === 1) return { allowed: true };
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    } catch (err) {
      this.opts.onError?.(err);
      return { allowed: true };
    }
  }
}
