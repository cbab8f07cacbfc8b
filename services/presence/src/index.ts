export { RouteStore } from './route-store.js';
export type { PresenceRecord, PresenceUser, Route } from './route-store.js';
export { presenceHandlers } from './presence-service.js';
export type { PresenceEvents } from './presence-service.js';
