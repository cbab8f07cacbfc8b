import type { JsonValue } from '@commucat/ccp1';
import type { ActiveNoiseKey } from './server-keys.js';

/** RFC 3339 in chrono's `to_rfc3339()` shape (`+00:00`), or null for "never". */
export const rfc3339 = (ms: number): string | null => (ms > 0 ? new Date(ms).toISOString().replace('Z', '+00:00') : null);

/** One entry of `noise_keys` in /api/server-info and the Ack (spec rest §1.5). */
export function noiseKeyJson(k: ActiveNoiseKey): Record<string, JsonValue> {
  return {
    expires_at: rfc3339(k.expiresAt),
    public: k.key.publicKey.toString('hex'),
    rotates_at: rfc3339(k.rotatesAt),
    valid_after: rfc3339(k.validAfter),
    version: k.version,
  };
}
