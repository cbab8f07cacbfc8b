/**
 * Members of one channel. A Msg becomes one relay Enqueue call for every other member, and relay
 * takes at most 1000 envelopes per call (relay MAX_ENVELOPES_PER_ENQUEUE).
 */
export const MAX_CHANNEL_MEMBERS = 1000;
/** Deadline of one relay or presence call made while handling a frame. */
export const FLEET_CALL_DEADLINE_MS = 5_000;
