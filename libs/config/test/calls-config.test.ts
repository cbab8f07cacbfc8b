import { loadConfig } from '@commucat/config';
import { loadError, MINIMAL_ENV, tomlScratch } from './helpers';

const scratch = tomlScratch();
afterAll(() => scratch.cleanup());

describe('calls config', () => {
  it('defaults to a 60 s ring timeout and 16 participants', () => {
    const config = loadConfig({ path: scratch.write(''), env: { ...MINIMAL_ENV } });
    expect(config.calls).toEqual({ ringTimeoutSeconds: 60, maxParticipants: 16 });
  });

  it('reads [calls] from the file and lets the environment win', () => {
    const path = scratch.write('[calls]\nring_timeout_seconds = 30\nmax_participants = 4\n');
    expect(loadConfig({ path, env: { ...MINIMAL_ENV } }).calls).toEqual({ ringTimeoutSeconds: 30, maxParticipants: 4 });
    const env = { ...MINIMAL_ENV, COMMUCAT_CALL_RING_TIMEOUT_SECONDS: '5', COMMUCAT_CALL_MAX_PARTICIPANTS: '3' };
    expect(loadConfig({ path, env }).calls).toEqual({ ringTimeoutSeconds: 5, maxParticipants: 3 });
  });

  it.each([
    ['COMMUCAT_CALL_RING_TIMEOUT_SECONDS', '0', 'calls.ring_timeout_seconds'],
    ['COMMUCAT_CALL_MAX_PARTICIPANTS', '1', 'calls.max_participants'],
    ['COMMUCAT_MEDIA_OPUS_COMPLEXITY', '11', 'media.opus_complexity'],
    ['COMMUCAT_MEDIA_VP8_CPU_USED', '17', 'media.vp8_cpu_used'],
  ])('refuses %s=%s', (env, value, key) => {
    const error = loadError(() => loadConfig({ path: scratch.write(''), env: { ...MINIMAL_ENV, [env]: value } }));
    expect(error.issues.map((issue) => issue.key)).toEqual([key]);
  });
});

describe('media encoder config', () => {
  it('defaults to the capacity settings (Opus complexity 1, VP8 cpu-used 15) and takes overrides', () => {
    expect(loadConfig({ path: scratch.write(''), env: { ...MINIMAL_ENV } }).media).toEqual({ opusComplexity: 1, vp8CpuUsed: 15 });
    const path = scratch.write('[media]\nopus_complexity = 9\n');
    expect(loadConfig({ path, env: { ...MINIMAL_ENV, COMMUCAT_MEDIA_VP8_CPU_USED: '8' } }).media).toEqual({ opusComplexity: 9, vp8CpuUsed: 8 });
  });
});
