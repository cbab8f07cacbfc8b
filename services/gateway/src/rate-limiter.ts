/**
 * Sliding-window limiter with a penalty box, like the reference's, but keyed by client IP (not
 * ip:port, weakness §11.19) and with idle buckets swept so the map cannot grow without bound.
 */
export interface RateLimit {
  burst: number;
  windowMs: number;
  penaltyMs: number;
}

interface Bucket {
  hits: number[];
  blockedUntil: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly limit: RateLimit) {
    this.sweeper = setInterval(() => this.sweep(), Math.max(limit.windowMs, limit.penaltyMs, 1000));
    this.sweeper.unref();
  }

  check(key: string, now = Date.now()): RateDecision {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { hits: [], blockedUntil: 0 };
      this.buckets.set(key, bucket);
    }
    if (bucket.blockedUntil > now) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((bucket.blockedUntil - now) / 1000)) };
    const windowStart = now - this.limit.windowMs;
    while (bucket.hits.length > 0 && bucket.hits[0]! <= windowStart) bucket.hits.shift();
    if (bucket.hits.length < this.limit.burst) {
      bucket.hits.push(now);
      return { allowed: true };
    }
    const wait = this.limit.penaltyMs > 0 ? this.limit.penaltyMs : this.limit.windowMs;
    if (this.limit.penaltyMs > 0) bucket.blockedUntil = now + this.limit.penaltyMs;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)) };
  }

  get trackedKeys(): number {
    return this.buckets.size;
  }

  sweep(now = Date.now()): void {
    for (const [key, bucket] of this.buckets) {
      const last = bucket.hits[bucket.hits.length - 1] ?? 0;
      if (bucket.blockedUntil <= now && last <= now - this.limit.windowMs) this.buckets.delete(key);
    }
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}
