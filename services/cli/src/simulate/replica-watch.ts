import type { MediaReplicaHeartbeat } from '@commucat/contracts';
import { cpuPercent } from './latency-stats';

interface HeartbeatPoint {
  readonly atMs: number;
  readonly cpuSeconds: number;
  readonly droppedFrames: number;
}

interface ReplicaState {
  /** Heartbeats since the baseline (the baseline first), in arrival order. */
  points: HeartbeatPoint[];
  last: HeartbeatPoint;
  lastHeardAtMs: number;
  maxActiveStreams: number;
}

export interface ReplicaUsage {
  readonly replicaId: string;
  /** CPU between the baseline heartbeat and the latest one, % of one core. */
  readonly cpuPercent: number;
  readonly cpuSeconds: number;
  /** Raw frames the replica dropped (backpressure) in that window. */
  readonly droppedFrames: number;
  readonly maxActiveStreams: number;
  /** The measured window, between the two heartbeats. */
  readonly windowMs: number;
}

const point = (hb: MediaReplicaHeartbeat): HeartbeatPoint => ({ atMs: hb.at, cpuSeconds: hb.cpuSeconds, droppedFrames: hb.droppedFrames });

/**
 * What the media replicas' heartbeats tell: who is alive, and their CPU and drop counters. A
 * baseline taken just before the run and the latest heartbeat after it bound the CPU used by it.
 */
export class ReplicaWatch {
  private readonly replicas = new Map<string, ReplicaState>();
  private readonly waiters: (() => void)[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  heard(hb: MediaReplicaHeartbeat): void {
    const state = this.replicas.get(hb.replicaId);
    if (state === undefined) {
      this.replicas.set(hb.replicaId, { points: [point(hb)], last: point(hb), lastHeardAtMs: this.now(), maxActiveStreams: hb.activeStreams });
    } else {
      // Heartbeats are at-most-once and may cross; keep the newest.
      if (hb.at >= state.last.atMs) {
        state.last = point(hb);
        state.points.push(state.last);
      }
      state.lastHeardAtMs = this.now();
      state.maxActiveStreams = Math.max(state.maxActiveStreams, hb.activeStreams);
    }
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Replicas heard within `withinMs` (the routers' liveness rule: 1000 ms), sorted. */
  alive(withinMs = 1000): string[] {
    const since = this.now() - withinMs;
    return [...this.replicas].filter(([, s]) => s.lastHeardAtMs >= since).map(([id]) => id).sort();
  }

  /** Starts every replica's window at its latest heartbeat (taken right before the frames start). */
  markBaseline(): void {
    for (const state of this.replicas.values()) {
      state.points = [state.last];
      state.maxActiveStreams = 0;
    }
  }

  /** Resolves on the next heartbeat from anyone, or false after `timeoutMs`. */
  nextHeartbeat(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const at = this.waiters.indexOf(wake);
        if (at >= 0) this.waiters.splice(at, 1);
        resolve(false);
      }, timeoutMs);
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.waiters.push(wake);
    });
  }

  /** Resolves once every replica in `ids` sent a heartbeat stamped at or after `atMs`, or after `timeoutMs`. */
  async heartbeatsSince(ids: readonly string[], atMs: number, timeoutMs: number): Promise<boolean> {
    const deadline = this.now() + timeoutMs;
    for (;;) {
      if (ids.every((id) => (this.replicas.get(id)?.last.atMs ?? -Infinity) >= atMs)) return true;
      const left = deadline - this.now();
      if (left <= 0 || !(await this.nextHeartbeat(left))) return false;
    }
  }

  /**
   * The replica's figures from the baseline to its first heartbeat stamped at or after `untilMs`
   * (the end of the run; later heartbeats would count idle time), or to its newest one.
   */
  usage(replicaId: string, untilMs = Infinity): ReplicaUsage | undefined {
    const state = this.replicas.get(replicaId);
    if (state === undefined) return undefined;
    const first = state.points[0]!;
    const end = state.points.find((p) => p.atMs >= untilMs) ?? state.last;
    const windowMs = end.atMs - first.atMs;
    return {
      replicaId,
      cpuPercent: cpuPercent(first.cpuSeconds, end.cpuSeconds, windowMs),
      cpuSeconds: end.cpuSeconds - first.cpuSeconds,
      droppedFrames: end.droppedFrames - first.droppedFrames,
      maxActiveStreams: state.maxActiveStreams,
      windowMs,
    };
  }
}
