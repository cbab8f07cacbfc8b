-- Friend requests between local users (owned by directory). One row per (from, to) pair: asking
-- again after an answer re-opens the same row. Federated requests are the federation service's.
CREATE TABLE friend_request (
  request_id   TEXT PRIMARY KEY,
  from_user_id TEXT NOT NULL REFERENCES app_user (user_id) ON DELETE CASCADE,
  to_user_id   TEXT NOT NULL REFERENCES app_user (user_id) ON DELETE CASCADE,
  status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'rejected')),
  message      TEXT,
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  UNIQUE (from_user_id, to_user_id),
  CHECK (from_user_id <> to_user_id)
);
-- Incoming = pending requests to a user; outgoing = every request from a user (UNIQUE covers it).
CREATE INDEX friend_request_incoming_idx ON friend_request (to_user_id, created_at DESC) WHERE status = 'pending';
