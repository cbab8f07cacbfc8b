import { type Frame, frameTypeLabel, type JsonValue, stringifyJson } from '@commucat/ccp1';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * One received frame as one JSON line: its label, channel, sequence and payload — the control JSON
 * itself (big integers kept exact), or for opaque bytes their hex and, when they are valid UTF-8
 * (chat text), that text.
 */
export function frameLine(frame: Frame): string {
  let payload: JsonValue;
  if (frame.payload.kind === 'control') {
    payload = frame.payload.value;
  } else {
    const bytes = frame.payload.bytes;
    const opaque: Record<string, JsonValue> = { hex: Buffer.from(bytes).toString('hex') };
    try {
      opaque['utf8'] = strictUtf8.decode(bytes);
    } catch {
      // not text: hex only
    }
    payload = opaque;
  }
  return stringifyJson(
    { type: frameTypeLabel(frame.type), channel: frame.channel, sequence: frame.sequence, payload },
    { sortKeys: false },
  );
}
