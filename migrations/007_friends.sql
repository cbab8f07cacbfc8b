-- Friend lists (owned by directory): one row per entry of a user's list. The friend may be a
-- federated `user@domain` id this database does not hold, so friend_user_id has no foreign key.
-- The REST API (/api/friends) edits these rows; presence goes to mutual friends (each lists the
-- other), like friend devices in the REST API (spec rest-storage-ops §11.9).
CREATE TABLE friend (
  user_id        TEXT NOT NULL REFERENCES app_user (user_id) ON DELETE CASCADE,
  friend_user_id TEXT NOT NULL CHECK (friend_user_id <> ''),
  alias          TEXT,
  created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, friend_user_id),
  CHECK (friend_user_id <> user_id)
);
-- "Who lists me": the other half of the mutual check.
CREATE INDEX friend_friend_idx ON friend (friend_user_id, user_id);
