import { Metadata, type ServiceError, status } from '@grpc/grpc-js';

/** Stable codes for runtime misuse and lifecycle failures. */
export type ServiceKitErrorCode =
  | 'RUNTIME_ALREADY_STARTED'
  | 'GRPC_NOT_CONFIGURED'
  | 'SERVICE_ADDED_AFTER_START'
  | 'BIND_FAILED'
  | 'SHUTDOWN_HOOK_FAILED';

export class ServiceKitError extends Error {
  override readonly name = 'ServiceKitError';
  constructor(
    readonly code: ServiceKitErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Throw (or reject with) this from a gRPC handler to answer with a specific status; the message
 * becomes the status details the client sees. Any other error becomes INTERNAL with a generic
 * message. callUnary also rejects with it, carrying the server's code and details.
 */
export class GrpcStatusError extends Error {
  override readonly name = 'GrpcStatusError';
  constructor(
    readonly code: status,
    message: string,
    readonly metadata: Metadata = new Metadata(),
  ) {
    super(message);
  }

  /** Also recognises instances from another copy of this module (src vs dist). */
  static is(error: unknown): error is GrpcStatusError {
    return (
      error instanceof GrpcStatusError ||
      (error instanceof Error && error.name === 'GrpcStatusError' && typeof (error as { code?: unknown }).code === 'number')
    );
  }

  static fromServiceError(error: ServiceError): GrpcStatusError {
    return new GrpcStatusError(error.code, error.details, error.metadata);
  }
}

/** `NOT_FOUND` for 5, etc.; used as a metric label and span attribute. */
export function statusName(code: number): string {
  return status[code] ?? String(code);
}
