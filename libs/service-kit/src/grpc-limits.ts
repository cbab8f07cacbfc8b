/**
 * Largest gRPC message between fleet services, both ways. gRPC's default receive limit is 4 MiB;
 * avatars (5 MiB) and batched relay enqueues need more, and every peer must agree.
 */
export const GRPC_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;
