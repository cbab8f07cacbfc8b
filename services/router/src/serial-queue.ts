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
