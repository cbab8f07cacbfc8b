import type { PoolClient } from 'pg';
import { RouterError } from './errors.js';

/**
 * Inside the caller's transaction: creates the channel if needed, adds the devices to it (merge,
 * never replace: spec §7.3 deviation) and returns the members afterwards, sorted. Throws
 * RouterError('channel_full') past `maxMembers`, which rolls the caller's whole transaction back.
 * Shared by Join and the group frames so a group's rows and its channel change together.
 */
export async function mergeChannelMembers(
  client: PoolClient, channelId: number, deviceIds: readonly string[], relay: boolean, maxMembers: number,
): Promise<string[]> {
  await client.query(
    `INSERT INTO channel (channel_id, relay) VALUES ($1, $2)
     ON CONFLICT (channel_id) DO UPDATE SET relay = EXCLUDED.relay`,
    [channelId, relay],
  );
  // Sorted so two concurrent merges of overlapping sets take row locks in the same order.
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
  if (rows.length > maxMembers) {
    throw new RouterError('channel_full', `channel ${channelId} would have ${rows.length} members; at most ${maxMembers}`);
  }
  return rows.map((row) => row.device_id);
}
