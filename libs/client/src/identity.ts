import { randomBytes } from 'node:crypto';
import { type DeviceCertificate, DeviceKeyPair } from '@commucat/crypto';

/**
 * Everything a device knows about itself between connections, like the real client's profile:
 * its keys, and what the server told it (user, certificate, CA key). `connectClient` updates the
 * profile fields in place after a successful handshake, so reconnecting with the same object
 * presents the stored certificate.
 */
export interface DeviceIdentity {
  deviceId: string;
  keys: DeviceKeyPair;
  /** The seed the keys come from, kept so the identity can be saved and restored (CLI state file). */
  seed?: Buffer;
  handle?: string;
  userId?: string;
  displayName?: string;
  avatarUrl?: string;
  certificate?: DeviceCertificate;
  deviceCaPublic?: Buffer;
}

export interface CreateDeviceIdentityOptions {
  deviceId?: string;
  handle?: string;
  /** At least 32 bytes; default: 64 random bytes, as the real client draws (§5.1). */
  seed?: Uint8Array;
}

const REAL_CLIENT_SEED_LEN = 64;

export function createDeviceIdentity(options: CreateDeviceIdentityOptions = {}): DeviceIdentity {
  const seed = Buffer.from(options.seed ?? randomBytes(REAL_CLIENT_SEED_LEN));
  const identity: DeviceIdentity = {
    deviceId: options.deviceId ?? defaultDeviceId(),
    keys: DeviceKeyPair.fromSeed(seed),
    seed,
  };
  if (options.handle !== undefined) identity.handle = options.handle;
  return identity;
}

/**
 * The real client names devices `device-<unix ms>`; the random suffix keeps ids unique when a test
 * or benchmark creates many devices within one millisecond.
 */
function defaultDeviceId(): string {
  return `device-${Date.now()}-${randomBytes(4).toString('hex')}`;
}
