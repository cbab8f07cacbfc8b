import { runCli } from '../src/run';
import { Capture, closedPort, emptyConfigFile } from './support/cli-capture';

// An empty config file: only the variables each test passes count.
const CONFIG = emptyConfigFile('cli-run');

async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runCli(argv, { stdout, stderr, env: { COMMUCAT_CONFIG: CONFIG, ...env } });
  return { code, stdout: stdout.text, stderr: stderr.text };
}


describe('runCli', () => {
  it('prints usage with every command and the exit codes on --help, exit 0', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    for (const command of ['migrate', 'register-user', 'devices list', 'devices revoke', 'sessions revoke', 'rotate-keys', 'diagnose']) {
      expect(stdout).toContain(command);
    }
    expect(stdout).toMatch(/exit codes:[\s\S]*\n\s+2\s+usage error[\s\S]*\n\s+3\s+a fleet service could not be reached[\s\S]*\n\s+78\s+configuration error/);
  });

  it('has per-command help', async () => {
    const { code, stdout } = await run(['rotate-keys', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/usage: commucat-cli rotate-keys --user <user_id> --out <file>/);
    expect(stdout).toMatch(/mode 0600/);
  });

  it('answers a usage error with exit 2, and with --json a JSON error document on stdout', async () => {
    const text = await run(['devices', 'list']);
    expect(text.code).toBe(2);
    expect(text.stdout).toBe('');
    expect(text.stderr).toMatch(/^error: devices list: --user <user_id> is required\nhint: run `commucat-cli --help`/);
    const json = await run(['devices', 'list', '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: 'USAGE', message: 'devices list: --user <user_id> is required', hint: 'run `commucat-cli --help` for usage' } });
  });

  it('exits 78 with the config problem when the configuration is invalid', async () => {
    const { code, stderr } = await run(['register-user', '--handle', 'x'], { COMMUCAT_DOMAIN: 'example.org', COMMUCAT_DIRECTORY_ADDR: 'not an address' });
    expect(code).toBe(78);
    expect(stderr).toMatch(/fleet\.directory_addr \(COMMUCAT_DIRECTORY_ADDR\)/);
  });

  it('exits 3 and says to start the fleet when the directory is unreachable', async () => {
    const addr = `127.0.0.1:${await closedPort()}`;
    const { code, stdout, stderr } = await run(['devices', 'revoke', 'dev-1'], { COMMUCAT_DOMAIN: 'example.org', COMMUCAT_DIRECTORY_ADDR: addr });
    expect(code).toBe(3);
    expect(stdout).toBe('');
    expect(stderr).toContain(`calling directory RevokeDevice at ${addr}`);
    expect(stderr).toContain(`error: cannot reach directory at ${addr}: connect ECONNREFUSED`);
    expect(stderr).toContain('hint: is the fleet up? run `make up`; otherwise check fleet.directory_addr (COMMUCAT_DIRECTORY_ADDR)');
  });

  it('keeps stderr free of progress lines with --json', async () => {
    const addr = `127.0.0.1:${await closedPort()}`;
    const { code, stdout, stderr } = await run(['sessions', 'revoke', '--user', 'u', '--json'], { COMMUCAT_DOMAIN: 'example.org', COMMUCAT_DIRECTORY_ADDR: addr });
    expect(code).toBe(3);
    expect(stderr).not.toContain('calling directory');
    expect(JSON.parse(stdout).error.code).toBe('UNREACHABLE');
  });

  it('refuses rotate-keys onto an existing file before contacting any service', async () => {
    const { code, stderr } = await run(['rotate-keys', '--user', 'u', '--out', __filename], { COMMUCAT_DOMAIN: 'example.org' });
    expect(code).toBe(1);
    expect(stderr).toMatch(/already exists\nhint: choose another --out path, or pass --force/);
    expect(stderr).not.toContain('calling');
  });
});
