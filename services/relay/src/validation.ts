import type { NewEnvelope } from './envelope.js';
import { RelayError } from './errors.js';
import { MAX_ACK_SEQS, MAX_ENVELOPES_PER_ENQUEUE, MAX_FRAME_BYTES } from './limits.js';

const MAX_U32 = 0xffff_ffff;

// PostgreSQL TEXT cannot hold NUL; refusing it here turns a driver error into a clear answer.
const hasNul = (text: string): boolean => text.includes('\u0000');

const isCount = (value: number): boolean => Number.isSafeInteger(value) && value >= 0;

export function validateDeviceId(deviceId: string, field = 'device_id'): void {
  if (deviceId.length === 0) throw new RelayError('DEVICE_ID_INVALID', `${field} must not be empty`);
  if (hasNul(deviceId)) throw new RelayError('DEVICE_ID_INVALID', `${field} must not contain NUL characters`);
}

export function validateSeq(value: number, field: string): void {
  if (!isCount(value)) throw new RelayError('SEQ_INVALID', `${field} must be a non-negative integer below 2^53`);
}

export function validateEnqueue(envelopes: readonly NewEnvelope[], ttlSeconds: number): void {
  if (envelopes.length > MAX_ENVELOPES_PER_ENQUEUE) {
    throw new RelayError('TOO_MANY_ENVELOPES', `at most ${MAX_ENVELOPES_PER_ENQUEUE} envelopes per enqueue, got ${envelopes.length}`);
  }
  if (!isCount(ttlSeconds) || ttlSeconds > MAX_U32) throw new RelayError('TTL_INVALID', 'ttl_seconds must be an integer in 0..2^32-1');
  envelopes.forEach((envelope, i) => {
    const at = `envelopes[${i}]`;
    validateDeviceId(envelope.deviceId, `${at}.device_id`);
    if (envelope.messageId.length === 0) throw new RelayError('MESSAGE_ID_INVALID', `${at}.message_id must not be empty`);
    if (hasNul(envelope.messageId)) throw new RelayError('MESSAGE_ID_INVALID', `${at}.message_id must not contain NUL characters`);
    if (hasNul(envelope.senderDeviceId)) throw new RelayError('SENDER_DEVICE_ID_INVALID', `${at}.sender_device_id must not contain NUL characters`);
    if (!isCount(envelope.channelId) || envelope.channelId > MAX_U32) throw new RelayError('CHANNEL_ID_INVALID', `${at}.channel_id must be an integer in 0..2^32-1`);
    if (envelope.frame.length === 0) throw new RelayError('FRAME_EMPTY', `${at}.frame must not be empty`);
    if (envelope.frame.length > MAX_FRAME_BYTES) {
      throw new RelayError('FRAME_TOO_LARGE', `${at}.frame is ${envelope.frame.length} bytes; a CCP-1 frame is at most ${MAX_FRAME_BYTES}`);
    }
  });
}

export function validateAcknowledge(deviceId: string, upToSeq: number, seqs: readonly number[]): void {
  validateDeviceId(deviceId);
  validateSeq(upToSeq, 'up_to_seq');
  if (seqs.length > MAX_ACK_SEQS) throw new RelayError('TOO_MANY_SEQS', `at most ${MAX_ACK_SEQS} seqs per acknowledge, got ${seqs.length}`);
  seqs.forEach((seq, i) => validateSeq(seq, `seqs[${i}]`));
}
