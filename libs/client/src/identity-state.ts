import { chmod, open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type JsonValue, parseJson, stringifyJson } from '@commucat/ccp1';
import { certificateFromJson, certificateToJson, hexToBytes } from '@commucat/crypto';
import { ClientError } from './errors';
import { createDeviceIdentity, type DeviceIdentity } from './identity';
import { isJsonObject } from './json-object';

/** The saved form of an identity: what the real client keeps in its state file. */
export interface IdentityState {
  version: 1;
  device_id: string;
  /** Hex of the device seed: a secret, hence the 0600 file mode. */
  seed: string;
  handle?: string;
  user_id?: string;
  display_name?: string;
  avatar_url?: string;
  device_ca_public?: string;
  /** The certificate in its flattened JSON form (§6.3), serial kept exact. */
  certificate?: JsonValue;
}

/**
 * Writes the identity to `path` with mode 0600 (it holds the seed), atomically: a temporary file
 * in the same folder is renamed over the old one, so a crash never leaves half a state file.
 */
export async function saveIdentityState(path: string, identity: DeviceIdentity): Promise<void> {
  if (identity.seed === undefined) throw new ClientError('StateFile', 'identity has no seed to save');
  const state: Record<string, JsonValue> = { version: 1, device_id: identity.deviceId, seed: identity.seed.toString('hex') };
  if (identity.handle !== undefined) state['handle'] = identity.handle;
  if (identity.userId !== undefined) state['user_id'] = identity.userId;
  if (identity.displayName !== undefined) state['display_name'] = identity.displayName;
  if (identity.avatarUrl !== undefined) state['avatar_url'] = identity.avatarUrl;
  if (identity.deviceCaPublic !== undefined) state['device_ca_public'] = identity.deviceCaPublic.toString('hex');
  if (identity.certificate !== undefined) state['certificate'] = certificateToJson(identity.certificate);

  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    // A leftover temporary file could have a wider mode: remove it and create a fresh one (wx).
    await unlink(temporary).catch(() => {});
    const file = await open(temporary, 'wx', 0o600);
    try {
      await file.writeFile(`${stringifyJson(state, { sortKeys: false })}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
    // rename keeps the temporary file's mode; set it again in case a umask or an old file interfered.
    await chmod(path, 0o600);
  } catch (error) {
    await unlink(temporary).catch(() => {});
    throw new ClientError('StateFile', `cannot write state file ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Reads a state file written by saveIdentityState; undefined when the file does not exist. */
export async function loadIdentityState(path: string): Promise<DeviceIdentity | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw new ClientError('StateFile', `cannot read state file ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const state = parseJson(text);
    if (!isJsonObject(state)) throw new Error('not a JSON object');
    const deviceId = state['device_id'];
    const seed = state['seed'];
    if (typeof deviceId !== 'string' || typeof seed !== 'string') throw new Error('device_id and seed are required');
    const identity = createDeviceIdentity({ deviceId, seed: hexToBytes(seed) });
    const stringField = (key: string): string | undefined => {
      const value = state[key];
      return typeof value === 'string' ? value : undefined;
    };
    const handle = stringField('handle');
    const userId = stringField('user_id');
    const displayName = stringField('display_name');
    const avatarUrl = stringField('avatar_url');
    const caHex = stringField('device_ca_public');
    if (handle !== undefined) identity.handle = handle;
    if (userId !== undefined) identity.userId = userId;
    if (displayName !== undefined) identity.displayName = displayName;
    if (avatarUrl !== undefined) identity.avatarUrl = avatarUrl;
    if (caHex !== undefined) identity.deviceCaPublic = hexToBytes(caHex, 32);
    if (state['certificate'] !== undefined) identity.certificate = certificateFromJson(state['certificate']);
    return identity;
  } catch (error) {
    throw new ClientError('StateFile', `state file ${path} is malformed: ${(error as Error).message}`, { cause: error });
  }
}
