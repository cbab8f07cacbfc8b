import type { Frame } from '@commucat/ccp1';

const MAX_ACKS_PER_FRAME = 4096;

const isSeq = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value > 0;

/**
 * The relay seqs a relay-ack device acknowledges in one Ack frame: `{"ack": n}` and/or
 * `{"acks": [n, …]}`. Anything else in it (other keys, non-numbers) is ignored, as Acks carry no
 * answer; an Ack is never an error.
 */
export function clientAcknowledgedSeqs(frame: Frame): number[] {
  if (frame.payload.kind !== 'control') return [];
  const value = frame.payload.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof value === 'bigint') return [];
  const seqs: number[] = [];
  if (isSeq(value.ack)) seqs.push(value.ack);
  if (Array.isArray(value.acks)) {
    for (const seq of value.acks.slice(0, MAX_ACKS_PER_FRAME)) if (isSeq(seq)) seqs.push(seq);
  }
  return seqs;
}
