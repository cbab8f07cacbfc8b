import { controlFrame, encodeFrame, FrameType, type Frame, type JsonValue } from '@commucat/ccp1';
import type { PresenceSnapshot } from '@commucat/contracts';
import { RouterError } from './errors.js';
import { isJsonObject } from './payloads.js';

/** The state a client's Presence frame asks for: `{"state": "<text>"}`, `online` when absent (spec §7.8). */
export function parsePresenceState(frame: Frame): string {
  const value = frame.payload.kind === 'control' ? frame.payload.value : null;
  if (!isJsonObject(value)) throw new RouterError('invalid', 'a Presence payload must be a JSON object');
  return typeof value.state === 'string' ? value.state : 'online';
}

/**
 * The Presence frame pushed to peers, in the shape the real client needs (spec §7.8): a string
 * `entity` (without it the client's UI exits, §7.21), `state`, `expires_at` (RFC 3339) and
 * `user` {id, handle, display_name, avatar_url}, with null for missing options (trap T13).
 * Channel 0 as the client's own Presence frames; sequence 0 because the gateway rewrites it.
 */
export function presenceFrameFor(senderDeviceId: string, snapshot: PresenceSnapshot): Uint8Array {
  const u = snapshot.user;
  const user: JsonValue = u
    ? { id: u.userId, handle: u.handle, display_name: u.displayName ?? null, avatar_url: u.avatarUrl ?? null }
    : null;
  return encodeFrame(controlFrame(FrameType.Presence, 0, 0, {
    entity: senderDeviceId, state: snapshot.state, expires_at: snapshot.expiresAt, user,
  }));
}
