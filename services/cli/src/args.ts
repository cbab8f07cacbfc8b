import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { CallSimulateOptions } from './commands/call-simulate';
import type { SmokeOptions } from './commands/smoke';
import { usageError } from './errors';

/** Flags every command takes. */
export interface CommonOptions {
  /** One JSON document on stdout instead of text; no progress on stderr. */
  readonly json: boolean;
  /** commucat.toml to read instead of $COMMUCAT_CONFIG / ./commucat.toml. */
  readonly config?: string;
}

export type Command =
  | { readonly name: 'help'; readonly topic?: string }
  | { readonly name: 'migrate' }
  | { readonly name: 'register-user'; readonly handle: string; readonly displayName?: string }
  | { readonly name: 'devices-list'; readonly userId: string }
  | { readonly name: 'devices-revoke'; readonly deviceId: string }
  | { readonly name: 'sessions-revoke'; readonly target: { readonly deviceId: string } | { readonly userId: string } }
  | { readonly name: 'rotate-keys'; readonly userId: string; readonly deviceId?: string; readonly out: string; readonly force: boolean }
  | { readonly name: 'diagnose'; readonly timeoutMs: number }
  | { readonly name: 'federation-outbox'; readonly deadLimit: number }
  | ({ readonly name: 'call-simulate' } & CallSimulateOptions)
  | ({ readonly name: 'smoke' } & SmokeOptions);

export type ParsedCommandLine = CommonOptions & { readonly command: Command };

type Options = NonNullable<ParseArgsConfig['options']>;

