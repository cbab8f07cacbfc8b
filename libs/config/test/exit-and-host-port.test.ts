import { ConfigError, EX_CONFIG, loadConfigOrExit, parseHostPort } from '@commucat/config';
import { MINIMAL_ENV, tomlScratch } from './helpers';

const scratch = tomlScratch();
afterAll(() => scratch.cleanup());

class ExitCalled extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

describe('loadConfigOrExit', () => {
  it('prints the message to stderr and exits with EX_CONFIG (78)', () => {
    let written = '';
    const run = () =>
      loadConfigOrExit({
        path: scratch.write(''),
        env: { ...MINIMAL_ENV, COMMUCAT_KEEPALIVE: 'abc' },
        stderr: { write: (text: string) => (written += text) },
        exit: (code: number) => {
          throw new ExitCalled(code);
        },
      });
    expect(run).toThrow(new ExitCalled(EX_CONFIG));
    expect(EX_CONFIG).toBe(78);
    expect(written).toBe('invalid config server.keepalive (COMMUCAT_KEEPALIVE): expected a positive integer, got "abc"\n');
  });

  it('returns the config when it is valid', () => {
    const config = loadConfigOrExit({
      path: scratch.write(''),
      env: { ...MINIMAL_ENV },
      exit: () => {
        throw new Error('must not exit');
      },
    });
    expect(config.server.domain).toBe('example.org');
  });
});

describe('parseHostPort', () => {
  it.each([
    ['127.0.0.1:8443', '127.0.0.1', 8443],
    ['0.0.0.0:0', '0.0.0.0', 0],
    ['localhost:65535', 'localhost', 65535],
    ['directory.commucat.svc.cluster.local:7102', 'directory.commucat.svc.cluster.local', 7102],
    ['[::1]:9100', '::1', 9100],
    ['[::]:7101', '::', 7101],
  ])('parses %s', (text, host, port) => {
    expect(parseHostPort(text)).toEqual({ host, port });
  });

  it.each([
    ['localhost', 'port missing'],
    [':8443', 'host missing'],
    ['::1:8443', 'IPv6 addresses need brackets, e.g. [::1]:8443'],
    ['host:65536', 'port must be at most 65535'],
    ['host:http', 'port must be a number'],
    ['host:-1', 'port must be a number'],
    ['bad_host!:80', 'host is not a valid name or IP address'],
    ['[1.2.3.4]:80', 'not an IPv6 address inside brackets'],
    ['[::1]', 'expected [ipv6]:port'],
  ])('rejects %s (%s)', (text, reason) => {
    let caught: unknown;
    try {
      parseHostPort(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).code).toBe('CONFIG_INVALID_VALUE');
    expect((caught as ConfigError).message).toBe(`invalid host:port ${JSON.stringify(text)}: ${reason}`);
  });
});
