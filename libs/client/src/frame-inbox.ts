import type { Frame } from '@commucat/ccp1';
import { ClientError, ConnectionClosedError } from './errors';

interface Waiter {
  resolve(frame: Frame): void;
  reject(error: ClientError): void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Frames received after the handshake, waiting for the application. Decode errors are queued in
 * order among the frames (the connection carries on after them, like the real client); once the
 * connection is closed, queued items are still handed out and then every read fails with
 * ConnectionClosedError.
 */
export class FrameInbox {
  private readonly items: Array<Frame | ClientError> = [];
  private readonly waiters: Waiter[] = [];
  private closedReason: string | undefined;

  push(item: Frame | ClientError): void {
    const waiter = this.waiters.shift();
    if (waiter === undefined) {
      this.items.push(item);
      return;
    }
    clearTimeout(waiter.timer);
    if (item instanceof ClientError) waiter.reject(item);
    else waiter.resolve(item);
  }

  close(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(new ConnectionClosedError(reason));
    }
  }

  /** Frames and errors received but not read yet. */
  get pending(): number {
    return this.items.length;
  }

  /** Waits at most `timeoutMs` (no limit when it is Infinity). */
  next(timeoutMs: number): Promise<Frame> {
    const item = this.items.shift();
    if (item !== undefined) return item instanceof ClientError ? Promise.reject(item) : Promise.resolve(item);
    if (this.closedReason !== undefined) return Promise.reject(new ConnectionClosedError(this.closedReason));
    return new Promise<Frame>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined };
      if (Number.isFinite(timeoutMs)) {
        waiter.timer = setTimeout(() => {
          const index = this.waiters.indexOf(waiter);
          if (index >= 0) this.waiters.splice(index, 1);
          reject(new ClientError('Timeout', `no frame within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.waiters.push(waiter);
    });
  }
}
