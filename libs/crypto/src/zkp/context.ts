import { CryptoError } from '../errors';

/** Domain separator "commucat:zkp:handshake:v1" (25 bytes, no terminator). */
export const ZKP_DOMAIN_SEPARATOR = Buffer.from('commucat:zkp:handshake:v1', 'ascii');

/**
 * ctx = D ‖ u32le(len domain) ‖ domain ‖ u32le(len device_id) ‖ device_id ‖ device_public ‖ client_static
 * (§5.3); lengths are UTF-8 byte counts.
 */
export function zkpHandshakeContext(domain: string, deviceId: string, devicePublic: Uint8Array, clientStatic: Uint8Array): Buffer {
  if (devicePublic.length !== 32) throw new CryptoError('InvalidKey', 'device public key must be 32 bytes');
  if (clientStatic.length !== 32) throw new CryptoError('InvalidKey', 'client static key must be 32 bytes');
  const domainBytes = Buffer.from(domain, 'utf8');
  const deviceIdBytes = Buffer.from(deviceId, 'utf8');
  const context = Buffer.allocUnsafe(ZKP_DOMAIN_SEPARATOR.length + 4 + domainBytes.length + 4 + deviceIdBytes.length + 64);
  let offset = ZKP_DOMAIN_SEPARATOR.copy(context, 0);
  offset = context.writeUInt32LE(domainBytes.length, offset);
  offset += domainBytes.copy(context, offset);
  offset = context.writeUInt32LE(deviceIdBytes.length, offset);
  offset += deviceIdBytes.copy(context, offset);
  offset += Buffer.from(devicePublic).copy(context, offset);
  Buffer.from(clientStatic).copy(context, offset);
  return context;
}
