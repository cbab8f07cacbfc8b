import type { MediaReplicaHeartbeat } from '@commucat/contracts';
import { pickReplica } from '@commucat/media-format';

/** A replica not heard from for this long is taken out: its calls move to the others. */
export const MEDIA_REPLICA_TIMEOUT_MS = 1000;

/**
 * The media replicas alive now (from their heartbeats), and which one encodes a call. Rendezvous
 * hashing: every router replica with the same view picks the same replica for a call, adding a
 * replica moves only the calls it wins, and when one dies only its calls move (the new replica
 * builds fresh encoders, so VP8 restarts with a keyframe).
 */
export class MediaReplicas {
  private readonly lastSeen = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  heard(heartbeat: MediaReplicaHeartbeat): void {
    if (heartbeat.replicaId) this.lastSeen.set(heartbeat.replicaId, this.now());
  }

  alive(): string[] {
    const cutoff = this.now() - MEDIA_REPLICA_TIMEOUT_MS;
    const alive: string[] = [];
    for (const [replica, seen] of this.lastSeen) {
      if (seen >= cutoff) alive.push(replica);
      else if (seen < cutoff - 60_000) this.lastSeen.delete(replica);
    }
    return alive.sort();
  }

  /** The replica that encodes `callId` (the same choice as `commucat-cli call-simulate`), or undefined when none is alive. */
  pick(callId: string): string | undefined {
    const alive = this.alive();
    return alive.length === 0 ? undefined : pickReplica(callId, alive);
  }
}
