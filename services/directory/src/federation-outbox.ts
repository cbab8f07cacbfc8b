/** One event for a peer domain, handed to the federation service's durable outbox. */
export interface FederationEvent {
  /** The destination domain. */
  peer: string;
  /** `friend_request` | `friend_answer` */
  eventType: string;
  payload: Record<string, unknown>;
  /** A repeat with the same key is the same event (safe to retry a transaction). */
  idempotencyKey: string;
  /** Events with the same key reach the peer in enqueue order. */
  orderKey: string;
}

/**
 * Where federated friend-request events go. Called inside the Postgres transaction that records
 * the request, before COMMIT: a refusal rolls the request back. Implementations refuse with
 * DirectoryError `unknown_domain` (the peer is not configured) or `federation_unavailable`.
 */
export interface FederationOutbox {
  enqueue(event: FederationEvent): Promise<void>;
}
