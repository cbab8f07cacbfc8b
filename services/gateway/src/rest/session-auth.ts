import { createHash, timingSafeEqual } from 'node:crypto';
import type { ValidateSessionRequest, ValidateSessionResponse } from '@commucat/contracts';
import { problemFromGrpc } from './grpc-problems.js';
import type { AnyRequest } from './http-io.js';
import { RestError } from './problems.js';

export interface Session {
  userId: string;
  deviceId: string;
  /** Unix ms. */
  expiresAt: number;
  /** SHA-256 of the token (hex): the per-session rate-limit key, never the token itself. */
  tokenHash: string;
}

export interface SessionValidator {
  validateSession(req: ValidateSessionRequest): Promise<ValidateSessionResponse>;
}

/**
 * The bearer token from `Authorization`: `Bearer <token>` with the prefix in any case, or the
 * bare token (both forms the reference accepts). Undefined when the header is absent.
 */
export function bearerToken(req: AnyRequest): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const value = header.trim();
  const m = /^bearer\s+/i.exec(value);
  return (m ? value.slice(m[0].length) : value).trim();
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** Validates the request's session with directory on every call, so a revocation is immediate. */
export async function authenticateSession(req: AnyRequest, directory: SessionValidator): Promise<Session> {
  const token = bearerToken(req);
  if (token === undefined) throw RestError.of('missing-authorization', 'missing Authorization header');
  if (token.length === 0) throw RestError.of('invalid-session', 'empty session token');
  // Tokens are 64 hex characters; anything far longer is not worth a directory round trip.
  if (token.length > 512) throw RestError.of('invalid-session', 'session not found or expired');
  let session: ValidateSessionResponse;
  try {
    session = await directory.validateSession({ token });
  } catch (err) {
    const problem = problemFromGrpc(err);
    if (problem.status === 404 || problem.status === 400) throw new RestError(401, problem.code, 'Unauthorized', 'session not found or expired');
    throw problem;
  }
  return { userId: session.userId, deviceId: session.deviceId, expiresAt: session.expiresAt, tokenHash: sha256(token).toString('hex') };
}

/** Asks secrets whether a bearer token is a current admin token (secrets keeps the hashes). */
export interface AdminTokenVerifier {
  verifyAdminToken(req: { token: string }): Promise<{ ok: boolean; configured: boolean }>;
}

export type AdminCheck = 'ok' | 'refused' | 'not-configured';

/**
 * Admin bearer check through secrets, so a rotation by any secrets replica is seen by every
 * gateway; the constant-time comparison against the stored salted hashes happens inside secrets.
 * 'not-configured' when no admin token exists at all (the admin routes then do not exist).
 */
export async function checkAdminToken(req: AnyRequest, secrets: AdminTokenVerifier): Promise<AdminCheck> {
  const token = bearerToken(req) ?? '';
  // Tokens are 64 hex characters; anything far longer is not worth a round trip.
  const { ok, configured } = await secrets.verifyAdminToken({ token: token.length > 512 ? '' : token });
  if (!configured) return 'not-configured';
  return ok && token.length > 0 ? 'ok' : 'refused';
}

/**
 * Local admin bearer check against one fixed token (kept for tools and tests that run without
 * secrets). Both sides are hashed first so timingSafeEqual compares equal lengths and the
 * comparison time says nothing about the configured token.
 */
export function isAdminToken(req: AnyRequest, configured: string): boolean {
  const token = bearerToken(req);
  if (!token) return false;
  return timingSafeEqual(sha256(token), sha256(configured));
}
