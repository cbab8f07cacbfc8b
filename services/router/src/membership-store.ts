import type { Pool } from 'pg';
import { withTransaction } from '@commucat/storage';
import { mergeChannelMembers } from './channel-merge.js';
import { MAX_CHANNEL_MEMBERS } from './limits.js';

/**
 * Channel membership in Postgres (migrations/004_channels.sql). Membership is durable rather than
 * in memory as in the reference, so every router replica and a restarted router agree on it.
 */
export class MembershipStore {
  // Public so the group store shares the pool and the member limit (GroupFrames builds it from this).
  constructor(readonly pool: Pool, readonly maxMembers = MAX_CHANNEL_MEMBERS) {}

  /**
   * Adds the devices to the channel (creating it) in one transaction and returns the members
   * afterwards. Deviation from the reference, which REPLACES the channel's route with the Join's
   * members so the last joiner cuts everyone else off (spec §7.3, trap T15): we MERGE, so two
   * real clients that each declare only themselves end up in one channel.
   */
  async join(channelId: number, deviceIds: readonly string[], relay: boolean): Promise<string[]> {
    return withTransaction(this.pool, (client) => mergeChannelMembers(client, channelId, deviceIds, relay, this.maxMembers));
  }

  /**
   * Removes only this device. Deviation from the reference, which drops the whole route for
   * every member (spec §7.4). A channel left without members is deleted. Returns whether the
   * device was a member.
   */
  async leave(channelId: number, deviceId: string): Promise<boolean> {
    return withTransaction(this.pool, async (client) => {
      // Locking the channel row first serialises this with a concurrent Join's upsert: a Join
      // that commits first is seen by the emptiness check below (each READ COMMITTED statement
      // takes a fresh snapshot), and one that waits on us recreates the channel after we commit.
      await client.query('SELECT 1 FROM channel WHERE channel_id = $1 FOR UPDATE', [channelId]);
      const { rowCount } = await client.query(
        'DELETE FROM channel_member WHERE channel_id = $1 AND device_id = $2',
        [channelId, deviceId],
      );
      await client.query(
        `DELETE FROM channel c
          WHERE c.channel_id = $1
            AND NOT EXISTS (SELECT 1 FROM channel_member m WHERE m.channel_id = c.channel_id)`,
        [channelId],
      );
      return (rowCount ?? 0) > 0;
    });
  }

  /** The channel's members, sorted; empty for an unknown channel. */
  async members(channelId: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ device_id: string }>(
      'SELECT device_id FROM channel_member WHERE channel_id = $1 ORDER BY device_id',
      [channelId],
    );
    return rows.map((row) => row.device_id);
  }

  /** The channel's other members, or undefined when the sender is not a member (or the channel is unknown). */
  async recipientsOf(channelId: number, senderDeviceId: string): Promise<string[] | undefined> {
    const members = await this.members(channelId);
    if (!members.includes(senderDeviceId)) return undefined;
    return members.filter((member) => member !== senderDeviceId);
  }

  /** The channels the device is a member of, ascending. */
  async channelsOf(deviceId: string): Promise<number[]> {
    const { rows } = await this.pool.query<{ channel_id: string }>(
      'SELECT channel_id FROM channel_member WHERE device_id = $1 ORDER BY channel_id',
      [deviceId],
    );
    // BIGINT comes back as a string; channel ids are u32, so Number is exact.
    return rows.map((row) => Number(row.channel_id));
  }

  /** Every other member of every channel the device is in, each once, sorted (who sees its presence). */
  async coMembersOf(deviceId: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ device_id: string }>(
      `SELECT DISTINCT other.device_id
         FROM channel_member mine
         JOIN channel_member other ON other.channel_id = mine.channel_id
        WHERE mine.device_id = $1 AND other.device_id <> $1
        ORDER BY other.device_id`,
      [deviceId],
    );
    return rows.map((row) => row.device_id);
  }
}
