import { parseCommandLine } from '../src/args';
import { CliError, ExitCode } from '../src/errors';

function usageFailure(argv: string[]): CliError {
  try {
    parseCommandLine(argv);
  } catch (err) {
    if (err instanceof CliError) return err;
    throw err;
  }
  throw new Error(`expected ${argv.join(' ')} to be refused`);
}

describe('parseCommandLine', () => {
  it('shows help for no arguments, -h, --help and `help <topic>`', () => {
    expect(parseCommandLine([]).command).toEqual({ name: 'help' });
    expect(parseCommandLine(['-h']).command).toEqual({ name: 'help' });
    expect(parseCommandLine(['help', 'diagnose']).command).toEqual({ name: 'help', topic: 'diagnose' });
    expect(parseCommandLine(['rotate-keys', '--help']).command).toEqual({ name: 'help', topic: 'rotate-keys' });
    expect(parseCommandLine(['devices', '--help']).command).toEqual({ name: 'help', topic: 'devices' });
  });

  it('parses register-user in flag and positional (reference) form', () => {
    expect(parseCommandLine(['register-user', '--handle', 'alice', '--display-name', 'Alice A', '--json'])).toEqual({
      json: true,
      command: { name: 'register-user', handle: 'alice', displayName: 'Alice A' },
    });
    expect(parseCommandLine(['register-user', 'bob', 'Bob B']).command).toEqual({ name: 'register-user', handle: 'bob', displayName: 'Bob B' });
    expect(parseCommandLine(['register-user', '--handle', 'carol']).command).toEqual({ name: 'register-user', handle: 'carol' });
    expect(usageFailure(['register-user']).message).toMatch(/--handle is required/);
    expect(usageFailure(['register-user', '--handle', 'a', 'b']).message).toMatch(/unexpected argument "b"/);
    expect(usageFailure(['register-user', 'a', 'b', 'c']).message).toMatch(/unexpected argument "c"/);
  });

  it('parses the devices and sessions subcommands', () => {
    expect(parseCommandLine(['devices', 'list', '--user', 'u1']).command).toEqual({ name: 'devices-list', userId: 'u1' });
    expect(parseCommandLine(['devices', 'revoke', 'dev-1', '--json'])).toEqual({ json: true, command: { name: 'devices-revoke', deviceId: 'dev-1' } });
    expect(parseCommandLine(['sessions', 'revoke', '--device', 'd']).command).toEqual({ name: 'sessions-revoke', target: { deviceId: 'd' } });
    expect(parseCommandLine(['sessions', 'revoke', '--user', 'u']).command).toEqual({ name: 'sessions-revoke', target: { userId: 'u' } });
    expect(parseCommandLine(['federation', 'outbox']).command).toEqual({ name: 'federation-outbox', deadLimit: 20 });
    expect(parseCommandLine(['federation', 'outbox', '--dead', '5', '--json'])).toEqual({ json: true, command: { name: 'federation-outbox', deadLimit: 5 } });
  });

  it('refuses a federation subcommand without a subcommand or with a bad --dead', () => {
    expect(usageFailure(['federation']).message).toMatch(/missing subcommand \(outbox\)/);
    expect(usageFailure(['federation', 'outbox', '--dead', '0']).message).toMatch(/--dead must be a whole number/);
    expect(usageFailure(['federation', 'outbox', '--dead', 'x']).message).toMatch(/--dead must be a whole number/);
    expect(usageFailure(['federation', 'purge']).message).toMatch(/unknown command "federation purge"/);
  });

  it('refuses incomplete or ambiguous subcommands with a usage error (exit 2)', () => {
    const missing = usageFailure(['devices']);
    expect(missing.exitCode).toBe(ExitCode.usage);
    expect(missing.message).toMatch(/missing subcommand \(list \| revoke\)/);
    expect(usageFailure(['devices', 'list']).message).toMatch(/--user <user_id> is required/);
    expect(usageFailure(['devices', 'revoke']).message).toMatch(/<device_id> is required/);
    expect(usageFailure(['devices', 'purge']).message).toMatch(/unknown command "devices purge"/);
    expect(usageFailure(['sessions', 'revoke']).message).toMatch(/exactly one of --device/);
    expect(usageFailure(['sessions', 'revoke', '--device', 'd', '--user', 'u']).message).toMatch(/exactly one of --device/);
  });

  it('parses rotate-keys and insists on --user and --out', () => {
    expect(parseCommandLine(['rotate-keys', '--user', 'u', '--out', '/tmp/k.json']).command).toEqual({ name: 'rotate-keys', userId: 'u', out: '/tmp/k.json', force: false });
    expect(parseCommandLine(['rotate-keys', '--user', 'u', '--out', 'k', '--device', 'd1', '--force']).command).toEqual({
      name: 'rotate-keys', userId: 'u', out: 'k', force: true, deviceId: 'd1',
    });
    expect(parseCommandLine(['rotate-keys', 'd2', '--user', 'u', '--out', 'k']).command).toMatchObject({ deviceId: 'd2' });
    expect(usageFailure(['rotate-keys', '--user', 'u']).message).toMatch(/--out <path>/);
    expect(usageFailure(['rotate-keys', '--out', 'k']).message).toMatch(/--user <user_id> is required/);
    expect(usageFailure(['rotate-keys', '--handle', 'h', '--out', 'k']).message).toMatch(/--handle is not supported/);
  });

  it('parses diagnose with a default and a custom timeout', () => {
    expect(parseCommandLine(['diagnose']).command).toEqual({ name: 'diagnose', timeoutMs: 3000 });
    expect(parseCommandLine(['diagnose', '--timeout', '500', '--config', '/etc/c.toml'])).toEqual({
      json: false, config: '/etc/c.toml', command: { name: 'diagnose', timeoutMs: 500 },
    });
    expect(usageFailure(['diagnose', '--timeout', 'soon']).message).toMatch(/--timeout must be a positive number/);
    expect(usageFailure(['diagnose', '--timeout', '0']).message).toMatch(/--timeout must be a positive number/);
  });

  it('names the command when a flag is unknown or lacks its value', () => {
    expect(usageFailure(['migrate', '--bogus']).message).toMatch(/^migrate: Unknown option '--bogus'/);
    expect(usageFailure(['devices', 'list', '--user']).message).toMatch(/^devices list: .*--user/);
    expect(usageFailure(['frobnicate']).message).toBe('unknown command "frobnicate"');
  });
});

