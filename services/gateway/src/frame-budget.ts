/**
 * A token bucket per connection: a device may send `rate` frames per second after the handshake,
 * with bursts up to `burst`. A flooding device is slowed down alone; nobody else notices.
 */
export class FrameBudget {
  private tokens: number;
  private refilledAt: number;

  constructor(private readonly rate: number, private readonly burst: number, now = Date.now()) {
    this.tokens = burst;
    this.refilledAt = now;
  }

  take(now = Date.now()): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.rate);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
