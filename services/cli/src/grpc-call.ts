import { status } from '@grpc/grpc-js';
import { callUnary, createGrpcClient, type GrpcClientConstructor, GrpcStatusError, statusName, type UnaryMethodName, type UnaryRequest, type UnaryResponse } from '@commucat/service-kit';
import { CliError } from './errors';
import type { Output } from './output';

/** The trailer where directory puts its stable error code (directory.proto). */
const DIRECTORY_ERROR_TRAILER = 'commucat-directory-error';

export const RPC_DEADLINE_MS = 10_000;

export interface FleetPeer {
  /** Service name for messages, e.g. `directory`. */
  readonly service: string;
  readonly address: string;
  /** The config key and variable the address comes from, named in hints. */
  readonly configKey: string;
  readonly envVar: string;
}

/** grpc-js' connection failure text without its boilerplate: `connect ECONNREFUSED 127.0.0.1:7102`. */
export function tidyGrpcDetails(details: string): string {
  return details
    .replace(/^No connection established\. Last error: (Error: )?/, '')
    .replace(/\.?\s*Resolution note: ?$/, '')
    .trim();
}

/** Maps a failed call to an error that says what happened and what to try. */
export function describeRpcFailure(peer: FleetPeer, method: string, err: unknown): CliError {
  if (!GrpcStatusError.is(err)) return new CliError('INTERNAL', `${peer.service} ${method} failed: ${(err as Error).message}`, undefined, { cause: err });
  const serverCode = err.metadata.get(DIRECTORY_ERROR_TRAILER)[0];
  const detail = `${err.message}${serverCode !== undefined ? ` (${String(serverCode)})` : ''}`;
  switch (err.code) {
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
      return new CliError(
        'UNREACHABLE',
        `cannot reach ${peer.service} at ${peer.address}: ${tidyGrpcDetails(err.message)}`,
        `is the fleet up? run \`make up\`; otherwise check ${peer.configKey} (${peer.envVar})`,
        { cause: err },
      );
    case status.UNIMPLEMENTED:
      return new CliError('UNIMPLEMENTED', `${peer.service} at ${peer.address} does not implement ${method}`, `deploy a ${peer.service} build that has ${method}`, { cause: err });
    case status.NOT_FOUND:
      return new CliError('NOT_FOUND', `${peer.service} ${method}: ${detail}`, undefined, { cause: err });
    case status.ALREADY_EXISTS:
      return new CliError('ALREADY_EXISTS', `${peer.service} ${method}: ${detail}`, undefined, { cause: err });
    default:
      return new CliError('REFUSED', `${peer.service} ${method} failed with ${statusName(err.code)}: ${detail}`, undefined, { cause: err });
  }
}

/** One unary call on a fresh channel, closed afterwards; the CLI makes one or two calls per run. */
/** `registerUser` → `RegisterUser`, the name proto files and server logs use. */
const rpcName = (method: string): string => method.charAt(0).toUpperCase() + method.slice(1);

export async function callPeer<C extends { close(): void }, M extends UnaryMethodName<C>>(
  ClientCtor: GrpcClientConstructor<C>,
  peer: FleetPeer,
  method: M,
  request: UnaryRequest<C, M>,
  output: Output,
): Promise<UnaryResponse<C, M>> {
  output.progress(`calling ${peer.service} ${rpcName(method)} at ${peer.address} …`);
  const client = createGrpcClient(ClientCtor, peer.address);
  try {
    return await callUnary(client, method, request, { deadlineMs: RPC_DEADLINE_MS });
  } catch (err) {
    throw describeRpcFailure(peer, rpcName(method), err);
  } finally {
    client.close();
  }
}
