import type { Redis } from 'ioredis';

export interface Route {
  deviceId: string;
  userId: string;
  gatewayId: string;
  connectionId: string;
  connectedAt: number;
  /** Kept with the route so the offline record can still name the user. */
  user: PresenceUser | null;
}

export interface PresenceUser {
  id: string;
  user_id: string;
  handle: string;
  display_name: string | null;
  avatar_url: string | null;
}

/** The reference's stored presence shape (spec ccp1-wire §7.8), which clients also expect. */
export interface PresenceRecord {
  entity: string;
  state: string;
  expires_at: string;
  user: PresenceUser | null;
}

const routeKey = (deviceId: string): string => `route:${deviceId}`;
const presenceKey = (deviceId: string): string => `presence:${deviceId}`;

// Refresh and removal must only touch a route that still belongs to the caller's connection:
// a device that reconnected elsewhere must not be expired or removed by its old connection.
const REFRESH_IF_OWNER = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
if cjson.decode(raw).connectionId ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1`;

const REMOVE_IF_OWNER = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
if cjson.decode(raw).connectionId ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return 1`;

// A client's own presence state is only accepted from the connection that holds the route, so a
// stale connection cannot overwrite what the device's current one reports. The route's TTL is
// refreshed with it: a Presence frame shows the connection is alive.
const SET_STATE_IF_OWNER = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
if cjson.decode(raw).connectionId ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return 1`;

/** Routes and presence in Redis, both with the presence TTL the gateways keep refreshing. */
export class RouteStore {
  constructor(private readonly redis: Redis, private readonly ttlMs: number) {
    redis.defineCommand('ccRefreshRoute', { numberOfKeys: 2, lua: REFRESH_IF_OWNER });
    redis.defineCommand('ccRemoveRoute', { numberOfKeys: 2, lua: REMOVE_IF_OWNER });
    redis.defineCommand('ccSetStateIfOwner', { numberOfKeys: 2, lua: SET_STATE_IF_OWNER });
  }

  private presence(deviceId: string, state: string, user: PresenceUser | null): { record: PresenceRecord; expiresAt: number } {
    const expiresAt = Date.now() + this.ttlMs;
    return { record: { entity: deviceId, state, expires_at: new Date(expiresAt).toISOString(), user }, expiresAt };
  }

  async register(route: Route): Promise<number> {
    const { record, expiresAt } = this.presence(route.deviceId, 'online', route.user);
    await this.redis.multi()
      .set(routeKey(route.deviceId), JSON.stringify(route), 'PX', this.ttlMs)
      .set(presenceKey(route.deviceId), JSON.stringify(record), 'PX', this.ttlMs)
      .exec();
    return expiresAt;
  }

  /** Returns the refs that were not refreshed because their route is gone or taken over. */
  async refresh(refs: Array<{ deviceId: string; connectionId: string }>): Promise<Array<{ deviceId: string; connectionId: string }>> {
    if (refs.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const ref of refs) {
      (pipeline as unknown as ScriptPipeline).ccRefreshRoute(routeKey(ref.deviceId), presenceKey(ref.deviceId), ref.connectionId, this.ttlMs);
    }
    const results = (await pipeline.exec()) ?? [];
    return refs.filter((_, i) => results[i]?.[1] !== 1);
  }

  /** Removes the route and leaves an "offline" presence record for the TTL, as the reference does. */
  async remove(route: Route, connectionId: string): Promise<boolean> {
    const { record } = this.presence(route.deviceId, 'offline', route.user);
    const removed = await (this.redis as unknown as ScriptClient).ccRemoveRoute(routeKey(route.deviceId), presenceKey(route.deviceId), connectionId, JSON.stringify(record), this.ttlMs);
    return removed === 1;
  }

  /**
   * Writes `state` as the device's presence (TTL refreshed) when `connectionId` holds its route.
   * Returns the record and its route, or undefined when the device has no route or another
   * connection holds it.
   */
  async setState(deviceId: string, connectionId: string, state: string): Promise<{ record: PresenceRecord; route: Route } | undefined> {
    const [route] = await this.lookup([deviceId]);
    if (!route || route.connectionId !== connectionId) return undefined;
    const { record } = this.presence(deviceId, state, route.user);
    // The script checks the owner again: the route may have been taken over since the lookup.
    const written = await (this.redis as unknown as ScriptClient).ccSetStateIfOwner(routeKey(deviceId), presenceKey(deviceId), connectionId, JSON.stringify(record), this.ttlMs);
    return written === 1 ? { record, route } : undefined;
  }

  async lookup(deviceIds: string[]): Promise<Route[]> {
    if (deviceIds.length === 0) return [];
    const raws = await this.redis.mget(deviceIds.map(routeKey));
    return raws.flatMap((raw) => (raw ? [JSON.parse(raw) as Route] : []));
  }

  async presenceOf(deviceId: string): Promise<PresenceRecord | undefined> {
    const raw = await this.redis.get(presenceKey(deviceId));
    return raw ? (JSON.parse(raw) as PresenceRecord) : undefined;
  }
}

interface ScriptClient {
  ccRemoveRoute(routeKey: string, presenceKey: string, connectionId: string, record: string, ttlMs: number): Promise<number>;
  ccSetStateIfOwner(routeKey: string, presenceKey: string, connectionId: string, record: string, ttlMs: number): Promise<number>;
}
interface ScriptPipeline {
  ccRefreshRoute(routeKey: string, presenceKey: string, connectionId: string, ttlMs: number): unknown;
}
