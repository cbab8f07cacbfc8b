import { ConfigError, loadConfig } from '@commucat/config';
import { MINIMAL_ENV, tomlScratch } from './helpers';

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
  ])('refuses %s=%s', (env, value, key) => {
    let error: unknown;
    try {
      loadConfig({ path: scratch.write(''), env: { ...MINIMAL_ENV, [env]: value } });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((issue) => issue.key)).toEqual([key]);
  });
});
