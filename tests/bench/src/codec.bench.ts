// CCP-1 codec throughput: encode+decode round trips for a 64-byte Msg frame and a ~300-byte
// control frame, stream splitting, and parseJson / stringifyJson speed. Prints one JSON line per
// figure.

import {
  type Frame,
  FrameStreamDecoder,
  FrameType,
  controlFrame,
  decodeFrame,
  encodeFrame,
  opaqueFrame,
  parseJson,
  stringifyJson,
} from '@commucat/ccp1';
import { reporter } from './support/output';

const BENCH = 'codec';
const RUN_MS = 1000;

const report = reporter(BENCH);

/** Runs `step` (which does `opsPerStep` operations) for about RUN_MS after a short warm-up; returns ops/s. */
function measure(opsPerStep: number, step: () => void): number {
  const warmUntil = Date.now() + 200;
  while (Date.now() < warmUntil) step();
  let ops = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(RUN_MS) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 64; i++) step();
    ops += 64 * opsPerStep;
    now = process.hrtime.bigint();
  }
  return ops / (Number(now - start) / 1e9);
}

let sink = 0; // keeps results alive so the work cannot be optimised away

const msgFrame = opaqueFrame(FrameType.Msg, 5, 42, Buffer.alloc(64, 0x61));
report('msg64_encode_decode', measure(1, () => {
  const bytes = encodeFrame(msgFrame);
  sink += decodeFrame(bytes).consumed;
}), 'frames/s');

const controlValue = {
  call_id: 'call-7f3c2a9e4b1d4c0e8a6f',
  from: 'device-3b9e1f2a7c5d4e6f',
  to: ['device-a1b2c3d4e5f60718', 'device-9f8e7d6c5b4a3921'],
  media: { audio: { codec: 'opus', bitrate: 32000, sample_rate: 48000, channels: 1, fec: true, dtx: false }, mode: 'full_duplex' },
  metadata: { attempt: 1, note: 'bench' },
  expires_at: 1767225600,
};
const controlBytes = encodeFrame(controlFrame(FrameType.CallOffer, 7, 1234, controlValue));
const control = controlFrame(FrameType.CallOffer, 7, 1234, controlValue);
report('control_frame_bytes', controlBytes.length, 'bytes');
report('control300_encode_decode', measure(1, () => {
  const bytes = encodeFrame(control);
  sink += decodeFrame(bytes).consumed;
}), 'frames/s');
report('control300_decode', measure(1, () => {
  sink += decodeFrame(controlBytes).consumed;
}), 'frames/s');

// Stream splitting: 256 Msg frames per 16 KiB-ish chunk.
const streamChunk = Buffer.concat(Array.from({ length: 256 }, () => encodeFrame(msgFrame)));
const decoder = new FrameStreamDecoder();
const framesPerChunk = 256;
const chunkOps = measure(1, () => {
  const frames: Frame[] = decoder.push(streamChunk);
  sink += frames.length;
});
report('stream_msg64_decode', chunkOps * framesPerChunk, 'frames/s');
report('stream_msg64_decode_throughput', (chunkOps * streamChunk.length) / 1e6, 'MB/s');

const json300 = Buffer.from(stringifyJson(controlValue), 'utf8');
report('parse_json_300B', (measure(1, () => {
  sink += parseJson(json300) === null ? 0 : 1;
}) * json300.length) / 1e6, 'MB/s');

const bigDocument = Array.from({ length: 400 }, (_, i) => ({ ...controlValue, index: i, serial: 18446744073709551615n - BigInt(i), ratio: i / 7 }));
const json64k = Buffer.from(stringifyJson(bigDocument), 'utf8');
report('parse_json_large', (measure(1, () => {
  sink += parseJson(json64k) === null ? 0 : 1;
}) * json64k.length) / 1e6, 'MB/s');
report('parse_json_large_bytes', json64k.length, 'bytes');

const parsedLarge = parseJson(json64k);
report('stringify_json_large', (measure(1, () => {
  sink += stringifyJson(parsedLarge).length;
}) * json64k.length) / 1e6, 'MB/s');

// Reference point only: JSON.parse on the same text (it would round the u64 serials).
const largeText = json64k.toString('utf8');
report('json_parse_builtin_large', (measure(1, () => {
  sink += JSON.parse(largeText) === null ? 0 : 1;
}) * json64k.length) / 1e6, 'MB/s');

if (sink === -1) console.error('unreachable');
