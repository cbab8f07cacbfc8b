import { Metadata, status } from '@grpc/grpc-js';
import { GrpcStatusError } from '@commucat/service-kit';

/** Trailer carrying the stable DirectoryError code, for callers (gateway, CLI) that branch on it. */
export const DIRECTORY_ERROR_CODE_METADATA = 'commucat-directory-error';

/**
 * Every refusal of the directory's REST/CLI RPCs: the stable code and the gRPC status it is
 * answered with (the gateway maps INVALID_ARGUMENT → 400, UNAUTHENTICATED → 401,
 * PERMISSION_DENIED → 403, NOT_FOUND → 404, ALREADY_EXISTS / FAILED_PRECONDITION → 409,
 * UNAVAILABLE → 503).
 */
export const DIRECTORY_ERRORS = {
  // requests missing what identifies the caller or the target
  user_id_required: status.INVALID_ARGUMENT,
  device_id_required: status.INVALID_ARGUMENT,
  user_not_found: status.NOT_FOUND,
  device_not_found: status.NOT_FOUND,

  // sessions
  session_invalid: status.UNAUTHENTICATED,
  revoke_target_ambiguous: status.INVALID_ARGUMENT,

  // pairing
  issuer_device_not_active: status.PERMISSION_DENIED,
  pair_code_malformed: status.INVALID_ARGUMENT,
  pair_code_not_found: status.NOT_FOUND,
  // The reference answers 400 for both; kept so the real client sees the status it knows.
  pair_code_expired: status.INVALID_ARGUMENT,
  pair_code_redeemed: status.INVALID_ARGUMENT,
  pair_code_issuer_revoked: status.FAILED_PRECONDITION,
  device_public_malformed: status.INVALID_ARGUMENT,
  device_signature_invalid: status.INVALID_ARGUMENT,

  // devices
  cannot_revoke_current_device: status.FAILED_PRECONDITION,
  device_of_other_user: status.PERMISSION_DENIED,

  // device key rotation (spec rest-storage-ops §4.1)
  rotation_disabled: status.NOT_FOUND,
  device_not_active: status.PERMISSION_DENIED,
  rotation_key_malformed: status.INVALID_ARGUMENT,
  rotation_signature_malformed: status.INVALID_ARGUMENT,
  rotation_nonce_malformed: status.INVALID_ARGUMENT,
  rotation_proof_expired: status.INVALID_ARGUMENT,
  rotation_proof_beyond_ttl: status.INVALID_ARGUMENT,
  rotation_signature_invalid: status.INVALID_ARGUMENT,
  rotation_key_unchanged: status.FAILED_PRECONDITION,
  rotation_interval_not_elapsed: status.FAILED_PRECONDITION,

  // friend lists
  too_many_friends: status.INVALID_ARGUMENT,
  friend_user_id_required: status.INVALID_ARGUMENT,
  friend_user_id_too_long: status.INVALID_ARGUMENT,
  friend_alias_too_long: status.INVALID_ARGUMENT,
  duplicate_friend: status.INVALID_ARGUMENT,
  friend_is_self: status.INVALID_ARGUMENT,
  friend_not_listed: status.NOT_FOUND,
  friend_not_found: status.NOT_FOUND,
  not_mutual_friend: status.NOT_FOUND,
  friend_list_full: status.FAILED_PRECONDITION,

  // friend requests
  friend_request_target_required: status.INVALID_ARGUMENT,
  friend_request_to_self: status.INVALID_ARGUMENT,
  friend_request_message_too_long: status.INVALID_ARGUMENT,
  friend_request_pending: status.ALREADY_EXISTS,
  friend_request_not_found: status.NOT_FOUND,
  friend_request_not_pending: status.FAILED_PRECONDITION,

  // federated friend requests and deliveries (spec rest-storage-ops §5.5, §11.13–11.14)
  // The gateway answers this one as the reference does: 400 `unknown-domain`.
  unknown_domain: status.INVALID_ARGUMENT,
  federated_id_invalid: status.INVALID_ARGUMENT,
  federated_request_id_required: status.INVALID_ARGUMENT,
  federated_from_mismatch: status.INVALID_ARGUMENT,
  federated_status_invalid: status.INVALID_ARGUMENT,
  federation_unavailable: status.UNAVAILABLE,
  not_friends: status.PERMISSION_DENIED,

  // uploads
  image_too_large: status.INVALID_ARGUMENT,
  image_type_unsupported: status.INVALID_ARGUMENT,
  // The reference answers 403 `forbidden` to path tricks.
  upload_name_forbidden: status.PERMISSION_DENIED,
  upload_not_found: status.NOT_FOUND,

  // users
  handle_invalid: status.INVALID_ARGUMENT,
  handle_taken: status.ALREADY_EXISTS,
  display_name_too_long: status.INVALID_ARGUMENT,
} as const satisfies Record<string, status>;

export type DirectoryErrorCode = keyof typeof DIRECTORY_ERRORS;

/** A refusal with a stable code; the gRPC layer turns it into a status plus the code trailer. */
export class DirectoryError extends Error {
  override readonly name = 'DirectoryError';
  constructor(readonly code: DirectoryErrorCode, message: string) {
    super(message);
  }

  get grpcStatus(): status {
    return DIRECTORY_ERRORS[this.code];
  }

  toGrpc(): GrpcStatusError {
    const metadata = new Metadata();
    metadata.set(DIRECTORY_ERROR_CODE_METADATA, this.code);
    return new GrpcStatusError(this.grpcStatus, this.message, metadata);
  }
}

export const refuse = (code: DirectoryErrorCode, message: string): DirectoryError => new DirectoryError(code, message);
