-- Federation (spec rest-storage-ops §5, weaknesses §11.12–11.13).
-- federation_outbox: events waiting to be POSTed to a peer domain. One dispatcher per process
--   claims due rows (FOR UPDATE SKIP LOCKED under a per-peer advisory lock), so replicas never send
--   a row at the same time. The event is signed at send time (fresh created_at), so only the
--   unsigned parts are stored. States: pending → in_flight → delivered | dead (max attempts or a
--   permanent 4xx); a failed attempt goes back to pending with next_attempt_at in the future.
--   lease_until lets another replica reclaim rows of a process that died mid-send.
--   order_key: rows with the same key (e.g. one target device) go out one at a time in id order,
--   so that target sees them in order; rows with different keys go out concurrently.
-- federation_inbound: event ids already processed per peer, written in the same transaction as
--   the delivery (so a failed delivery leaves no record), pruned after a retention window.
CREATE TABLE federation_outbox (
  id               BIGSERIAL PRIMARY KEY,
  peer             TEXT NOT NULL,
  event_type       TEXT NOT NULL,
  idempotency_key  TEXT NOT NULL,
  event_id         TEXT NOT NULL,
  order_key        TEXT NOT NULL,
  payload          TEXT NOT NULL,
  state            TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'in_flight', 'delivered', 'dead')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  lease_until      TIMESTAMPTZ,
  last_error       TEXT,
  created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  finished_at      TIMESTAMPTZ,
  UNIQUE (peer, idempotency_key)
);
CREATE INDEX federation_outbox_open ON federation_outbox (peer, order_key, id) WHERE state IN ('pending', 'in_flight');

CREATE TABLE federation_inbound (
  peer          TEXT NOT NULL,
  event_id      TEXT NOT NULL,
  digest        BYTEA NOT NULL,
  processed_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (peer, event_id)
);
CREATE INDEX federation_inbound_processed_at ON federation_inbound (processed_at);
