export { RouteStore } from './route-store.js';
export type { PresenceRecord, PresenceUser, Route } from './route-store.js';
export { MAX_PRESENCE_STATE_CHARS, presenceHandlers } from './presence-service.js';
export type { PresenceEvents } from './presence-service.js';
