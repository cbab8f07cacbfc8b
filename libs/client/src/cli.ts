#!/usr/bin/env node
// The `commucat` command. Only `connect` exists: it runs the CCP-1 handshake like the real client
// and prints what the server sends, one JSON line per frame, until Ctrl-C.

import { parseArgs } from 'node:util';
import { type ConnectCommandOptions, runConnectCommand } from './cli/connect-command';

const USAGE = `usage: commucat connect --url https://host:port [--domain D] [--server-static HEX]
                        [--handle NAME] [--state-file PATH] [--insecure] [--ca PEM-FILE]
                        [--ik] [--noise-transport] [--prologue TEXT]

  --server-static  server Noise public key (hex); default: noise_public from /api/server-info
  --domain         the server's domain (ZKP context); default: domain from /api/server-info
  --state-file     keeps the device seed (mode 0600), device id, handle and certificate
  --insecure       accept a self-signed TLS certificate
  --ik             use the IK pattern instead of XK
  --noise-transport  ask for Noise-encrypted frames after the handshake`;

function parseConnectArgs(args: string[]): ConnectCommandOptions {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      url: { type: 'string' },
      domain: { type: 'string' },
      'server-static': { type: 'string' },
      handle: { type: 'string' },
      'state-file': { type: 'string' },
      insecure: { type: 'boolean' },
      ca: { type: 'string' },
      ik: { type: 'boolean' },
      'noise-transport': { type: 'boolean' },
      prologue: { type: 'string' },
    },
  });
  if (values.url === undefined) throw new Error('--url is required');
  const options: ConnectCommandOptions = { url: values.url };
  if (values.domain !== undefined) options.domain = values.domain;
  if (values['server-static'] !== undefined) options.serverStatic = values['server-static'];
  if (values.handle !== undefined) options.handle = values.handle;
  if (values['state-file'] !== undefined) options.stateFile = values['state-file'];
  if (values.ca !== undefined) options.caFile = values.ca;
  if (values.prologue !== undefined) options.prologue = values.prologue;
  options.insecure = values.insecure === true;
  options.ik = values.ik === true;
  options.noiseTransport = values['noise-transport'] === true;
  return options;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command !== 'connect') {
    process.stderr.write(`unknown command ${command}\n${USAGE}\n`);
    return 2;
  }
  let options: ConnectCommandOptions;
  try {
    options = parseConnectArgs(rest);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  process.once('SIGTERM', () => abort.abort());
  return runConnectCommand(options, {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    signal: abort.signal,
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
