import { readFileSync } from 'node:fs';
import { ClientError, runSmokeCheck, SmokeCheckError } from '@commucat/client';
import { CliError } from '../errors';
import type { Output } from '../output';
import { renderTable } from '../table';

export interface SmokeOptions {
  readonly gateway: string;
  /** PEM file the gateway's certificate chains to. */
  readonly caFile?: string;
  /** Accept any TLS certificate (a self-signed in-cluster gateway). */
  readonly insecure: boolean;
  readonly timeoutMs: number;
}

// Client failures that mean "nobody answered" rather than "the server said no".
const UNREACHABLE_CODES = new Set(['Network', 'Tls', 'Timeout', 'ConnectionClosed']);

/**
 * Two throw-away devices sign up through the gateway, join one channel, and a message goes from
 * one to the other: what the Helm test pod and a freshly deployed cluster need to prove.
 */
export async function smoke(output: Output, options: SmokeOptions): Promise<void> {
  const ca = options.caFile === undefined ? undefined : readCa(options.caFile);
  output.progress(`smoke check against ${options.gateway}`);
  try {
    const result = await runSmokeCheck({
      url: options.gateway,
      timeoutMs: options.timeoutMs,
      ...(ca === undefined ? {} : { ca }),
      ...(options.insecure ? { rejectUnauthorized: false } : {}),
    });
    const document = { ok: true, gateway: options.gateway, ...result };
    const text = `smoke check passed: ${result.sender} → ${result.receiver} on channel ${result.channel} (domain ${result.domain})\n${renderTable(
      ['step', 'ms'],
      result.steps.map((s) => [s.step, s.ms.toFixed(1)]),
    )}`;
    output.result(document, text);
  } catch (error) {
    if (!(error instanceof SmokeCheckError)) throw error;
    const cause = error.cause;
    const unreachable = cause instanceof ClientError && UNREACHABLE_CODES.has(cause.code) && error.step === 'server-info';
    throw new CliError(unreachable ? 'UNREACHABLE' : 'REFUSED', `smoke check failed at ${error.message}`, hintFor(error), { cause: error });
  }
}

function readCa(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new CliError('USAGE', `cannot read --ca ${file}: ${(error as Error).message}`);
  }
}

function hintFor(error: SmokeCheckError): string {
  const cause = error.cause;
  if (cause instanceof ClientError && cause.code === 'Tls') return 'pass --ca <gateway certificate PEM>, or --insecure for a self-signed in-cluster gateway';
  if (error.step === 'server-info') return 'is the gateway up and is --gateway its https:// origin (e.g. https://commucat-gateway:8443)?';
  return 'see the step above; the gateway and router logs carry the trace id of each frame';
}
