import { runCli } from '../src/run';
import { Capture, closedPort, emptyConfigFile } from './support/cli-capture';

const CONFIG = emptyConfigFile('cli-simulate');


describe('commucat-cli call-simulate', () => {
  it('is listed in --help and has its own help topic', async () => {
    const stdout = new Capture();
    expect(await runCli(['--help'], { stdout, stderr: new Capture(), env: {} })).toBe(0);
    expect(stdout.text).toContain('call-simulate --audio <n> --video <m>');
    const topic = new Capture();
    expect(await runCli(['help', 'call-simulate'], { stdout: topic, stderr: new Capture(), env: {} })).toBe(0);
    expect(topic.text).toMatch(/usage: commucat-cli call-simulate/);
    expect(topic.text).toMatch(/rendezvous hashing/);
  });

  it('exits 3 with a `make up` hint when NATS cannot be reached', async () => {
    const stdout = new Capture();
    const stderr = new Capture();
    const env = { COMMUCAT_CONFIG: CONFIG, COMMUCAT_DOMAIN: 'example.org', COMMUCAT_NATS_URL: `nats://127.0.0.1:${await closedPort()}` };
    const code = await runCli(['call-simulate', '--audio', '1', '--seconds', '1', '--json'], { stdout, stderr, env });
    expect(code).toBe(3);
    const doc = JSON.parse(stdout.text);
    expect(doc.error.code).toBe('UNREACHABLE');
    expect(doc.error.message).toMatch(/cannot connect to NATS/);
    expect(doc.error.hint).toMatch(/make up/);
  });
});
