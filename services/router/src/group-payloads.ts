import { randomBytes } from 'node:crypto';
import type { Frame, JsonValue } from '@commucat/ccp1';
import { RouterError } from './errors.js';
import { isJsonObject, usableDeviceId, type JsonObject } from './payloads.js';

export type GroupRole = 'owner' | 'admin' | 'member';

/** What a GroupCreate asks for (spec §7.10). */
export interface GroupCreateRequest {
  readonly groupId: string;
  readonly relay: boolean;
  /** Every member with its role, the creator first and always owner. */
  readonly members: ReadonlyMap<string, GroupRole>;
}

/** What a GroupInvite asks for (spec §7.11). */
export interface GroupInviteRequest {
  readonly groupId: string;
  readonly device: string;
  /** Never owner: an invite can make at most an admin. */
  readonly role: Exclude<GroupRole, 'owner'>;
}

const controlValue = (frame: Frame): JsonValue => (frame.payload.kind === 'control' ? frame.payload.value : null);

/**
 * The frame's payload as a JSON object, or RouterError('invalid'). Every group frame, and a
 * 1.0.103 KeyUpdate, must be an object: the real client's UI exits on a Join, GroupCreate or
 * GroupInvite payload that is not one (spec §7.21), so such a frame is never relayed.
 */
export function objectPayload(frame: Frame, what: string): JsonObject {
  const value = controlValue(frame);
  if (!isJsonObject(value)) throw new RouterError('invalid', `a ${what} payload must be a JSON object`);
  return value;
}

const asRole = (value: JsonValue | undefined): GroupRole =>
  value === 'owner' || value === 'admin' ? value : 'member';

/**
 * GroupCreate: `group_id` (a random 32-byte hex id when absent), `relay` (default true),
 * `members` (non-string entries ignored, as in Join), `roles` (unknown names become member).
 * The creator is always a member and always owner.
 */
export function parseGroupCreate(frame: Frame, creatorDeviceId: string): GroupCreateRequest {
  const value = objectPayload(frame, 'GroupCreate');
  const groupId = optionalGroupId(value.group_id);
  const declaredRoles = value.roles ?? null;
  const roles: JsonObject = isJsonObject(declaredRoles) ? declaredRoles : {};
  const members = new Map<string, GroupRole>([[creatorDeviceId, 'owner']]);
  const declared = Array.isArray(value.members) ? value.members.filter(usableDeviceId) : [];
  for (const device of declared) {
    if (!members.has(device)) members.set(device, asRole(Object.hasOwn(roles, device) ? roles[device] : undefined));
  }
  return { groupId, relay: typeof value.relay === 'boolean' ? value.relay : true, members };
}

// An explicit group_id must be usable as a key (same rule as device ids: no NUL, not empty).
function optionalGroupId(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return randomBytes(32).toString('hex');
  if (!usableDeviceId(value)) throw new RouterError('invalid', 'group_id must be a non-empty string');
  return value;
}

/** GroupInvite: `group_id` and `device` strings are required; `role` owner is lowered to admin. */
export function parseGroupInvite(frame: Frame): GroupInviteRequest {
  const value = objectPayload(frame, 'GroupInvite');
  const groupId = value.group_id ?? null, device = value.device ?? null;
  // The real client's UI exits on a GroupInvite without these (spec §7.21).
  if (!usableDeviceId(groupId) || !usableDeviceId(device)) {
    throw new RouterError('invalid', 'a GroupInvite needs string group_id and device');
  }
  const role = asRole(value.role);
  return { groupId, device, role: role === 'owner' ? 'admin' : role };
}
