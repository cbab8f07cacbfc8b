import { type LatencySummary, summarizeLatencies } from './latency-stats';

export type MediaKind = 'audio' | 'video';

export interface KindTally {
  readonly streams: number;
  readonly sent: number;
  /** Outputs matched to a frame this run sent, before the ledger closed. */
  readonly outputs: number;
  /** MediaRefused messages for this kind (their frames also count in `dropped`). */
  readonly refused: number;
  /** Frames sent that got no output before the ledger closed. */
  readonly dropped: number;
  readonly keyframes: number;
  readonly outputBytes: number;
  readonly latency: LatencySummary | undefined;
}

interface CallState {
  readonly kind: MediaKind;
  /** received_at_us of frames sent and not answered yet. */
  readonly pending: Set<number>;
  lastSentAtUs: number;
}

interface KindState {
  streams: number;
  sent: number;
  outputs: number;
  refused: number;
  keyframes: number;
  outputBytes: number;
  readonly latenciesMs: number[];
}

const newKind = (): KindState => ({ streams: 0, sent: 0, outputs: 0, refused: 0, keyframes: 0, outputBytes: 0, latenciesMs: [] });

/**
 * Which frames of the simulated calls went out and which came back. A MediaOutput carries the
 * received_at_us of its MediaInput, so that stamp (unique per call) pairs an output with its frame;
 * outputs of calls this run did not start (a live fleet's real calls) are ignored.
 */
export class FrameLedger {
  private readonly calls = new Map<string, CallState>();
  private readonly kinds: Record<MediaKind, KindState> = { audio: newKind(), video: newKind() };
  private readonly refusedCodes = new Map<string, number>();
  private closed = false;

  addCall(callId: string, kind: MediaKind): void {
    if (this.calls.has(callId)) throw new Error(`call ${callId} is already in the ledger`);
    this.calls.set(callId, { kind, pending: new Set(), lastSentAtUs: 0 });
    this.kinds[kind].streams += 1;
  }

  /**
   * Records a frame about to be sent at `nowUs` and returns its received_at_us: `nowUs`, or one
   * microsecond after the call's previous frame when the clock has not moved, so stamps stay unique.
   */
  stampFrame(callId: string, nowUs: number): number {
    const call = this.callOf(callId);
    const stamp = Math.max(Math.round(nowUs), call.lastSentAtUs + 1);
    call.lastSentAtUs = stamp;
    call.pending.add(stamp);
    this.kinds[call.kind].sent += 1;
    return stamp;
  }

  /** An output arrived at `arrivedAtUs`; false when it is not one of ours, a duplicate or too late. */
  recordOutput(callId: string, receivedAtUs: number, arrivedAtUs: number, packetBytes: number, keyframe: boolean): boolean {
    const call = this.calls.get(callId);
    if (this.closed || call === undefined || !call.pending.delete(receivedAtUs)) return false;
    const kind = this.kinds[call.kind];
    kind.outputs += 1;
    kind.outputBytes += packetBytes;
    if (keyframe) kind.keyframes += 1;
    kind.latenciesMs.push((arrivedAtUs - receivedAtUs) / 1000);
    return true;
  }

  /** A frame of ours was refused; false for calls this run did not start. */
  recordRefused(callId: string, code: string): boolean {
    const call = this.calls.get(callId);
    if (this.closed || call === undefined) return false;
    this.kinds[call.kind].refused += 1;
    this.refusedCodes.set(code, (this.refusedCodes.get(code) ?? 0) + 1);
    return true;
  }

  /** Frames still waiting for an output, over every call. */
  get outstanding(): number {
    let count = 0;
    for (const call of this.calls.values()) count += call.pending.size;
    return count;
  }

  /** From now on nothing more is counted: whatever is still pending is dropped. */
  close(): void {
    this.closed = true;
  }

  tally(kind: MediaKind): KindTally {
    const k = this.kinds[kind];
    return {
      streams: k.streams,
      sent: k.sent,
      outputs: k.outputs,
      refused: k.refused,
      dropped: k.sent - k.outputs,
      keyframes: k.keyframes,
      outputBytes: k.outputBytes,
      latency: summarizeLatencies(k.latenciesMs),
    };
  }

  /** How often each MediaError code came back, e.g. { wrong_frame_size: 3 }. */
  refusals(): Record<string, number> {
    return Object.fromEntries([...this.refusedCodes].sort(([a], [b]) => a.localeCompare(b)));
  }

  private callOf(callId: string): CallState {
    const call = this.calls.get(callId);
    if (call === undefined) throw new Error(`call ${callId} is not in the ledger`);
    return call;
  }
}
