/** A complete CCP-1 frame: at most a 16 MiB body behind a varint length of at most 10 bytes. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024 + 10;
/** Envelopes per Enqueue call: one transaction must stay short. */
export const MAX_ENVELOPES_PER_ENQUEUE = 1000;
/** Seqs listed in one Acknowledge call. */
export const MAX_ACK_SEQS = 10_000;
export const DEFAULT_DRAIN_LIMIT = 256;
export const MAX_DRAIN_LIMIT = 1000;
/**
 * Frame bytes per drain page. gRPC peers refuse messages above 4 MiB by default, so a page of
 * large frames would fail on every attempt and the inbox would never empty; the rest of the
 * envelope fields stay well inside the remaining headroom.
 */
export const DEFAULT_DRAIN_PAGE_BYTES = 3 * 1024 * 1024;
/** Rows per expiry DELETE, so a large backlog is purged in short transactions. */
export const DEFAULT_PURGE_BATCH = 1000;
export const DEFAULT_PURGE_INTERVAL_MS = 60_000;
