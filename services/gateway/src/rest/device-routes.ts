import type { z } from 'zod';
import { deviceJson } from './json-mappers.js';
import { RestError } from './problems.js';
import { directoryCall, type RestDeps } from './rest-deps.js';
import type { RequestContext, RouteSpec } from './route.js';
import { DeviceListResponse, RevokeDeviceRequest, RevokeDeviceResponse } from './schemas.js';

export function deviceRoutes(deps: RestDeps): RouteSpec[] {
  const list: RouteSpec = {
    method: 'GET', path: '/api/devices', operationId: 'listDevices', summary: 'Every device of the caller\'s user, oldest first',
    auth: 'session',
    success: { 200: { description: 'devices; `current` marks the caller', schema: DeviceListResponse } },
    problems: [],
    async handle({ session }: RequestContext) {
      const res = await directoryCall(deps, 'listDevices', { userId: session!.userId, currentDeviceId: session!.deviceId });
      return { status: 200, body: { devices: res.devices.map(deviceJson) } };
    },
  };

  const revoke: RouteSpec = {
    method: 'POST', path: '/api/devices/revoke', operationId: 'revokeDevice',
    summary: 'Revoke another device of the caller\'s user; its sessions end and its live connections close on every gateway',
    auth: 'session',
    body: { kind: 'json', schema: RevokeDeviceRequest },
    success: { 200: { description: 'the device is revoked', schema: RevokeDeviceResponse } },
    problems: ['forbidden', 'not-found', 'conflict'],
    async handle({ session, body }: RequestContext<z.infer<typeof RevokeDeviceRequest>>) {
      const deviceId = body.device_id.trim();
      if (deviceId.length === 0) throw RestError.of('invalid-field', 'device_id: must not be empty');
      const res = await directoryCall(deps, 'revokeDevice', { userId: session!.userId, callerDeviceId: session!.deviceId, deviceId });
      return { status: 200, body: { device_id: res.deviceId || deviceId, status: 'revoked' } };
    },
  };
  return [list, revoke];
}
