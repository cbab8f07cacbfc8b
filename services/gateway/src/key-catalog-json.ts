import type { JsonValue } from '@commucat/ccp1';
import { rfc3339OrNever } from './rfc3339.js';
import type { ActiveNoiseKey } from './server-keys.js';

/** One entry of `noise_keys` in /api/server-info and the Ack (spec rest §1.5). */
export function noiseKeyJson(k: ActiveNoiseKey): Record<string, JsonValue> {
  return {
    expires_at: rfc3339OrNever(k.expiresAt),
    public: k.key.publicKey.toString('hex'),
    rotates_at: rfc3339OrNever(k.rotatesAt),
    valid_after: rfc3339OrNever(k.validAfter),
    version: k.version,
  };
}
