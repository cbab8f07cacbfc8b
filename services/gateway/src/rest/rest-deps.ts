import type { DirectoryServiceClient, FederationServiceClient } from '@commucat/contracts';
import { callUnary, type UnaryMethodName, type UnaryRequest, type UnaryResponse } from '@commucat/service-kit';
import type { Logger } from 'pino';
import { problemFromGrpc } from './grpc-problems.js';
import type { SecurityStats } from './security-stats.js';
import type { AdminTokenVerifier } from './session-auth.js';

export interface DeviceRotationSettings {
  enabled: boolean;
  minIntervalSeconds: number;
  proofTtlSeconds: number;
}

/** What the REST routes need from the gateway process. */
export interface RestDeps {
  directory: DirectoryServiceClient;
  /** Receives POST /federation/events; absent: that route answers 503. */
  federation?: FederationServiceClient;
  domain: string;
  /** Noise prologue (advertised by /api/p2p/assist). */
  prologue: Buffer;
  keepaliveSeconds: number;
  pairingTtlSeconds: number;
  /** `admin.token`; when unset /metrics and /api/security-stats do not exist (404). */
  adminToken?: string;
  /** Admin tokens verified by secrets (rotating, hashed there); when set, it replaces adminToken. */
  adminTokens?: AdminTokenVerifier;
  /** rotation.device.*; absent or disabled: POST /api/device/csr does not exist (404). */
  deviceRotation?: DeviceRotationSettings;
  serverInfo(): Record<string, unknown>;
  isReady(): boolean;
  metrics: { contentType: string; text(): Promise<string> };
  security: SecurityStats;
  logger: Logger;
}

const DIRECTORY_DEADLINE_MS = 5000;

/** One directory RPC; a failure becomes the matching problem (see grpc-problems.ts). */
export async function directoryCall<M extends UnaryMethodName<DirectoryServiceClient>>(
  deps: RestDeps,
  method: M,
  request: UnaryRequest<DirectoryServiceClient, M>,
): Promise<UnaryResponse<DirectoryServiceClient, M>> {
  try {
    return await callUnary(deps.directory, method, request, { deadlineMs: DIRECTORY_DEADLINE_MS, waitForReady: true });
  } catch (err) {
    const problem = problemFromGrpc(err);
    if (problem.status >= 500) deps.logger.warn({ method, err: (err as Error).message }, 'directory call failed');
    throw problem;
  }
}
