import { SUPPORTED_PROTOCOL_VERSIONS } from '@commucat/ccp1';
import { noiseKeyJson } from './key-catalog-json.js';
import type { DeviceRotationSettings } from './rest/rest-deps.js';
import type { ServerKeys } from './server-keys.js';

export interface ServerInfoSettings {
  domain: string;
  sessionTtlSeconds: number;
  keepaliveIntervalSeconds: number;
  presenceTtlSeconds: number;
  autoApproveDevices: boolean;
  pairingTtlSeconds: number;
  maxAutoDevicesPerUser: number;
  deviceRotation: DeviceRotationSettings;
}

/**
 * `GET /api/server-info` (spec rest §1.5). The real client's `init` needs `domain` and
 * `noise_public` and pins the latter, so `noise_public` is the newest active key.
 */
export function serverInfo(keys: ServerKeys, s: ServerInfoSettings): Record<string, unknown> {
  const active = keys.active();
  return {
    domain: s.domain,
    noise_public: active[0]?.key.publicKey.toString('hex') ?? null,
    noise_keys: active.map(noiseKeyJson),
    device_ca_public: keys.deviceCaPublic.toString('hex'),
    // IK works with this fleet (it acknowledges after msg2), unlike the reference.
    supported_patterns: ['XK', 'IK'],
    supported_versions: [...SUPPORTED_PROTOCOL_VERSIONS],
    session: { ttl_seconds: s.sessionTtlSeconds, keepalive_interval: s.keepaliveIntervalSeconds },
    presence: { ttl_seconds: s.presenceTtlSeconds },
    device_rotation: {
      enabled: s.deviceRotation.enabled,
      min_interval_seconds: s.deviceRotation.minIntervalSeconds,
      proof_ttl_seconds: s.deviceRotation.proofTtlSeconds,
    },
    pairing: { auto_approve: s.autoApproveDevices, pairing_ttl: s.pairingTtlSeconds, max_auto_devices: s.maxAutoDevicesPerUser },
    post_quantum: { enabled: false, kem_algorithm: null, signature_algorithm: null, kem_public_hex: null },
  };
}

/** Spec §2.7: max(5, max(1, keepalive / 2)) seconds. */
export const keepaliveInterval = (keepaliveSeconds: number): number => Math.max(5, Math.max(1, Math.floor(keepaliveSeconds / 2)));
