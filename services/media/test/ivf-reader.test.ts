import { IvfReader, isVp8Keyframe, isVp9Keyframe, type IvfFrame } from '../src/ivf-reader';
import { MediaError } from '@commucat/media-format';

function ivfFile(fourcc: string, frames: Buffer[]): Buffer {
  const header = Buffer.alloc(32);
  header.write('DKIF', 0, 'latin1');
  header.writeUInt16LE(0, 4);
  header.writeUInt16LE(32, 6);
  header.write(fourcc, 8, 'latin1');
  header.writeUInt16LE(320, 12);
  header.writeUInt16LE(240, 14);
  header.writeUInt32LE(30, 16);
  header.writeUInt32LE(1, 20);
  const parts: Buffer[] = [header];
  frames.forEach((frame, pts) => {
    const head = Buffer.alloc(12);
    head.writeUInt32LE(frame.length, 0);
    head.writeBigUInt64LE(BigInt(pts), 4);
    parts.push(head, frame);
  });
  return Buffer.concat(parts);
}

// VP8 frame tag bit 0: 0 = key frame.
const frames = [Buffer.from([0x10, 1, 2, 3, 4]), Buffer.from([0x31, 9]), Buffer.alloc(0), Buffer.from([0x51, 7, 7, 7])];

function simplify(out: IvfFrame[]): { pts: number; data: number[]; keyframe: boolean }[] {
  return out.map((f) => ({ pts: f.pts, data: [...f.data], keyframe: f.keyframe }));
}

describe('IvfReader', () => {
  const whole = ivfFile('VP80', frames);
  const expected = frames.map((data, pts) => ({ pts, data: [...data], keyframe: pts === 0 }));

  it('reads the header and every frame from one chunk', () => {
    const reader = new IvfReader();
    expect(simplify(reader.push(whole))).toEqual(expected);
    expect(reader.header).toEqual({ fourcc: 'VP80', width: 320, height: 240, timebaseRate: 30, timebaseScale: 1 });
    expect(reader.bufferedBytes).toBe(0);
  });

  it('gives the same frames when fed one byte at a time', () => {
    const reader = new IvfReader();
    const out: IvfFrame[] = [];
    for (let i = 0; i < whole.length; i++) out.push(...reader.push(whole.subarray(i, i + 1)));
    expect(simplify(out)).toEqual(expected);
  });

  it('gives the same frames for every two-way split', () => {
    for (let cut = 0; cut <= whole.length; cut++) {
      const reader = new IvfReader();
      const out = [...reader.push(whole.subarray(0, cut)), ...reader.push(whole.subarray(cut))];
      expect(simplify(out)).toEqual(expected);
    }
  });

  it('holds a partial frame until the rest arrives', () => {
    const reader = new IvfReader();
    expect(reader.push(whole.subarray(0, 32 + 12 + 2))).toEqual([]);
    expect(reader.bufferedBytes).toBe(14);
  });

  it('refuses a stream that is not IVF', () => {
    const bad = Buffer.from(whole);
    bad.write('RIFF', 0, 'latin1');
    expect(() => new IvfReader().push(bad)).toThrow(expect.objectContaining({ code: 'bad_ivf' }) as MediaError);
  });

  it('refuses an absurd frame size (stream out of sync)', () => {
    const bad = Buffer.concat([whole.subarray(0, 32), Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0])]);
    expect(() => new IvfReader().push(bad)).toThrow(expect.objectContaining({ code: 'bad_ivf' }) as MediaError);
  });
});

describe('keyframe bits', () => {
  it('reads the VP8 frame tag', () => {
    expect(isVp8Keyframe(Buffer.from([0x10]))).toBe(true);
    expect(isVp8Keyframe(Buffer.from([0x11]))).toBe(false);
    expect(isVp8Keyframe(Buffer.alloc(0))).toBe(false);
  });

  it('reads the VP9 uncompressed header', () => {
    // frame_marker 10, profile 0 (bits 00), show_existing 0, frame_type 0 → key
    expect(isVp9Keyframe(Buffer.from([0b1000_0000]))).toBe(true);
    expect(isVp9Keyframe(Buffer.from([0b1000_0100]))).toBe(false); // frame_type 1
    expect(isVp9Keyframe(Buffer.from([0b1000_1000]))).toBe(false); // show_existing_frame
    // profile 3 (low 1, high 1) has a reserved bit before show_existing_frame
    expect(isVp9Keyframe(Buffer.from([0b1011_0000]))).toBe(true);
    expect(isVp9Keyframe(Buffer.from([0b1011_0010]))).toBe(false);
    expect(isVp9Keyframe(Buffer.from([0b0000_0000]))).toBe(false); // no frame marker
  });
});
