import { translateErrors } from '@commucat/service-kit';
import type { Logger } from 'pino';
import type { Pool } from 'pg';
import type { DirectoryServiceServer } from '@commucat/contracts';
import type { CertificateAuthority } from './certificate-authority.js';
import { DeviceService, type RevocationPublisher } from './device-service.js';
import { DirectoryError, refuse } from './directory-errors.js';
import { FederatedDeliveryAuthorizer } from './federated-delivery.js';
import { FederatedFriendRequests } from './federated-friend-requests.js';
import type { FederationOutbox } from './federation-outbox.js';
import { FriendRequestService } from './friend-request-service.js';
import { FriendService } from './friend-service.js';
import { friendStore } from './friend-store.js';
import type { HelloAuthorizer } from './hello-authorizer.js';
import type { NoticePublisher } from './notice-publisher.js';
import { PairingService, type PairingPolicy } from './pairing-service.js';
import { RotationService, type RotationCounter, type RotationPolicy } from './rotation-service.js';
import { sessionStore } from './session-store.js';
import { UploadService } from './upload-service.js';
import { UserRegistration } from './user-registration.js';

export interface DirectoryDeps {
  pool: Pool;
  authorizer: HelloAuthorizer;
  ca: CertificateAuthority;
  publisher: RevocationPublisher;
  /** server.domain */
  domain: string;
  pairing: PairingPolicy;
  /** Where KEY_UPDATE notices go (the router's notice stream). */
  notices: NoticePublisher;
  rotation: RotationPolicy;
  rotations?: RotationCounter;
  /** The federation service's outbox, for friend requests with users of other domains. */
  federation: FederationOutbox;
  logger: Logger;
}

/** The services behind the RPCs, built once per process. */
export function directoryServices(deps: DirectoryDeps) {
  const federatedFriendRequests = new FederatedFriendRequests(deps.pool, deps.domain, deps.federation);
  return {
    pairing: new PairingService(deps.pool, deps.ca, deps.pairing),
    devices: new DeviceService(deps.pool, deps.publisher),
    friends: new FriendService(deps.pool),
    friendRequests: new FriendRequestService(deps.pool, deps.domain, federatedFriendRequests),
    federatedFriendRequests,
    federatedDelivery: new FederatedDeliveryAuthorizer(deps.pool),
    uploads: new UploadService(deps.pool),
    users: new UserRegistration(deps.pool, deps.domain),
    rotation: new RotationService(deps.pool, deps.ca, deps.notices, deps.rotation, deps.logger, deps.rotations),
  };
}

/** Refusals become their gRPC status plus the `commucat-directory-error` trailer; the rest is INTERNAL. */
const answer = <T>(work: () => Promise<T>): Promise<T> =>
  translateErrors(work, (err) => (err instanceof DirectoryError ? err.toGrpc() : err));

/** gRPC handlers of the directory. */
export function directoryHandlers(deps: DirectoryDeps): DirectoryServiceServer {
  const { pool, authorizer } = deps;
  const s = directoryServices(deps);
  return {
    authorizeHello: async ({ request: req }) => authorizer.authorize(req),
    validateSession: async ({ request: req }) => answer(async () => {
      // Refuses revoked sessions, expired ones and those of devices that are no longer active.
      const session = req.token ? await sessionStore.validateAndSlide(pool, req.token) : undefined;
      if (!session) throw refuse('session_invalid', 'session not found or expired');
      return { userId: session.userId, deviceId: session.deviceId, expiresAt: session.expiresAt.getTime() };
    }),
    friendDevices: async ({ request: req }) => answer(async () => {
      if (!req.userId) throw refuse('user_id_required', 'user_id is required');
      return { deviceIds: await friendStore.mutualFriendDevices(pool, req.userId) };
    }),
    createPairing: async ({ request: req }) => answer(() => s.pairing.create(req)),
    claimPairing: async ({ request: req }) => answer(() => s.pairing.claim(req)),
    listDevices: async ({ request: req }) => answer(() => s.devices.list(req)),
    revokeDevice: async ({ request: req }) => answer(() => s.devices.revoke(req)),
    revokeSessions: async ({ request: req }) => answer(() => s.devices.revokeSessions(req)),
    getFriends: async ({ request: req }) => answer(() => s.friends.get(req)),
    putFriends: async ({ request: req }) => answer(() => s.friends.put(req)),
    removeFriend: async ({ request: req }) => answer(() => s.friends.remove(req)),
    friendDevicesOf: async ({ request: req }) => answer(() => s.friends.devicesOf(req)),
    listFriendRequests: async ({ request: req }) => answer(() => s.friendRequests.list(req)),
    createFriendRequest: async ({ request: req }) => answer(() => s.friendRequests.create(req)),
    answerFriendRequest: async ({ request: req }) => answer(() => s.friendRequests.answer(req)),
    setAvatar: async ({ request: req }) => answer(() => s.uploads.setAvatar(req)),
    getUpload: async ({ request: req }) => answer(() => s.uploads.get(req)),
    registerUser: async ({ request: req }) => answer(() => s.users.register(req)),
    rotateDeviceKey: async ({ request: req }) => answer(() => s.rotation.rotate(req)),
    receiveFederatedFriendRequest: async ({ request: req }) => answer(() => s.federatedFriendRequests.receiveRequest(req)),
    receiveFederatedFriendAnswer: async ({ request: req }) => answer(() => s.federatedFriendRequests.receiveAnswer(req)),
    authorizeFederatedDelivery: async ({ request: req }) => answer(() => s.federatedDelivery.authorize(req)),
  };
}
