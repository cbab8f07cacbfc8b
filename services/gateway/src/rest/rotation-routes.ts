import type { z } from 'zod';
import { rfc3339 } from '../rfc3339.js';
import { RestError } from './problems.js';
import { certificateText, withRawField } from './raw-json-field.js';
import { directoryCall, type RestDeps } from './rest-deps.js';
import type { RequestContext, RouteSpec } from './route.js';
import { DeviceRotationRequest, DeviceRotationResponse } from './schemas.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** RFC 3339 → UNIX seconds (the proof signs whole seconds); undefined for a date that does not exist. */
function unixSeconds(rfc3339Text: string): number | undefined {
  const ms = Date.parse(rfc3339Text);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined;
}

/**
 * POST /api/device/csr (spec rest-storage-ops §4.1): the calling device swaps its key for a new
 * one with a proof signed by the current key. Absent when rotation.device.enabled is false, so
 * the path answers the plain 404 before any authentication, as the reference does.
 */
export function rotationRoutes(deps: RestDeps): RouteSpec[] {
  if (!deps.deviceRotation?.enabled) return [];
  const rotate: RouteSpec = {
    method: 'POST', path: '/api/device/csr', operationId: 'rotateDeviceKey',
    summary: 'Rotate the calling device\'s key; its devices and mutual friends\' devices get a KEY_UPDATE frame',
    auth: 'session',
    body: { kind: 'json', schema: DeviceRotationRequest },
    success: { 200: { description: 'the new key, the rotation ids and the new certificate', schema: DeviceRotationResponse } },
    problems: ['forbidden', 'not-found', 'conflict'],
    async handle({ session, body }: RequestContext<z.infer<typeof DeviceRotationRequest>>) {
      const expiresAt = unixSeconds(body.expires_at);
      if (expiresAt === undefined) throw RestError.of('invalid-field', 'expires_at: invalid RFC 3339 time');
      const res = await directoryCall(deps, 'rotateDeviceKey', {
        userId: session!.userId,
        deviceId: session!.deviceId,
        newPublicKey: Buffer.from(body.public_key, 'hex'),
        signature: Buffer.from(body.signature, 'hex'),
        expiresAt,
        nonce: body.nonce ? Buffer.from(body.nonce, 'hex') : Buffer.alloc(0),
      });
      const out = {
        device_id: res.deviceId,
        user_id: res.userId,
        public_key: hex(res.publicKey),
        old_public_key: hex(res.oldPublicKey),
        rotation_id: res.rotationId,
        event_id: res.eventId,
        applied_at: rfc3339(res.appliedAt),
        proof_expires_at: rfc3339(res.proofExpiresAt * 1000),
      };
      return { status: 200, raw: withRawField(out, 'certificate', certificateText(res.certificateJson)) };
    },
  };
  return [rotate];
}
