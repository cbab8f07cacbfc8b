import { createHash } from 'node:crypto';

/** A replica's weight for a call: the first 8 bytes of SHA-256(replica ␀ call) as an integer. */
function weight(replicaId: string, callId: string): bigint {
  return createHash('sha256').update(replicaId).update('\0').update(callId).digest().readBigUInt64BE(0);
}

/**
 * Rendezvous (highest random weight) hashing: the call goes to the replica with the highest weight.
 * When a replica disappears only its own calls move; the others keep their replica. Ties (never seen
 * in practice) go to the smaller replica id so the choice does not depend on the list's order.
 */
export function pickReplica(callId: string, replicaIds: readonly string[]): string {
  if (replicaIds.length === 0) throw new RangeError('no replica to pick from');
  let best = replicaIds[0]!;
  let bestWeight = weight(best, callId);
  for (const replicaId of replicaIds.slice(1)) {
    const w = weight(replicaId, callId);
    if (w > bestWeight || (w === bestWeight && replicaId < best)) {
      best = replicaId;
      bestWeight = w;
    }
  }
  return best;
}