describe('parseCommandLine call-simulate', () => {
  it('takes stream counts with defaults of 10 s and 640x360 at 30 fps', () => {
    expect(parseCommandLine(['call-simulate', '--audio', '10', '--video', '1'])).toEqual({
      json: false,
      command: { name: 'call-simulate', audioStreams: 10, videoStreams: 1, seconds: 10, width: 640, height: 360, fps: 30 },
    });
    expect(parseCommandLine(['call-simulate', '--video', '2', '--seconds', '2.5', '--width', '320', '--height', '180', '--fps', '24', '--json'])).toEqual({
      json: true,
      command: { name: 'call-simulate', audioStreams: 0, videoStreams: 2, seconds: 2.5, width: 320, height: 180, fps: 24 },
    });
    expect(parseCommandLine(['call-simulate', '--help']).command).toEqual({ name: 'help', topic: 'call-simulate' });
  });

  it('needs at least one stream and whole, bounded counts', () => {
    expect(usageFailure(['call-simulate']).message).toMatch(/at least one stream/);
    expect(usageFailure(['call-simulate', '--audio', '0', '--video', '0']).message).toMatch(/at least one stream/);
    expect(usageFailure(['call-simulate', '--audio', '1.5']).message).toMatch(/--audio must be a whole number from 0 to 500, got "1.5"/);
    expect(usageFailure(['call-simulate', '--audio=-1']).message).toMatch(/--audio must be a whole number/);
    expect(usageFailure(['call-simulate', '--video', '501']).message).toMatch(/--video must be a whole number from 0 to 500/);
    expect(usageFailure(['call-simulate', '--audio', '']).message).toMatch(/--audio must be a whole number/);
    expect(usageFailure(['call-simulate', '--audio', '1', 'extra']).message).toMatch(/unexpected argument "extra"/);
  });

  it('refuses bad durations, odd or oversized pictures and frame rates a profile cannot carry', () => {
    const bad = (...flags: string[]) => usageFailure(['call-simulate', '--video', '1', ...flags]).message;
    expect(bad('--seconds', '0')).toMatch(/--seconds must be a number above 0/);
    expect(bad('--seconds', 'ten')).toMatch(/--seconds must be a number above 0/);
    expect(bad('--seconds', '3601')).toMatch(/at most 3600/);
    expect(bad('--width', '641')).toMatch(/--width and --height must be even, got 641x360/);
    expect(bad('--height', '8')).toMatch(/--height must be a whole number from 16 to 2160/);
    expect(bad('--width', '1280', '--height', '720')).toMatch(/1280x720 I420 frame is 1382400 bytes; NATS carries at most 1 MiB/);
    expect(bad('--fps', '0')).toMatch(/--fps must be a whole number from 1 to 60/);
    expect(bad('--fps', '61')).toMatch(/--fps must be a whole number from 1 to 60/);
    expect(parseCommandLine(['call-simulate', '--video', '1', '--width', '960', '--height', '540']).command).toMatchObject({ width: 960, height: 540 });
  });
});
