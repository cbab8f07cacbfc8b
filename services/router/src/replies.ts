import { controlFrame, encodeFrame, FrameType, type JsonValue } from '@commucat/ccp1';
import type { RouterErrorCode } from './errors.js';

// Reply frames carry sequence 0: the gateway rewrites it with the connection's reply counter
// (spec ccp1-wire §7.1, Acks and Errors continue the handshake counter).

/** `{"ack": <the incoming frame's sequence>, …extra}` on the incoming frame's channel (spec §7.1). */
export function ackReply(channel: number, sequence: number, extra: Record<string, JsonValue> = {}): Buffer {
  return encodeFrame(controlFrame(FrameType.Ack, channel, 0, { ack: sequence, ...extra }));
}

/** `{"error": <code>, "detail": …, …extra}`; the real client shows it and keeps running. */
export function errorReply(channel: number, code: RouterErrorCode, detail: string, extra: Record<string, JsonValue> = {}): Buffer {
  return encodeFrame(controlFrame(FrameType.Error, channel, 0, { error: code, detail, ...extra }));
}
