import { gradientI420Frame, i420FrameBytes, pcmFrameBytes, sinePcmFrame } from '../src/simulate/synthetic-media';

function samples(frame: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i < frame.length; i += 2) out.push(frame.readInt16LE(i));
  return out;
}

describe('sinePcmFrame', () => {
  it('is exactly one 20 ms frame of 48 kHz mono s16le (1 920 bytes), the size the media service takes', () => {
    expect(pcmFrameBytes()).toBe(1920);
    expect(sinePcmFrame(0).length).toBe(1920);
    expect(sinePcmFrame(0, 440, 16_000, 2).length).toBe(pcmFrameBytes(16_000, 2));
  });

  it('holds a 440 Hz tone: 8.8 periods per 20 ms, so 17 or 18 sign changes, with a -6 dBFS peak', () => {
    const values = samples(sinePcmFrame(3));
    let crossings = 0;
    for (let i = 1; i < values.length; i++) if (Math.sign(values[i]!) !== Math.sign(values[i - 1]!) && values[i] !== 0) crossings += 1;
    expect(crossings).toBeGreaterThanOrEqual(17);
    expect(crossings).toBeLessThanOrEqual(18);
    expect(Math.max(...values)).toBeGreaterThan(16_000);
    expect(Math.max(...values)).toBeLessThanOrEqual(16_384);
  });

  it('continues the phase across frames (no click at the boundary)', () => {
    const first = samples(sinePcmFrame(0));
    const second = samples(sinePcmFrame(1));
    const expectedNext = Math.round(16_384 * Math.sin((2 * Math.PI * 440 * 960) / 48_000));
    expect(second[0]).toBe(expectedNext);
    // Neighbouring samples of a 440 Hz tone at 48 kHz differ by at most 2π·440/48000 of the amplitude (≈ 944).
    expect(Math.abs(second[0]! - first[first.length - 1]!)).toBeLessThan(950);
    expect(second).not.toEqual(first);
  });

  it('writes the same value into both channels of a stereo frame', () => {
    const stereo = samples(sinePcmFrame(2, 440, 48_000, 2));
    const mono = samples(sinePcmFrame(2));
    for (let i = 0; i < mono.length; i++) {
      expect(stereo[2 * i]).toBe(mono[i]);
      expect(stereo[2 * i + 1]).toBe(mono[i]);
    }
  });
});

describe('gradientI420Frame', () => {
  it('is W·H + 2·⌈W/2⌉·⌈H/2⌉ bytes (640x360 → 345 600)', () => {
    expect(i420FrameBytes(640, 360)).toBe(345_600);
    expect(i420FrameBytes(5, 3)).toBe(15 + 2 * 3 * 2);
    expect(gradientI420Frame(0, 640, 360).length).toBe(345_600);
    expect(gradientI420Frame(7, 5, 3).length).toBe(i420FrameBytes(5, 3));
  });

  it('draws a diagonal luma gradient that moves 2 pixels per frame', () => {
    const width = 64;
    const frame0 = gradientI420Frame(0, width, 32);
    const frame1 = gradientI420Frame(1, width, 32);
    expect(frame0[0]).toBe(0);
    expect(frame0[5 * width + 7]).toBe(12);
    // Frame 1 at (x, y) shows what frame 0 had at (x + 2, y).
    for (let x = 0; x < width - 2; x++) expect(frame1[3 * width + x]).toBe(frame0[3 * width + x + 2]);
    expect(frame1.equals(frame0)).toBe(false);
  });

  it('fills the chroma planes after the luma plane with differing U and V', () => {
    const frame = gradientI420Frame(0, 8, 4);
    const u = frame.subarray(32, 40);
    const v = frame.subarray(40, 48);
    expect([...u.subarray(0, 4)]).toEqual([64, 65, 66, 67]);
    expect([...v.subarray(0, 4)]).toEqual([192, 192, 192, 192]);
    expect([...v.subarray(4, 8)]).toEqual([191, 191, 191, 191]);
  });
});
