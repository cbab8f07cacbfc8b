/**
 * A bounded FIFO for live media: when it is full, a new item evicts the OLDEST one. For real-time
 * media a late frame is worth less than the newest, and the sender must never be blocked
 * (spec calls-media §9.1).
 */
export class DropOldestQueue<T> {
  private items: T[] = [];
  private dropped_ = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be a positive integer, got ${capacity}`);
  }

  /** Appends `item`; returns the item evicted to make room, if any. */
  push(item: T): T | undefined {
    let evicted: T | undefined;
    if (this.items.length >= this.capacity) {
      evicted = this.items.shift();
      this.dropped_++;
    }
    this.items.push(item);
    return evicted;
  }

  shift(): T | undefined {
    return this.items.shift();
  }

  /** Removes and returns everything queued. */
  drain(): T[] {
    const all = this.items;
    this.items = [];
    return all;
  }

  /** Whether any queued item matches. */
  some(predicate: (item: T) => boolean): boolean {
    return this.items.some(predicate);
  }

  get length(): number {
    return this.items.length;
  }

  /** Items evicted by push() since the queue was created. */
  get dropped(): number {
    return this.dropped_;
  }
}
