import type { Frame } from './frame';
import { frameTypeLabel } from './frame-types';

// Text encodings of one outbound unit for HEAD's SSE and NDJSON /connect modes (spec §2.4, §2.5).
// `unit` is exactly what binary mode would write: one encoded frame, or varint ‖ ciphertext when
// post-handshake encryption is on. Base64 is the standard alphabet with padding (trap T24).

function base64(unit: Uint8Array): string {
  return Buffer.from(unit.buffer, unit.byteOffset, unit.byteLength).toString('base64');
}

/** `event: frame\nid: <sequence>\ndata: <base64>\n\n`; the id comes from the plaintext frame. */
export function sseEvent(frameSequence: number, unit: Uint8Array): string {
  return `event: frame\nid: ${frameSequence}\ndata: ${base64(unit)}\n\n`;
}

/** One NDJSON line with keys in sorted order, as serde_json writes it, ending in `\n`. */
export function ndjsonLine(frame: Frame, unit: Uint8Array): string {
  return (
    `{"channel":${frame.channel},"data":"${base64(unit)}","sequence":${frame.sequence},` +
    `"type":"${frameTypeLabel(frame.type)}"}\n`
  );
}
