import * as grpc from '@grpc/grpc-js';
import type { Pool } from 'pg';
import type { DirectoryServiceServer } from '@commucat/contracts';
import { GrpcStatusError } from '@commucat/service-kit';
import type { HelloAuthorizer } from './hello-authorizer.js';
import { friendStore } from './friend-store.js';
import { sessionStore } from './session-store.js';

/** gRPC handlers of the directory. */
export function directoryHandlers(pool: Pool, authorizer: HelloAuthorizer): DirectoryServiceServer {
  return {
    authorizeHello: async ({ request: req }) => authorizer.authorize(req),
    validateSession: async ({ request: req }) => {
      const session = req.token ? await sessionStore.validateAndSlide(pool, req.token) : undefined;
      if (!session) throw new GrpcStatusError(grpc.status.UNAUTHENTICATED, 'session not found or expired');
      return { userId: session.userId, deviceId: session.deviceId, expiresAt: session.expiresAt.getTime() };
    },
    friendDevices: async ({ request: req }) => {
      if (!req.userId) throw new GrpcStatusError(grpc.status.INVALID_ARGUMENT, 'user_id is required');
      return { deviceIds: await friendStore.mutualFriendDevices(pool, req.userId) };
    },
  };
}
