import { Metadata, status } from '@grpc/grpc-js';
import { GrpcStatusError } from '@commucat/service-kit';
import { problemFromGrpc, normaliseErrorCode } from '../src/rest/grpc-problems';
import { RestError, problemType } from '../src/rest/problems';
import { bearerToken, isAdminToken } from '../src/rest/session-auth';
import type { AnyRequest } from '../src/rest/http-io';

const grpcError = (code: status, message: string, trailer?: string) => {
  const md = new Metadata();
  if (trailer !== undefined) md.set('commucat-directory-error', trailer);
  return new GrpcStatusError(code, message, md);
};

describe('gRPC status → problem', () => {
  test.each([
    [status.INVALID_ARGUMENT, 400, 'BadRequest', 'bad-request'],
    [status.UNAUTHENTICATED, 401, 'Unauthorized', 'invalid-session'],
    [status.PERMISSION_DENIED, 403, 'Forbidden', 'forbidden'],
    [status.NOT_FOUND, 404, 'NotFound', 'not-found'],
    [status.ALREADY_EXISTS, 409, 'Conflict', 'conflict'],
    [status.FAILED_PRECONDITION, 409, 'Conflict', 'conflict'],
    [status.UNAVAILABLE, 503, 'ServiceUnavailable', 'unavailable'],
    [status.DEADLINE_EXCEEDED, 503, 'ServiceUnavailable', 'unavailable'],
  ])('status %i → HTTP %i', (code, http, title, fallback) => {
    const p = problemFromGrpc(grpcError(code, 'why'));
    expect(p.body()).toMatchObject({ status: http, title, type: problemType(fallback) });
  });

  test('the directory trailer becomes the problem type; the details become the detail', () => {
    const p = problemFromGrpc(grpcError(status.FAILED_PRECONDITION, 'pairing code already used', 'PAIRING_CODE_REDEEMED'));
    expect(p.body()).toEqual({ type: 'https://commucat.dev/problems/pairing-code-redeemed', title: 'Conflict', status: 409, detail: 'pairing code already used' });
  });

  test('internal errors and unknown throwables reveal nothing', () => {
    expect(problemFromGrpc(grpcError(status.INTERNAL, 'pg: relation "x" does not exist')).body()).toEqual({ type: problemType('internal'), title: 'InternalError', status: 500, detail: 'internal server error' });
    expect(problemFromGrpc(new Error('boom')).status).toBe(500);
    expect(problemFromGrpc(grpcError(status.UNAVAILABLE, '10.0.0.3:7102 connection refused')).detail).toBe('directory is unavailable, retry later');
  });

  test('trailer codes are normalised for use in a URI', () => {
    expect(normaliseErrorCode('Device_Not_Found')).toBe('device-not-found');
    expect(normaliseErrorCode('  ')).toBeUndefined();
    expect(normaliseErrorCode('x'.repeat(65))).toBeUndefined();
  });

  test('RestError omits detail when there is none', () => {
    expect(RestError.of('not-found').body()).toEqual({ type: problemType('not-found'), title: 'NotFound', status: 404 });
  });
});

describe('Authorization header', () => {
  const req = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization } }) as unknown as AnyRequest;

  test('Bearer prefix in any case, or the bare token', () => {
    expect(bearerToken(req('Bearer abc'))).toBe('abc');
    expect(bearerToken(req('bearer abc'))).toBe('abc');
    expect(bearerToken(req('BEARER   abc  '))).toBe('abc');
    expect(bearerToken(req('abc'))).toBe('abc');
    expect(bearerToken(req(''))).toBe('');
    expect(bearerToken(req())).toBeUndefined();
  });

  test('the admin token must match exactly', () => {
    expect(isAdminToken(req('Bearer s3cret'), 's3cret')).toBe(true);
    expect(isAdminToken(req('s3cret'), 's3cret')).toBe(true);
    expect(isAdminToken(req('Bearer s3cret2'), 's3cret')).toBe(false);
    expect(isAdminToken(req('Bearer s3cre'), 's3cret')).toBe(false);
    expect(isAdminToken(req(), 's3cret')).toBe(false);
  });
});
