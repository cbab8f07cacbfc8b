/**
 * The stable `error` codes the router puts in Error frames. The reference closes the connection
 * silently on any routing failure (spec ccp1-wire §7.1, trap T15); we answer with an Error frame
 * and keep the connection open instead, because the real client shows Error frames and goes on.
 */
export type RouterErrorCode =
  /** The frame did not decode (the reference's only Error frame, `{"error":"decode"}`). */
  | 'decode'
  /** A frame type (or Join option) this router does not route yet. */
  | 'unsupported'
  /** The sender is not a member of the frame's channel, or the channel does not exist. */
  | 'not_member'
  /** The payload has the wrong shape (e.g. a Join payload that is not an object). */
  | 'invalid'
  /** The sender lacks the group role (or group membership) the frame needs. */
  | 'forbidden'
  /** The frame would create something that already exists (a GroupCreate with a taken group_id). */
  | 'conflict'
  /** The channel already has the most members one fan-out can carry. */
  | 'channel_full'
  /** A member `device@domain` names a domain that is not a configured federation peer (the local members got the frame). */
  | 'unknown_domain'
  /** A CallAnswer/CallEnd/CallStats/TransportUpdate names a call that does not exist or has ended. */
  | 'unknown_call'
  /** The sender is not (or no longer: it rejected, hung up or was dropped) a participant of the call. */
  | 'not_participant'
  /** A CallOffer reuses the call_id of a call that exists (active, or ended within the last day). */
  | 'call_exists'
  /** A CallOffer on a channel with more members than calls.max_participants. */
  | 'call_full'
  /** A VoiceFrame/VideoFrame that cannot be handled (garbage, wrong size, unknown codec); `reason` has the media code. */
  | 'invalid_media'
  /** A storage or fleet dependency failed; nothing was acknowledged, the client may resend. */
  | 'unavailable';

export class RouterError extends Error {
  override readonly name = 'RouterError';
  constructor(readonly code: RouterErrorCode, readonly detail: string) {
    super(`${code}: ${detail}`);
  }
}

export const isRouterError = (err: unknown): err is RouterError => err instanceof RouterError;

/**
 * The router is shutting down while a frame waits on a dependency. The frame is neither answered
 * nor acknowledged on the bus, so the next router process handles it (in order) instead.
 */
export class RouterStopping extends Error {
  override readonly name = 'RouterStopping';
  constructor() {
    super('the router is stopping; the frame is left for the next router process');
  }
}
