import * as grpc from '@grpc/grpc-js';
import type { PresenceServiceServer, RouteEntry, UserProfile } from '@commucat/contracts';
import { GrpcStatusError } from '@commucat/service-kit';
import type { PresenceUser, Route, RouteStore } from './route-store.js';

export interface PresenceEvents {
  changed(route: Route, state: 'online' | 'offline'): void;
}

const toPresenceUser = (u: UserProfile | undefined): PresenceUser | null =>
  u ? { id: u.userId, user_id: u.userId, handle: u.handle, display_name: u.displayName ?? null, avatar_url: u.avatarUrl ?? null } : null;

const toEntry = (r: Route): RouteEntry => ({ deviceId: r.deviceId, userId: r.userId, gatewayId: r.gatewayId, connectionId: r.connectionId, connectedAt: r.connectedAt });

function requireId(value: string, name: string): string {
  if (!value) throw new GrpcStatusError(grpc.status.INVALID_ARGUMENT, `${name} is required`);
  return value;
}

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
      const u = record.user;
      return {
        entity: record.entity, state: record.state, expiresAt: record.expires_at,
        user: u ? { userId: u.user_id, handle: u.handle, displayName: u.display_name ?? undefined, avatarUrl: u.avatar_url ?? undefined, domain: '' } : undefined,
      };
    },
  };
}
