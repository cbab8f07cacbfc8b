-- Uploaded images (owned by directory), kept in Postgres so every gateway replica can serve
-- GET /uploads/{name}. Files are content-addressed (16 hex of BLAKE3 + extension), so two users
-- with the same picture share one row; user_avatar says who uses which, and a file nobody uses
-- any more is deleted when its last user changes avatar.
CREATE TABLE upload (
  filename     TEXT PRIMARY KEY CHECK (filename ~ '^[0-9a-f]{16}\.(jpg|png|webp|gif)$'),
  content_type TEXT NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp', 'image/gif')),
  data         BYTEA NOT NULL CHECK (octet_length(data) BETWEEN 1 AND 5242880),
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE user_avatar (
  user_id    TEXT PRIMARY KEY REFERENCES app_user (user_id) ON DELETE CASCADE,
  filename   TEXT NOT NULL REFERENCES upload (filename),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX user_avatar_filename_idx ON user_avatar (filename);
