import { FrameLedger } from '../src/simulate/frame-ledger';
import { buildReport, renderReport, reportFailed } from '../src/simulate/simulation-report';

function ledgerWith(audioOutputs: number, videoOutputs: number): FrameLedger {
  const ledger = new FrameLedger();
  ledger.addCall('a', 'audio');
  ledger.addCall('v', 'video');
  for (let i = 0; i < 4; i++) {
    const stamp = ledger.stampFrame('a', i * 20_000);
    if (i < audioOutputs) ledger.recordOutput('a', stamp, stamp + 2000, 80, false);
  }
  for (let i = 0; i < 2; i++) {
    const stamp = ledger.stampFrame('v', i * 50_000);
    if (i < videoOutputs) ledger.recordOutput('v', stamp, stamp + 30_000, 2500, i === 0);
  }
  return ledger;
}

const usage = [{ replicaId: 'm1', cpuPercent: 12.34, cpuSeconds: 0.01234, droppedFrames: 1, maxActiveStreams: 2, windowMs: 100 }];

describe('simulation report', () => {
  it('turns the ledger and heartbeats into figures per kind and per replica', () => {
    const report = buildReport({
      seconds: 0.1, elapsedMs: 100, video: { width: 640, height: 360, fps: 20 }, ledger: ledgerWith(4, 2),
      callsPerReplica: new Map([['m1', 2]]), usage, cliCpuPercent: 3.21,
    });
    expect(report.audio).toEqual({
      // 4 × 20 ms of audio in 100 ms; 80 bytes per 20 ms = 32 kbit/s.
      streams: 1, frames_sent: 4, outputs: 4, dropped: 0, refused: 0, keyframes: 0, latency_ms: { p50: 2, p99: 2, max: 2 }, realtime_factor: 0.8, kbps_per_stream: 32,
    });
    // 2 × 50 ms of video in 100 ms; 2500 bytes per 50 ms = 400 kbit/s.
    expect(report.video).toMatchObject({ outputs: 2, keyframes: 1, latency_ms: { p50: 30, p99: 30, max: 30 }, realtime_factor: 1, kbps_per_stream: 400 });
    expect(report.replicas).toEqual([{ replica_id: 'm1', calls: 2, cpu_percent: 12.3, cpu_seconds: 0.012, dropped_frames: 1, max_active_streams: 2, window_ms: 100 }]);
    expect(report.media_cpu_percent).toBe(12.3);
    expect(report.cli_cpu_percent).toBe(3.2);
    expect(reportFailed(report)).toBe(false);

    const text = renderReport(report);
    expect(text).toMatch(/^kind +streams +sent +encoded +dropped +refused +p50 +p99 +max +realtime +kbps\/stream\n/);
    expect(text).toMatch(/\naudio +1 +4 +4 +0 +0 +2\.00 ms +2\.00 ms +2\.00 ms +0\.80x +32\.0\n/);
    expect(text).toMatch(/\nvideo +1 +2 +2 +0 +0 +30\.00 ms +30\.00 ms +30\.00 ms +1\.00x +400\.0\n/);
    expect(text).toMatch(/\nm1 +2 +12\.3 % +0\.012 +1 +2\n/);
    expect(text).toContain('media cpu 12.3 % of one core; this cli 3.2 %');
    expect(text).toContain('(video 640x360@20)');
  });

  it('gives the bitrate of one stream however many streams ran', () => {
    const ledger = new FrameLedger();
    for (const callId of ['a1', 'a2', 'a3']) {
      ledger.addCall(callId, 'audio');
      for (let i = 0; i < 5; i++) ledger.recordOutput(callId, ledger.stampFrame(callId, i * 20_000), i * 20_000 + 1000, 80, false);
    }
    const report = buildReport({ seconds: 0.1, elapsedMs: 100, video: { width: 640, height: 360, fps: 30 }, ledger, callsPerReplica: new Map(), usage: [], cliCpuPercent: 0 });
    expect(report.audio).toMatchObject({ streams: 3, outputs: 15, kbps_per_stream: 32, realtime_factor: 3 });
  });

  it('fails a run whose kind got nothing back or had refusals, and shows the codes', () => {
    const silent = buildReport({
      seconds: 1, elapsedMs: 100, video: { width: 640, height: 360, fps: 20 }, ledger: ledgerWith(4, 0), callsPerReplica: new Map(), usage: [], cliCpuPercent: 0,
    });
    expect(silent.video).toMatchObject({ outputs: 0, dropped: 2, latency_ms: null, realtime_factor: 0, kbps_per_stream: 0 });
    expect(reportFailed(silent)).toBe(true);
    expect(renderReport(silent)).toMatch(/\nvideo +1 +2 +0 +2 +0 +- +- +- +0\.00x +0\.0\n/);

    const ledger = ledgerWith(4, 2);
    ledger.recordRefused('a', 'bad_profile');
    const refused = buildReport({ seconds: 1, elapsedMs: 100, video: { width: 640, height: 360, fps: 20 }, ledger, callsPerReplica: new Map(), usage: [], cliCpuPercent: 0 });
    expect(reportFailed(refused)).toBe(true);
    expect(renderReport(refused)).toContain('refused: bad_profile×1');
  });
});
