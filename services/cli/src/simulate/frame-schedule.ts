/**
 * Real-time pacing: frame k of a stream is due k·period after the start. A sender that wakes late
 * sends everything already due at once (as a capture device's buffer would), never skips frames,
 * so a run always offers exactly `total` frames per stream.
 */
export function framesDue(elapsedMs: number, periodMs: number, total: number): number {
  if (elapsedMs < 0) return 0;
  return Math.min(total, Math.floor(elapsedMs / periodMs) + 1);
}

/** When the frame after `sent` frames is due, in ms after the start; Infinity once all are sent. */
export function nextDueMs(sent: number, periodMs: number, total: number): number {
  return sent >= total ? Infinity : sent * periodMs;
}

/** Frames one stream offers in `seconds`: at least one. */
export function framesInRun(seconds: number, periodMs: number): number {
  return Math.max(1, Math.round((seconds * 1000) / periodMs));
}
