import type { AuthorizeHelloRequest, AuthorizeHelloResponse, InboundFrame } from '@commucat/contracts';
import type { Logger } from 'pino';
import type { InboxAccess } from './inbox-delivery.js';
import type { LiveSessions } from './live-sessions.js';
import type { GatewayMetrics } from './metrics.js';
import type { RouteRegistry } from './route-registry.js';
import type { ServerKeys } from './server-keys.js';

export type TransportEncryptionPolicy = 'optional' | 'always' | 'required';

/** Everything a connect session needs from its gateway process. */
export interface GatewayContext {
  gatewayId: string;
  domain: string;
  prologue: Buffer;
  keys: ServerKeys;
  directory: { authorizeHello(req: AuthorizeHelloRequest): Promise<AuthorizeHelloResponse> };
  routes: RouteRegistry;
  /** This gateway's established sessions by device, for deliveries. */
  sessions: LiveSessions;
  inbox: InboxAccess;
  /** Where every post-handshake frame goes (the router's JetStream work queue); resolves once stored. */
  router: { publish(frame: InboundFrame): Promise<void> };
  /** Where VoiceFrame/VideoFrame go (NATS core to the routers: live, at most once). */
  media: { publish(frame: InboundFrame): void };
  transportEncryption: TransportEncryptionPolicy;
  /** Per-connection budget for post-handshake frames. */
  frameRate: { rate: number; burst: number };
  keepaliveIntervalSeconds: number;
  handshakeTimeoutMs: number;
  logger: Logger;
  metrics: GatewayMetrics;
}
