/**
 * THE catalogue of JetStream streams, next to the subjects they capture. A stream is created (or
 * brought up to date) by every service that publishes to or consumes from it; the bus adds the
 * namespace to the name and the subjects.
 */
import type { StreamOptions } from './bus-types';
import { Subjects } from './subjects';

export const Streams = {
  /**
   * Every post-handshake frame, gateway → router. A work queue: a frame stays stored until the
   * router has handled (and answered) it, so a router that dies mid-frame loses nothing; its
   * successor starts with the frames it left. Kept a day at most, like relay_ttl.
   */
  routerInbound: {
    name: 'COMMUCAT_ROUTER_INBOUND',
    subjects: [Subjects.routerInbound.pattern],
    storage: 'file',
    retention: 'workqueue',
    maxAgeSeconds: 86_400,
  },
  /** Server notices to devices (KEY_UPDATE, …), directory → router; kept until the router handled them. */
  routerNotice: {
    name: 'COMMUCAT_ROUTER_NOTICES',
    subjects: [Subjects.routerNotice.pattern],
    storage: 'file',
    retention: 'workqueue',
    maxAgeSeconds: 86_400,
  },
  /**
   * Presence changes (published once, on NATS core) kept until a router handled them, so a
   * disconnect that happens while every router restarts still ends its calls (synthetic CallEnd).
   * A disconnect older than an hour is not worth a CallEnd any more.
   */
  routerPresence: {
    name: 'COMMUCAT_ROUTER_PRESENCE',
    subjects: [Subjects.presenceChanged.pattern],
    storage: 'file',
    retention: 'workqueue',
    maxAgeSeconds: 3_600,
  },
} as const satisfies Readonly<Record<string, StreamOptions>>;
