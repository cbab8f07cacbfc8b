import { parseCommandLine, type ParsedCommandLine } from './args';
import { callSimulate } from './commands/call-simulate';
import { diagnose } from './commands/diagnose';
import { listDevices, revokeDevice } from './commands/devices';
import { federationOutbox } from './commands/federation';
import { runMigrate } from './commands/migrate';
import { registerUser } from './commands/register-user';
import { rotateKeys } from './commands/rotate-keys';
import { smoke } from './commands/smoke';
import { revokeSessions } from './commands/sessions';
import { CliError, ExitCode } from './errors';
import { loadCliConfig } from './load-config';
import { Output, type Writable } from './output';
import { usageFor } from './usage';

export interface RunContext {
  readonly stdout?: Writable;
  readonly stderr?: Writable;
  readonly env?: NodeJS.ProcessEnv;
}

/** The whole CLI behind the entry point: parses, runs one command, returns the exit code. */
export async function runCli(argv: readonly string[], ctx: RunContext = {}): Promise<number> {
  const stdout = ctx.stdout ?? process.stdout;
  const stderr = ctx.stderr ?? process.stderr;
  const env = ctx.env ?? process.env;
  // --json is honoured even when the rest of the command line is wrong.
  let output = new Output(argv.includes('--json'), stdout, stderr);
  try {
    const parsed = parseCommandLine(argv);
    output = new Output(parsed.json, stdout, stderr);
    return await execute(parsed, output, env, stdout);
  } catch (err) {
    const error = err instanceof CliError ? err : new CliError('INTERNAL', err instanceof Error ? err.message : String(err));
    output.error(error);
    return error.exitCode;
  }
}

async function execute(parsed: ParsedCommandLine, output: Output, env: NodeJS.ProcessEnv, stdout: Writable): Promise<number> {
  const { command } = parsed;
  if (command.name === 'help') {
    stdout.write(usageFor(command.topic));
    return ExitCode.ok;
  }
  // The smoke check talks only to the gateway, like a client: it needs no fleet configuration.
  if (command.name === 'smoke') {
    await smoke(output, command);
    return ExitCode.ok;
  }
  const config = loadCliConfig(parsed.config, env);
  switch (command.name) {
    case 'migrate':
      await runMigrate(config, output);
      return ExitCode.ok;
    case 'register-user':
      await registerUser(config, output, command.handle, command.displayName);
      return ExitCode.ok;
    case 'devices-list':
      await listDevices(config, output, command.userId);
      return ExitCode.ok;
    case 'devices-revoke':
      await revokeDevice(config, output, command.deviceId);
      return ExitCode.ok;
    case 'sessions-revoke':
      await revokeSessions(config, output, command.target);
      return ExitCode.ok;
    case 'rotate-keys':
      await rotateKeys(config, output, command);
      return ExitCode.ok;
    case 'diagnose':
      return diagnose(config, output, command.timeoutMs, env);
    case 'federation-outbox':
      await federationOutbox(config, output, command.deadLimit);
      return ExitCode.ok;
    case 'call-simulate':
      return callSimulate(config, output, command);
  }
}
