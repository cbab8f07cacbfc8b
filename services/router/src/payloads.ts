import { controlFrame, encodeFrame, FrameType, type Frame, type JsonValue } from '@commucat/ccp1';
import { RouterError } from './errors.js';

export type JsonObject = { [key: string]: JsonValue };

export const isJsonObject = (value: JsonValue): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && typeof value !== 'bigint';

const controlValue = (frame: Frame): JsonValue => (frame.payload.kind === 'control' ? frame.payload.value : null);

/** What a Join asks for (spec §7.3). */
export interface JoinRequest {
  /** Declared members that can be device ids; other entries are ignored, as in the reference. */
  readonly members: string[];
  readonly relay: boolean;
  /** Present when the Join names a group. */
  readonly groupId: string | undefined;
}

// PostgreSQL TEXT cannot hold NUL, and an empty id names no device.
export const usableDeviceId = (value: JsonValue): value is string => typeof value === 'string' && value.length > 0 && !value.includes('\u0000');

export function parseJoin(frame: Frame): JoinRequest {
  const value = controlValue(frame);
  if (!isJsonObject(value)) throw new RouterError('invalid', 'a Join payload must be a JSON object');
  const members = Array.isArray(value.members) ? value.members.filter(usableDeviceId) : [];
  const groupId = value.group_id;
  // A group id Postgres cannot hold (empty, NUL) names no stored group.
  if (typeof groupId === 'string' && !usableDeviceId(groupId)) throw new RouterError('invalid', 'group_id must be a non-empty string');
  return {
    members,
    relay: value.relay === true,
    groupId: typeof groupId === 'string' ? groupId : undefined,
  };
}

const DEVICE_KEYS = ['device', 'device_id', 'sender'] as const;

/**
 * The Typing frame to relay. The real client's UI exits on a Typing payload that is not an object
 * with a string `device` / `device_id` / `sender` (spec §7.7, §7.21, trap T16), so one bad client
 * could crash every other member. A valid payload is relayed byte for byte; otherwise the
 * router fills `device` with the sender's device id (a non-object payload becomes
 * `{"device": <sender>}`) and encodes a new frame.
 */
export function typingForRecipients(frame: Frame, encoded: Uint8Array, senderDeviceId: string): Uint8Array {
  const value = controlValue(frame);
  if (isJsonObject(value) && DEVICE_KEYS.some((key) => typeof value[key] === 'string')) return encoded;
  const payload: JsonObject = isJsonObject(value) ? { ...value, device: senderDeviceId } : { device: senderDeviceId };
  return encodeFrame(controlFrame(FrameType.Typing, frame.channel, frame.sequence, payload));
}
