import { type JsonValue, PROTOCOL_VERSION } from '@commucat/ccp1';
import { bytesToHex, certificateToJson, type NoisePattern, proveZkp, zkpHandshakeContext, zkpToJson } from '@commucat/crypto';
import type { DeviceIdentity } from './identity';

export interface HelloInputs {
  identity: DeviceIdentity;
  /** The client's profile domain; it must equal the server's byte for byte (trap T22). */
  domain: string;
  pattern: NoisePattern;
  /** X25519 public key of the device private key reused as a Noise static key (§3.2). */
  clientStatic: Uint8Array;
  /** Noise message 1. */
  handshakeMessage: Uint8Array;
  capabilities: readonly string[];
  /** Replace (or, with undefined, delete) properties after they were built — tests use this. */
  overrides?: Record<string, JsonValue | undefined>;
}

/**
 * The Hello properties the real client sends (§4.1): `user` only when a handle is known (with the
 * other profile strings it has), `certificate` when one is stored, `device_ca_public` when known.
 * The codec writes the keys sorted, as serde_json does.
 */
export function buildHello(inputs: HelloInputs): Record<string, JsonValue> {
  const { identity, clientStatic } = inputs;
  const devicePublic = identity.keys.publicKey;
  const context = zkpHandshakeContext(inputs.domain, identity.deviceId, devicePublic, clientStatic);
  const hello: Record<string, JsonValue> = {
    capabilities: [...inputs.capabilities],
    client_static: bytesToHex(clientStatic),
    device_id: identity.deviceId,
    device_public: bytesToHex(devicePublic),
    handshake: bytesToHex(inputs.handshakeMessage),
    pattern: inputs.pattern,
    protocol_version: PROTOCOL_VERSION,
    zkp: zkpToJson(proveZkp(identity.keys, context)),
  };
  if (identity.handle !== undefined) {
    const user: Record<string, JsonValue> = { handle: identity.handle };
    if (identity.userId !== undefined) user['id'] = identity.userId;
    if (identity.displayName !== undefined) user['display_name'] = identity.displayName;
    if (identity.avatarUrl !== undefined) user['avatar_url'] = identity.avatarUrl;
    hello['user'] = user;
  }
  if (identity.certificate !== undefined) hello['certificate'] = certificateToJson(identity.certificate);
  if (identity.deviceCaPublic !== undefined) hello['device_ca_public'] = bytesToHex(identity.deviceCaPublic);
  for (const [key, value] of Object.entries(inputs.overrides ?? {})) {
    if (value === undefined) delete hello[key];
    else hello[key] = value;
  }
  return hello;
}
