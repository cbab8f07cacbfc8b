import { FrameLedger } from '../src/simulate/frame-ledger';

describe('FrameLedger', () => {
  it('pairs outputs with their frames by received_at_us and measures latency per kind', () => {
    const ledger = new FrameLedger();
    ledger.addCall('a1', 'audio');
    ledger.addCall('v1', 'video');
    const a = ledger.stampFrame('a1', 1_000_000);
    const b = ledger.stampFrame('a1', 1_020_000);
    const v = ledger.stampFrame('v1', 1_000_000);
    expect(ledger.outstanding).toBe(3);
    expect(ledger.recordOutput('a1', b, 1_022_000, 40, false)).toBe(true);
    expect(ledger.recordOutput('a1', a, 1_003_000, 30, false)).toBe(true);
    expect(ledger.recordOutput('v1', v, 1_050_000, 5000, true)).toBe(true);
    expect(ledger.outstanding).toBe(0);
    expect(ledger.tally('audio')).toEqual({
      streams: 1, sent: 2, outputs: 2, refused: 0, dropped: 0, keyframes: 0, outputBytes: 70, latency: { p50Ms: 2, p99Ms: 3, maxMs: 3 },
    });
    expect(ledger.tally('video')).toMatchObject({ sent: 1, outputs: 1, keyframes: 1, outputBytes: 5000, latency: { p50Ms: 50 } });
  });

  it('keeps stamps unique per call when the clock has not moved', () => {
    const ledger = new FrameLedger();
    ledger.addCall('a1', 'audio');
    ledger.addCall('a2', 'audio');
    expect(ledger.stampFrame('a1', 500)).toBe(500);
    expect(ledger.stampFrame('a1', 500)).toBe(501);
    expect(ledger.stampFrame('a1', 499.4)).toBe(502);
    expect(ledger.stampFrame('a2', 500)).toBe(500);
  });

  it('ignores outputs of other calls, duplicates and unknown stamps', () => {
    const ledger = new FrameLedger();
    ledger.addCall('a1', 'audio');
    const stamp = ledger.stampFrame('a1', 100);
    expect(ledger.recordOutput('someone-elses-call', stamp, 200, 10, false)).toBe(false);
    expect(ledger.recordOutput('a1', stamp + 7, 200, 10, false)).toBe(false);
    expect(ledger.recordOutput('a1', stamp, 200, 10, false)).toBe(true);
    expect(ledger.recordOutput('a1', stamp, 300, 10, false)).toBe(false);
    expect(ledger.tally('audio').outputs).toBe(1);
    expect(ledger.recordRefused('someone-elses-call', 'bad_profile')).toBe(false);
  });

  it('counts frames without an output as dropped, refusals among them, and nothing after close', () => {
    const ledger = new FrameLedger();
    ledger.addCall('v1', 'video');
    const stamps = [0, 1, 2, 3].map((i) => ledger.stampFrame('v1', 1000 * i));
    ledger.recordOutput('v1', stamps[0]!, 5000, 900, true);
    expect(ledger.recordRefused('v1', 'wrong_frame_size')).toBe(true);
    ledger.recordRefused('v1', 'wrong_frame_size');
    ledger.recordRefused('v1', 'bad_profile');
    ledger.close();
    expect(ledger.recordOutput('v1', stamps[1]!, 9000, 900, false)).toBe(false);
    expect(ledger.recordRefused('v1', 'bad_profile')).toBe(false);
    expect(ledger.tally('video')).toMatchObject({ sent: 4, outputs: 1, dropped: 3, refused: 3 });
    expect(ledger.refusals()).toEqual({ bad_profile: 1, wrong_frame_size: 2 });
    expect(ledger.tally('audio')).toMatchObject({ streams: 0, sent: 0, dropped: 0, latency: undefined });
  });

  it('refuses a call added twice and frames of a call it does not know', () => {
    const ledger = new FrameLedger();
    ledger.addCall('a1', 'audio');
    expect(() => ledger.addCall('a1', 'video')).toThrow(/already/);
    expect(() => ledger.stampFrame('nope', 1)).toThrow(/not in the ledger/);
  });
});
