import * as grpc from '@grpc/grpc-js';
import type { PresenceServiceServer, PresenceSnapshot, RouteEntry, UserProfile } from '@commucat/contracts';
import { GrpcStatusError } from '@commucat/service-kit';
import type { PresenceRecord, PresenceUser, Route, RouteStore } from './route-store.js';

export interface PresenceEvents {
  /** 'online' / 'offline' from the gateway's route calls, or the client's own text (SetState). */
  changed(route: Route, state: string): void;
}

/** Longest state text a client may set, in characters; the reference has no limit. */
export const MAX_PRESENCE_STATE_CHARS = 64;

const toPresenceUser = (u: UserProfile | undefined): PresenceUser | null =>
  u ? { id: u.userId, user_id: u.userId, handle: u.handle, display_name: u.displayName ?? null, avatar_url: u.avatarUrl ?? null } : null;

const toEntry = (r: Route): RouteEntry => ({ deviceId: r.deviceId, userId: r.userId, gatewayId: r.gatewayId, connectionId: r.connectionId, connectedAt: r.connectedAt });

function requireId(value: string, name: string): string {
  if (!value) throw new GrpcStatusError(grpc.status.INVALID_ARGUMENT, `${name} is required`);
  return value;
}

function requireState(value: string): string {
  const chars = [...value].length;
  if (chars === 0 || chars > MAX_PRESENCE_STATE_CHARS) {
    throw new GrpcStatusError(grpc.status.INVALID_ARGUMENT, `state must be 1 to ${MAX_PRESENCE_STATE_CHARS} characters`);
  }
  return value;
}

const toSnapshot = (record: PresenceRecord): PresenceSnapshot => {
  const u = record.user;
  return {
    entity: record.entity, state: record.state, expiresAt: record.expires_at,
    user: u ? { userId: u.user_id, handle: u.handle, displayName: u.display_name ?? undefined, avatarUrl: u.avatar_url ?? undefined, domain: '' } : undefined,
  };
};

/** gRPC handlers of presence; state changes are announced on the bus. */
export function presenceHandlers(store: RouteStore, events: PresenceEvents): PresenceServiceServer {
  return {
    registerRoute: async ({ request: req }) => {
      const r = req.route;
      if (!r) throw new GrpcStatusError(grpc.status.INVALID_ARGUMENT, 'route is required');
      const route: Route = {
        deviceId: requireId(r.deviceId, 'device_id'), userId: requireId(r.userId, 'user_id'),
        gatewayId: requireId(r.gatewayId, 'gateway_id'), connectionId: requireId(r.connectionId, 'connection_id'),
        connectedAt: r.connectedAt || Date.now(),
        user: toPresenceUser(req.user),
      };
      const expiresAt = await store.register(route);
      events.changed(route, 'online');
      return { expiresAt };
    },
    refreshRoutes: async ({ request: req }) => ({
      missing: await store.refresh(req.routes.map((r) => ({ deviceId: r.deviceId, connectionId: r.connectionId }))),
    }),
    unregisterRoute: async ({ request: req }) => {
      const ref = req.route;
      if (!ref) throw new GrpcStatusError(grpc.status.INVALID_ARGUMENT, 'route is required');
      const [current] = await store.lookup([requireId(ref.deviceId, 'device_id')]);
      if (!current) return { removed: false };
      const removed = await store.remove(current, requireId(ref.connectionId, 'connection_id'));
      if (removed) events.changed(current, 'offline');
      return { removed };
    },
    lookupRoutes: async ({ request: req }) => ({ routes: (await store.lookup(req.deviceIds)).map(toEntry) }),
    getPresence: async ({ request: req }) => {
      const record = await store.presenceOf(requireId(req.deviceId, 'device_id'));
      if (!record) return { entity: req.deviceId, state: 'offline', expiresAt: '', user: undefined };
      return toSnapshot(record);
    },
    setState: async ({ request: req }) => {
      const deviceId = requireId(req.deviceId, 'device_id');
      const connectionId = requireId(req.connectionId, 'connection_id');
      const state = requireState(req.state);
      const written = await store.setState(deviceId, connectionId, state);
      if (!written) {
        throw new GrpcStatusError(grpc.status.FAILED_PRECONDITION, `connection ${connectionId} does not hold the route of device ${deviceId}`);
      }
      events.changed(written.route, state);
      return toSnapshot(written.record);
    },
  };
}
