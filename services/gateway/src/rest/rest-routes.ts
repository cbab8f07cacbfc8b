import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { avatarRoutes } from './avatar-routes.js';
import { deviceRoutes } from './device-routes.js';
import { federationRoutes } from './federation-routes.js';
import { friendRoutes } from './friend-routes.js';
import { metaRoutes } from './meta-routes.js';
import { p2pAssistRoutes } from './p2p-assist.js';
import { pairingRoutes } from './pairing-routes.js';
import type { RestDeps } from './rest-deps.js';
import type { RouteSpec } from './route.js';
import { rotationRoutes } from './rotation-routes.js';

/** Every REST route of the edge, in match order. */
export function restRoutes(deps: RestDeps): RouteSpec[] {
  return [
    ...metaRoutes(deps),
    ...pairingRoutes(deps),
    ...deviceRoutes(deps),
    ...rotationRoutes(deps),
    ...friendRoutes(deps),
    ...avatarRoutes(deps),
    ...p2pAssistRoutes(deps),
    ...federationRoutes(deps),
  ];
}

/** The gateway package version (src/rest and dist/rest both sit two levels below it). */
export function gatewayVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}
