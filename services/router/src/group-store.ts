import type { Pool, PoolClient } from 'pg';
import { withTransaction } from '@commucat/storage';
import { mergeChannelMembers } from './channel-merge.js';
import { RouterError } from './errors.js';
import type { GroupCreateRequest, GroupInviteRequest, GroupRole } from './group-payloads.js';
import { MAX_CHANNEL_MEMBERS } from './limits.js';

export interface GroupMember {
  readonly deviceId: string;
  readonly role: GroupRole;
}

/**
 * Groups in Postgres (migrations/005_groups.sql). Every change to a group and the matching change
 * to the frame's channel happen in one transaction, so a refused frame (conflict, forbidden,
 * channel_full) leaves neither behind. Each method returns the channel's members afterwards.
 */
export class GroupStore {
  constructor(private readonly pool: Pool, private readonly maxMembers = MAX_CHANNEL_MEMBERS) {}

  /** Stores the group and its members and merges them into the channel; a taken group_id is a conflict. */
  async create(channelId: number, ownerDevice: string, request: GroupCreateRequest): Promise<string[]> {
    return withTransaction(this.pool, async (client) => {
      const { rowCount } = await client.query(
        `INSERT INTO chat_group (group_id, owner_device, relay) VALUES ($1, $2, $3)
         ON CONFLICT (group_id) DO NOTHING`,
        [request.groupId, ownerDevice, request.relay],
      );
      if (!rowCount) throw new RouterError('conflict', `group ${request.groupId} already exists`);
      const devices = [...request.members.keys()].sort();
      await client.query(
        `INSERT INTO group_member (group_id, device_id, role)
         SELECT $1, d, r FROM unnest($2::text[], $3::text[]) AS m (d, r)`,
        [request.groupId, devices, devices.map((device) => request.members.get(device))],
      );
      return mergeChannelMembers(client, channelId, devices, request.relay, this.maxMembers);
    });
  }

  /**
   * Adds the invitee to the group (an existing member keeps its role, so an invite never demotes
   * anyone) and to the channel. A channel that does not exist yet is created with every group
   * member and relay = true, as in the reference (spec §7.11).
   */
  async invite(channelId: number, inviter: string, request: GroupInviteRequest): Promise<string[]> {
    return withTransaction(this.pool, async (client) => {
      // FOR SHARE keeps the inviter's row (and so its role) in place until we commit.
      const { rows } = await client.query<{ role: GroupRole }>(
        'SELECT role FROM group_member WHERE group_id = $1 AND device_id = $2 FOR SHARE',
        [request.groupId, inviter],
      );
      const role = rows[0]?.role;
      if (role !== 'owner' && role !== 'admin') {
        throw new RouterError('forbidden', `only an owner or admin of group ${request.groupId} can invite`);
      }
      await client.query(
        `INSERT INTO group_member (group_id, device_id, role) VALUES ($1, $2, $3)
         ON CONFLICT (group_id, device_id) DO NOTHING`,
        [request.groupId, request.device, request.role],
      );
      const channel = await client.query<{ relay: boolean }>('SELECT relay FROM channel WHERE channel_id = $1 FOR UPDATE', [channelId]);
      const existing = channel.rows[0];
      if (existing) return mergeChannelMembers(client, channelId, [request.device], existing.relay, this.maxMembers);
      return mergeChannelMembers(client, channelId, await groupDevices(client, request.groupId), true, this.maxMembers);
    });
  }

  /** Join with `group_id` (spec §7.3): the joiner must be a stored member; all members join the channel. */
  async joinChannel(channelId: number, joiner: string, groupId: string, relay: boolean): Promise<string[]> {
    return withTransaction(this.pool, async (client) => {
      const devices = await groupDevices(client, groupId);
      if (!devices.includes(joiner)) {
        throw new RouterError('forbidden', `device ${joiner} is not a member of group ${groupId}`);
      }
      return mergeChannelMembers(client, channelId, devices, relay, this.maxMembers);
    });
  }

  /** The group's members with their roles, sorted by device id; empty for an unknown group. */
  async members(groupId: string): Promise<GroupMember[]> {
    const { rows } = await this.pool.query<{ device_id: string; role: GroupRole }>(
      'SELECT device_id, role FROM group_member WHERE group_id = $1 ORDER BY device_id',
      [groupId],
    );
    return rows.map((row) => ({ deviceId: row.device_id, role: row.role }));
  }
}

async function groupDevices(client: PoolClient, groupId: string): Promise<string[]> {
  const { rows } = await client.query<{ device_id: string }>(
    'SELECT device_id FROM group_member WHERE group_id = $1 ORDER BY device_id',
    [groupId],
  );
  return rows.map((row) => row.device_id);
}
