// Structural checks of encoded source frames, against real libvpx output and crafted garbage.
import { MediaError } from '@commucat/media-format';
import { DropOldestQueue } from '../src/drop-oldest-queue';
import { IvfReader } from '../src/ivf-reader';
import { ivfFile } from '../src/ivf-writer';
import { MAX_SOURCE_SIDE, checkSourceFrame, isSourceKeyframe, isSourceVideoCodec } from '../src/source-frame';
import { encodeTestSource } from './media-test-support';

const vp8 = encodeTestSource('vp8', { width: 320, height: 240, frames: 3 });
const vp9 = encodeTestSource('vp9', { width: 320, height: 240, frames: 3 });

function codeOf(run: () => void): string | undefined {
  try {
    run();
    return undefined;
  } catch (err) {
    return err instanceof MediaError ? err.code : 'not a MediaError';
  }
}

/** A VP8 key frame header (RFC 6386 §9.1) declaring `width`×`height`, followed by `body`. */
function vp8KeyframeHeader(width: number, height: number, body = Buffer.alloc(20)): Buffer {
  const header = Buffer.alloc(10);
  const tag = 0x10 | (body.length << 5); // key frame, version 0, shown, first partition = body
  header.writeUIntLE(tag, 0, 3);
  header.set([0x9d, 0x01, 0x2a], 3);
  header.writeUInt16LE(width, 6);
  header.writeUInt16LE(height, 8);
  return Buffer.concat([header, body]);
}

describe('source frame checks', () => {
  test('real VP8 and VP9 frames pass, and their key frames are recognised', () => {
    for (const [codec, frames] of [['vp8', vp8], ['vp9', vp9]] as const) {
      for (const frame of frames) expect(codeOf(() => checkSourceFrame(codec, frame.data))).toBeUndefined();
      expect(frames.map((f) => isSourceKeyframe(codec, f.data))).toEqual([true, false, false]);
    }
  });

  test.each([
    ['empty vp8', 'vp8', Buffer.alloc(0)],
    ['vp8 version 7', 'vp8', Buffer.from([0x0f, 0x00, 0x00, 0x00])],
    ['vp8 first partition longer than the frame', 'vp8', Buffer.from([0x01, 0xff, 0xff, 0x00])],
    ['vp8 key frame without start code', 'vp8', Buffer.concat([vp8KeyframeHeader(320, 240).subarray(0, 3), Buffer.alloc(27)])],
    ['vp8 key frame of 0×240', 'vp8', vp8KeyframeHeader(0, 240)],
    ['vp8 key frame larger than the limit', 'vp8', vp8KeyframeHeader(MAX_SOURCE_SIDE + 1, 240)],
    ['vp9 without frame marker', 'vp9', Buffer.from([0x02, 0x49, 0x83, 0x42])],
    ['vp9 key frame without sync code', 'vp9', Buffer.from([0x82, 0x00, 0x00, 0x00, 0x00])],
    ['vp9 key frame cut before its size', 'vp9', vp9[0]!.data.subarray(0, 5)],
    ['a vp9 key frame sent as vp8', 'vp8', vp9[0]!.data],
  ] as const)('%s is refused as bad_envelope', (_name, codec, frame) => {
    expect(codeOf(() => checkSourceFrame(codec, frame))).toBe('bad_envelope');
  });

  test('the VP9 size limit reads the size from the key frame header', () => {
    // Profile 0, key frame, shown: 82 49 83 42, colour space BT.601 + limited range (4 bits: 0010 0),
    // then width-1 and height-1 in 16 bits each, here 5000×100.
    const header = (width: number, height: number): Buffer => {
      const bits = '10' + '0' + '0' + '0' + '0' + '1' + '0' + '010010011000001101000010' + '001' + '0'
        + (width - 1).toString(2).padStart(16, '0') + (height - 1).toString(2).padStart(16, '0');
      const padded = bits.padEnd(Math.ceil(bits.length / 8) * 8, '0');
      return Buffer.from(padded.match(/.{8}/g)!.map((byte) => parseInt(byte, 2)));
    };
    expect(codeOf(() => checkSourceFrame('vp9', header(320, 240)))).toBeUndefined();
    expect(codeOf(() => checkSourceFrame('vp9', header(5000, 100)))).toBe('bad_envelope');
  });

  test('only vp8 and vp9 are source codecs', () => {
    expect(['vp8', 'vp9', '', 'h264', 'VP8'].map(isSourceVideoCodec)).toEqual([true, true, false, false, false]);
  });
});

test('ivfFile writes what IvfReader reads back', () => {
  const file = ivfFile({ fourcc: 'VP90', width: 320, height: 240, timebaseRate: 15, timebaseScale: 1 }, vp9.map((f) => f.data));
  const reader = new IvfReader();
  const frames = reader.push(file);
  expect(reader.header).toEqual({ fourcc: 'VP90', width: 320, height: 240, timebaseRate: 15, timebaseScale: 1 });
  expect(frames.map((f) => [f.pts, f.keyframe, f.data.equals(vp9[f.pts]!.data)])).toEqual([[0, true, true], [1, false, true], [2, false, true]]);
});

test('DropOldestQueue.some looks at what is queued now', () => {
  const queue = new DropOldestQueue<number>(2);
  queue.push(1);
  queue.push(2);
  expect(queue.some((n) => n === 1)).toBe(true);
  queue.push(3); // evicts 1
  expect(queue.some((n) => n === 1)).toBe(false);
});
