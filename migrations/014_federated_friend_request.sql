-- Federated friend requests (owned by directory; spec rest-storage-ops §5.5, weakness §11.14).
-- federated_friend_request: one row per (direction, local user, remote user), like friend_request:
--   outgoing = a local user asked `handle@domain`; incoming = `handle@domain` asked a local user.
--   Asking again after an answer re-opens the row under a new wire request id. remote_user is
--   `handle@domain` with the domain lowercased; remote_domain repeats that domain for lookups.
-- federated_friend_request_wire_id: every request id that travelled between the domains for a
--   row, per direction and remote domain. It outlives re-opens, so a repeated delivery of an old
--   request (or a late answer to one) is recognised instead of re-opening or failing (§11.14).
CREATE TABLE federated_friend_request (
  id              TEXT PRIMARY KEY,
  direction       TEXT NOT NULL CHECK (direction IN ('outgoing', 'incoming')),
  local_user_id   TEXT NOT NULL REFERENCES app_user (user_id) ON DELETE CASCADE,
  remote_user     TEXT NOT NULL CHECK (remote_user LIKE '_%@_%'),
  remote_domain   TEXT NOT NULL CHECK (remote_domain <> '' AND remote_domain = lower(remote_domain)),
  -- The request id on the wire now (ours for outgoing, the origin's for incoming).
  wire_request_id TEXT NOT NULL CHECK (wire_request_id <> ''),
  status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'rejected')),
  message         TEXT,
  created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  UNIQUE (direction, local_user_id, remote_user),
  CHECK (right(remote_user, length(remote_domain) + 1) = '@' || remote_domain)
);
-- Incoming = pending requests to a user; outgoing = every request from a user (UNIQUE covers it).
CREATE INDEX federated_friend_request_incoming_idx ON federated_friend_request (local_user_id, created_at DESC)
  WHERE direction = 'incoming' AND status = 'pending';

CREATE TABLE federated_friend_request_wire_id (
  direction       TEXT NOT NULL CHECK (direction IN ('outgoing', 'incoming')),
  remote_domain   TEXT NOT NULL,
  wire_request_id TEXT NOT NULL,
  request_id      TEXT NOT NULL REFERENCES federated_friend_request (id) ON DELETE CASCADE,
  created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (direction, remote_domain, wire_request_id)
);
CREATE INDEX federated_friend_request_wire_id_request_idx ON federated_friend_request_wire_id (request_id);
