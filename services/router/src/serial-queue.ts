/**
 * Runs tasks one at a time in the order they were added. The router uses it so that frames are
 * handled strictly in arrival order, which keeps every channel's messages in order.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `task` after every task added before it has settled; resolves with its result. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    // A failed task must not stop the ones queued behind it.
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every task added so far has settled. */
  async idle(): Promise<void> {
    await this.tail;
  }
}

/**
 * One SerialQueue per key, created on demand and dropped when idle: tasks with the same key run
 * one at a time in the order added, tasks with different keys run concurrently. The router keys by
 * channel, so each channel keeps its order while channels do not wait for each other.
 */
export class KeyedSerialQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const result = (this.tails.get(key) ?? Promise.resolve()).then(task);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    // Forget the key once its last task settled, so idle channels cost nothing.
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  get activeKeys(): number {
    return this.tails.size;
  }

  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }
}