const COMMON: Options = {
  json: { type: 'boolean' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

function parse(args: string[], options: Options, where: string): Parsed {
  try {
    const { values, positionals } = parseArgs({ args, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
    return { values: values as Parsed['values'], positionals };
  } catch (err) {
    // parseArgs' messages name the flag ("Unknown option '--x'"); add the command for context.
    throw usageError(`${where}: ${(err as Error).message.split('\n')[0]}`);
  }
}

function str(parsed: Parsed, name: string): string | undefined {
  const value = parsed.values[name];
  if (typeof value !== 'string') return undefined;
  return value;
}

function nonEmpty(value: string | undefined, what: string, where: string): string {
  if (value === undefined || value.trim() === '') throw usageError(`${where}: ${what} is required`);
  return value.trim();
}

function noMorePositionals(parsed: Parsed, allowed: number, where: string): void {
  if (parsed.positionals.length > allowed) throw usageError(`${where}: unexpected argument ${JSON.stringify(parsed.positionals[allowed])}`);
}

function common(parsed: Parsed): CommonOptions {
  const config = str(parsed, 'config');
  return { json: parsed.values.json === true, ...(config !== undefined ? { config } : {}) };
}

const DEFAULT_DIAGNOSE_TIMEOUT_MS = 3000;
const SIMULATE_DEFAULTS = { seconds: 10, width: 640, height: 360, fps: 30 } as const;
const MAX_SIMULATED_STREAMS = 500;
const MAX_SIMULATED_SECONDS = 3600;
// NATS carries 1 MiB per message by default; leave room for the MediaInput's other fields.
const MAX_I420_FRAME_BYTES = 1_000_000;
const DEFAULT_DEAD_LETTERS = 20;
const DEFAULT_SMOKE_TIMEOUT_MS = 10_000;

/** Turns argv (without node and the script) into one command; throws CliError('USAGE'). */
export function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    return { json: false, command: { name: 'help', ...(rest[0] !== undefined ? { topic: rest[0] } : {}) } };
  }
  // Subcommand groups: `devices list`, `sessions revoke`, `federation outbox`.
  const groups: Record<string, string> = { devices: 'list | revoke', sessions: 'revoke', federation: 'outbox' };
  if (first in groups) {
    const [sub, ...tail] = rest;
    if (sub === undefined || sub.startsWith('-')) {
      if (sub === '-h' || sub === '--help') return { json: false, command: { name: 'help', topic: first } };
      throw usageError(`${first}: missing subcommand (${groups[first]})`);
    }
    return parseCommand(`${first} ${sub}`, tail);
  }
  return parseCommand(first, rest);
}

function parseCommand(name: string, args: string[]): ParsedCommandLine {
  switch (name) {
    case 'migrate': {
      const parsed = parse(args, {}, name);
      if (parsed.values.help) return { json: false, command: { name: 'help', topic: name } };
      noMorePositionals(parsed, 0, name);
      return { ...common(parsed), command: { name: 'migrate' } };
    }
    case 'register-user': {
      const parsed = parse(args, { handle: { type: 'string' }, 'display-name': { type: 'string' } }, name);
      if (parsed.values.help) return { json: false, command: { name: 'help', topic: name } };
      // The reference took `<handle> [display_name]` positionally; both forms work.
      const handle = nonEmpty(str(parsed, 'handle') ?? parsed.positionals[0], '--handle', name);
      const positionalForm = str(parsed, 'handle') === undefined;
      const displayName = str(parsed, 'display-name') ?? (positionalForm ? parsed.positionals[1] : undefined);
      noMorePositionals(parsed, positionalForm ? 2 : 0, name);
      return { ...common(parsed), command: { name: 'register-user', handle, ...(displayName !== undefined ? { displayName } : {}) } };
    }
    case 'devices list': {
      const parsed = parse(args, { user: { type: 'string' } }, name);
      if (parsed.values.help) return { json: false, command: { name: 'help', topic: 'devices' } };
      noMorePositionals(parsed, 0, name);
      return { ...common(parsed), command: { name: 'devices-list', userId: nonEmpty(str(parsed, 'user'), '--user <user_id>', name) } };
    }
    case 'devices revoke': {
      const parsed = parse(args, { device: { type: 'string' } }, name);
      if (parsed.values.help) return { json: false, command: { name: 'help', topic: 'devices' } };
      noMorePositionals(parsed, 1, name);
      const deviceId = nonEmpty(parsed.positionals[0] ?? str(parsed, 'device'), '<device_id>', name);
      return { ...common(parsed), command: { name: 'devices-revoke', deviceId } };
    }
    case 'sessions revoke': {
      const parsed = parse(args, { device: { type: 'string' }, user: { type: 'string' } }, name);
      if (parsed.values.help) return { json: false, command: { name: 'help', topic: 'sessions' } };
      noMorePositionals(parsed, 0, name);
      const device = str(parsed, 'device');
      const user = str(parsed, 'user');
      if ((device === undefined) === (user === undefined)) throw usageError(`${name}: give exactly one of --device <device_id> or --user <user_id>`);
      const target = device !== undefined ? { deviceId: nonEmpty(device, '--device', name) } : { userId: nonEmpty(user, '--user', name) };
      return { ...common(parsed), command: { name: 'sessions-revoke', target } };
    }
    case 'rotate-keys': {
      const parsed = parse(
        args,
        { user: { type: 'string' }, handle: { type: 'string' }, device: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' } },
        name,
      );
      if (parsed.values.help) return { json: false, command: { name: 'help', topic: name } };
      if (str(parsed, 'handle') !== undefined) {
        throw usageError(`${name}: --handle is not supported (the directory offers no handle lookup); pass --user <user_id>`);
      }
      noMorePositionals(parsed, 1, name);
      const userId = nonEmpty(str(parsed, 'user'), '--user <user_id>', name);
      const out = nonEmpty(str(parsed, 'out'), '--out <path> (the private key goes only there)', name);
      const deviceId = str(parsed, 'device') ?? parsed.positionals[0];
      if (deviceId !== undefined && deviceId.trim() === '') throw usageError(`${name}: --device must not be empty`);
      return {
        ...common(parsed),
        command: { name: 'rotate-keys', userId, out, force: parsed.values.force === true, ...(deviceId !== undefined ? { deviceId: deviceId.trim() } : {}) },
      };
    }
    case 'diagnose': {
      const parsed = parse(args, { timeout: { type: 'string' } }, name);
      if (parsed.values.help) return { json: false, command: { name: 'help', topic: name } };
      noMorePositionals(parsed, 0, name);
      const raw = str(parsed, 'timeout');
      const timeoutMs = raw === undefined ? DEFAULT_DIAGNOSE_TIMEOUT_MS : Number(raw);
      if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw usageError(`${name}: --timeout must be a positive number of milliseconds, got ${JSON.stringify(raw)}`);
      return { ...common(parsed), command: { name: 'diagnose', timeoutMs } };
    }
    case 'federation outbox': {
      const parsed = parse(args, { dead: { type: 'string' } }, name);
      if (parsed.values.help) return { json: false, command: { name: 'help', topic: 'federation' } };
      noMorePositionals(parsed, 0, name);
      const raw = str(parsed, 'dead');
      const deadLimit = raw === undefined ? DEFAULT_DEAD_LETTERS : Number(raw);
      if (!Number.isInteger(deadLimit) || deadLimit <= 0 || deadLimit > 1000) throw usageError(`${name}: --dead must be a whole number from 1 to 1000, got ${JSON.stringify(raw)}`);
      return { ...common(parsed), command: { name: 'federation-outbox', deadLimit } };
    }
    case 'call-simulate': {
      const parsed = parse(
        args,
        { audio: { type: 'string' }, video: { type: 'string' }, seconds: { type: 'string' }, width: { type: 'string' }, height: { type: 'string' }, fps: { type: 'string' } },
        name,
      );
      if (parsed.values.help) return { json: false, command: { name: 'help', topic: name } };
      noMorePositionals(parsed, 0, name);
      return { ...common(parsed), command: { name: 'call-simulate', ...parseSimulation(parsed, name) } };
    }
    case 'smoke': {
      const parsed = parse(args, { gateway: { type: 'string' }, ca: { type: 'string' }, insecure: { type: 'boolean' }, timeout: { type: 'string' } }, name);
      if (parsed.values.help) return { json: false, command: { name: 'help', topic: name } };
      noMorePositionals(parsed, 0, name);
      const gateway = nonEmpty(str(parsed, 'gateway') ?? process.env.COMMUCAT_GATEWAY_URL, '--gateway <https://host:port>', name);
      if (!/^https:\/\/[^/]+(\/connect)?\/?$/.test(gateway)) throw usageError(`${name}: --gateway must be https://host:port (optionally ending in /connect), got ${JSON.stringify(gateway)}`);
      const ca = str(parsed, 'ca');
      const insecure = parsed.values.insecure === true;
      if (ca !== undefined && insecure) throw usageError(`${name}: give --ca <file> or --insecure, not both`);
      const timeoutMs = wholeNumber(parsed, 'timeout', 100, 600_000, DEFAULT_SMOKE_TIMEOUT_MS, name);
      return { ...common(parsed), command: { name: 'smoke', gateway, insecure, timeoutMs, ...(ca !== undefined ? { caFile: ca } : {}) } };
    }
    default:
      throw usageError(`unknown command ${JSON.stringify(name)}`);
  }
}

/** A whole number in [min, max] from flag `name`, or `fallback` when the flag is absent. */
function wholeNumber(parsed: Parsed, name: string, min: number, max: number, fallback: number, where: string): number {
  const raw = str(parsed, name);
  if (raw === undefined) return fallback;
  const value = raw.trim() === '' ? NaN : Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw usageError(`${where}: --${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return value;
}

function parseSimulation(parsed: Parsed, where: string) {
  const audioStreams = wholeNumber(parsed, 'audio', 0, MAX_SIMULATED_STREAMS, 0, where);
  const videoStreams = wholeNumber(parsed, 'video', 0, MAX_SIMULATED_STREAMS, 0, where);
  if (audioStreams + videoStreams === 0) throw usageError(`${where}: give --audio <n> and/or --video <m> (at least one stream)`);
  const rawSeconds = str(parsed, 'seconds');
  const seconds = rawSeconds === undefined ? SIMULATE_DEFAULTS.seconds : rawSeconds.trim() === '' ? NaN : Number(rawSeconds);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_SIMULATED_SECONDS) {
    throw usageError(`${where}: --seconds must be a number above 0 and at most ${MAX_SIMULATED_SECONDS}, got ${JSON.stringify(rawSeconds)}`);
  }
  // I420 frames here are 4:2:0 with whole chroma samples, as cameras and libvpx produce them.
  const width = wholeNumber(parsed, 'width', 16, 3840, SIMULATE_DEFAULTS.width, where);
  const height = wholeNumber(parsed, 'height', 16, 2160, SIMULATE_DEFAULTS.height, where);
  if (width % 2 !== 0 || height % 2 !== 0) throw usageError(`${where}: --width and --height must be even, got ${width}x${height}`);
  const frameBytes = width * height * 1.5;
  if (frameBytes > MAX_I420_FRAME_BYTES) {
    throw usageError(`${where}: a ${width}x${height} I420 frame is ${frameBytes} bytes; NATS carries at most 1 MiB per message (use at most 960x540)`);
  }
  // The profile's frame_rate is a u8 (spec calls-media §2.3).
  const fps = wholeNumber(parsed, 'fps', 1, 60, SIMULATE_DEFAULTS.fps, where);
  return { audioStreams, videoStreams, seconds, width, height, fps };
}
