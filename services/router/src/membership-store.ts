import type { Pool } from 'pg';
import { withTransaction } from '@commucat/storage';
import { RouterError } from './errors.js';
import { MAX_CHANNEL_MEMBERS } from './limits.js';

/**
 * Channel membership in Postgres (migrations/004_channels.sql). Membership is durable rather than
 * in memory as in the reference, so every router replica and a restarted router agree on it.
 */
export class MembershipStore {
  constructor(private readonly pool: Pool, private readonly maxMembers = MAX_CHANNEL_MEMBERS) {}

  /**
   * Adds the devices to the channel (creating it) in one transaction and returns the members
   * afterwards. Deviation from the reference, which REPLACES the channel's route with the Join's
   * members so the last joiner cuts everyone else off (spec §7.3, trap T15): we MERGE, so two
   * real clients that each declare only themselves end up in one channel.
   */
  async join(channelId: number, deviceIds: readonly string[], relay: boolean): Promise<string[]> {
    return withTransaction(this.pool, async (client) => {
      await client.query(
        `INSERT INTO channel (channel_id, relay) VALUES ($1, $2)
         ON CONFLICT (channel_id) DO UPDATE SET relay = EXCLUDED.relay`,
        [channelId, relay],
      );
      // Sorted so two concurrent joins of overlapping sets take row locks in the same order.
      const unique = [...new Set(deviceIds)].sort();
      await client.query(
        `INSERT INTO channel_member (channel_id, device_id)
         SELECT $1, d FROM unnest($2::text[]) AS d
         ON CONFLICT (channel_id, device_id) DO NOTHING`,
        [channelId, unique],
      );
      const { rows } = await client.query<{ device_id: string }>(
        'SELECT device_id FROM channel_member WHERE channel_id = $1 ORDER BY device_id',
        [channelId],
      );
      // Throwing rolls the whole Join back, so a refused Join changes nothing.
      if (rows.length > this.maxMembers) {
        throw new RouterError('channel_full', `channel ${channelId} would have ${rows.length} members; at most ${this.maxMembers}`);
      }
      return rows.map((row) => row.device_id);
    });
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
}
