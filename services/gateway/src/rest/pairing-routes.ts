import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { rfc3339 } from '../rfc3339.js';
import { claimedUserJson } from './json-mappers.js';
import { directoryCall, type RestDeps } from './rest-deps.js';
import type { RequestContext, RouteSpec } from './route.js';
import { RestError } from './problems.js';
import { certificateText, withRawField } from './raw-json-field.js';
import { ClaimPairingRequest, ClaimPairingResponse, CreatePairingRequest, CreatePairingResponse } from './schemas.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export function pairingRoutes(deps: RestDeps): RouteSpec[] {
  const create: RouteSpec = {
    method: 'POST', path: '/api/pair', aliases: ['/api/pairing'], operationId: 'createPairing',
    summary: 'Issue a pairing code from the calling device',
    auth: 'session',
    body: { kind: 'json', schema: CreatePairingRequest, optional: true },
    success: { 200: { description: 'the code and its validity', schema: CreatePairingResponse } },
    problems: ['forbidden'],
    async handle({ session, body }: RequestContext<z.infer<typeof CreatePairingRequest>>) {
      const code = await directoryCall(deps, 'createPairing', { userId: session!.userId, issuerDeviceId: session!.deviceId, ttlSeconds: body.ttl ?? 0 });
      return {
        status: 200,
        body: {
          pair_code: code.pairCode, issued_at: rfc3339(code.issuedAt), expires_at: rfc3339(code.expiresAt), ttl: code.ttlSeconds,
          // The real client expects a seed it may use for the new device; the server keeps none.
          device_seed: randomBytes(32).toString('hex'),
          issuer_device_id: code.issuerDeviceId, device_ca_public: hex(code.deviceCaPublic),
        },
      };
    },
  };

  const claim: RouteSpec = {
    method: 'POST', path: '/api/pair/claim', aliases: ['/api/pairing/claim'], operationId: 'claimPairing',
    summary: 'Redeem a pairing code: a new device for the issuing user (server- or client-generated key)',
    auth: 'none', extraLimit: 'pairing',
    body: { kind: 'json', schema: ClaimPairingRequest },
    success: { 200: { description: 'the new device, its keys (server-generated only) and certificate', schema: ClaimPairingResponse } },
    problems: ['not-found', 'conflict'],
    async handle({ body }: RequestContext<z.infer<typeof ClaimPairingRequest>>) {
      const pairCode = body.pair_code.trim();
      if (pairCode.length === 0) throw RestError.of('invalid-field', 'pair_code: must not be empty');
      const claimed = await directoryCall(deps, 'claimPairing', {
        pairCode,
        ...(body.device_name ? { deviceName: body.device_name } : {}),
        devicePublic: body.device_public ? Buffer.from(body.device_public, 'hex') : Buffer.alloc(0),
        deviceSignature: body.device_signature ? Buffer.from(body.device_signature, 'hex') : Buffer.alloc(0),
      });
      const out: Record<string, unknown> = { device_id: claimed.deviceId };
      if (claimed.privateKey.length > 0) out.private_key = hex(claimed.privateKey);
      out.public_key = hex(claimed.publicKey);
      if (claimed.seed.length > 0) out.seed = hex(claimed.seed);
      out.issuer_device_id = claimed.issuerDeviceId;
      out.user_id = claimed.user?.userId ?? '';
      out.user = claimedUserJson(claimed.user);
      out.device_ca_public = hex(claimed.deviceCaPublic);
      if (body.device_name) out.device_name = body.device_name;
      return { status: 200, raw: withRawField(out, 'device_certificate', certificateText(claimed.certificateJson)) };
    },
  };
  return [create, claim];
}
