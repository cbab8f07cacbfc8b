import pino from 'pino';
import { Registry } from 'prom-client';
import { CallStatsRecorder } from '../src/call-stats-recorder';
import { summariseCallStats } from '../src/call-stats-summary';

describe('summariseCallStats', () => {
  it('averages bitrate and jitter and keeps the worst loss and rtt, per direction and kind', () => {
    const reports = new Map([
      ['dev-a', new Map([
        ['stats:send', JSON.stringify({ call_id: 'c', direction: 'send', audio: { bitrate: 20000, jitter_ms: 4, packet_loss: 0.01, rtt_ms: 40 } })],
        ['stats:receive', JSON.stringify({ call_id: 'c', direction: 'receive', audio: { bitrate: 18000, packet_loss: 0.05 }, video: { bitrate: 500000, jitter_ms: 12 } })],
        ['transport', JSON.stringify({ call_id: 'c', update: 'consent_keepalive', interval_secs: 15 })],
      ])],
      ['dev-b', new Map([
        ['stats:send', JSON.stringify({ call_id: 'c', direction: 'send', audio: { bitrate: 30000, jitter_ms: 8, packet_loss: 0.02, rtt_ms: 90 } })],
        ['stats:receive', 'not json'],
      ])],
    ]);
    expect([...summariseCallStats(reports)]).toEqual([
      ['receive:audio', { reports: 1, meanBitrate: 18000, maxPacketLoss: 0.05, meanJitterMs: 0, maxRttMs: undefined }],
      ['receive:video', { reports: 1, meanBitrate: 500000, maxPacketLoss: 0, meanJitterMs: 12, maxRttMs: undefined }],
      ['send:audio', { reports: 2, meanBitrate: 25000, maxPacketLoss: 0.02, meanJitterMs: 6, maxRttMs: 90 }],
    ]);
  });

  it('is empty for a call nobody reported on', () => {
    expect(summariseCallStats(new Map()).size).toBe(0);
  });
});

describe('CallStatsRecorder', () => {
  it('observes one value per direction and kind of an ended call and logs the summary', async () => {
    const registry = new Registry();
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => { lines.push(line); } });
    const reports = new Map([['dev-a', new Map([['stats:send', JSON.stringify({ call_id: 'c1', direction: 'send', audio: { bitrate: 24000, packet_loss: 0.03, jitter_ms: 12 } })]])]]);
    await new CallStatsRecorder({ reports: async () => reports }, registry, logger).record('c1');
    const text = await registry.metrics();
    expect(text).toMatch(/commucat_call_bitrate_bits_per_second_sum\{direction="send",kind="audio"\} 24000/);
    expect(text).toMatch(/commucat_call_packet_loss_ratio_sum\{direction="send",kind="audio"\} 0\.03/);
    // Reported in milliseconds, exported in seconds.
    expect(text).toMatch(/commucat_call_jitter_seconds_sum\{direction="send",kind="audio"\} 0\.012\n/);
    expect(JSON.parse(lines[0]!)).toMatchObject({ call_id: 'c1', msg: 'call ended', stats: { 'send:audio': { reports: 1, meanBitrate: 24000 } } });
  });
});
