/** What a caller hands to Enqueue: everything but the fields relay assigns. */
export interface NewEnvelope {
  readonly deviceId: string;
  /** Unique per message; with deviceId the idempotency key. */
  readonly messageId: string;
  readonly channelId: number;
  /** A complete encoded CCP-1 frame. */
  readonly frame: Uint8Array;
  /** May be empty for frames the server itself originates. */
  readonly senderDeviceId: string;
}

/** An envelope as stored: with its per-device seq and its lifetime. */
export interface StoredEnvelope extends NewEnvelope {
  readonly frame: Buffer;
  readonly seq: number;
  readonly enqueuedAt: Date;
  readonly expiresAt: Date;
}

export interface DrainPage {
  /** Oldest first (ascending seq). */
  readonly envelopes: StoredEnvelope[];
  /** More unexpired envelopes follow the last one returned. */
  readonly more: boolean;
}
