import { status } from '@grpc/grpc-js';
import { GrpcStatusError } from '@commucat/service-kit';
import { PROBLEM_CODES, RestError, type ProblemCode } from './problems.js';

/** Trailer in which directory puts its stable error code. */
export const DIRECTORY_ERROR_TRAILER = 'commucat-directory-error';

const BY_STATUS: Partial<Record<status, ProblemCode>> = {
  [status.INVALID_ARGUMENT]: 'bad-request',
  [status.UNAUTHENTICATED]: 'invalid-session',
  [status.PERMISSION_DENIED]: 'forbidden',
  [status.NOT_FOUND]: 'not-found',
  [status.ALREADY_EXISTS]: 'conflict',
  [status.FAILED_PRECONDITION]: 'conflict',
  [status.UNAVAILABLE]: 'unavailable',
  [status.DEADLINE_EXCEEDED]: 'unavailable',
  [status.RESOURCE_EXHAUSTED]: 'rate-limited',
};

/** Directory codes become part of a URI: keep them to lowercase words and dashes. */
export function normaliseErrorCode(code: string): string | undefined {
  const cleaned = code.trim().toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return cleaned.length > 0 && cleaned.length <= 64 ? cleaned : undefined;
}

/**
 * Maps a failed gRPC call to the problem the REST client sees: the status decides the HTTP
 * status and title, the `commucat-directory-error` trailer (if any) the problem type, and the
 * status details the `detail`. Unknown failures become a 500 without internals.
 */
export function problemFromGrpc(err: unknown): RestError {
  if (!GrpcStatusError.is(err)) return RestError.of('internal', 'internal server error');
  const fallback = BY_STATUS[err.code as status];
  if (!fallback) return RestError.of('internal', 'internal server error');
  const { status: httpStatus, title } = PROBLEM_CODES[fallback];
  const trailer = err.metadata.get(DIRECTORY_ERROR_TRAILER)[0];
  const code = (typeof trailer === 'string' ? normaliseErrorCode(trailer) : undefined) ?? fallback;
  const detail = fallback === 'unavailable' ? 'directory is unavailable, retry later' : err.message || undefined;
  return new RestError(httpStatus, code, title, detail);
}
