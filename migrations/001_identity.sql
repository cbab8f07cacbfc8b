-- Users, devices, device certificates, key history and REST sessions (owned by directory).

CREATE TABLE app_user (
  user_id      TEXT PRIMARY KEY,
  handle       TEXT NOT NULL UNIQUE,
  domain       TEXT NOT NULL,
  display_name TEXT,
  avatar_url   TEXT,
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX app_user_domain_idx ON app_user (domain);

CREATE TABLE user_device (
  device_id  TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES app_user (user_id) ON DELETE CASCADE,
  public_key BYTEA NOT NULL CHECK (octet_length(public_key) = 32),
  status     TEXT NOT NULL CHECK (status IN ('active', 'revoked', 'diagnostic')),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX user_device_user_idx ON user_device (user_id);

-- Every certificate the CA issued. Serials are u64, so NUMERIC keeps them exact.
CREATE TABLE device_certificate (
  serial     NUMERIC(20, 0) PRIMARY KEY CHECK (serial >= 0 AND serial <= 18446744073709551615),
  device_id  TEXT NOT NULL REFERENCES user_device (device_id) ON DELETE CASCADE,
  user_id    TEXT NOT NULL REFERENCES app_user (user_id) ON DELETE CASCADE,
  public_key BYTEA NOT NULL CHECK (octet_length(public_key) = 32),
  issuer     BYTEA NOT NULL CHECK (octet_length(issuer) = 32),
  issued_at  BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  signature  BYTEA NOT NULL CHECK (octet_length(signature) = 64),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX device_certificate_device_idx ON device_certificate (device_id, issued_at DESC);

CREATE TABLE device_key_event (
  event_id    TEXT PRIMARY KEY,
  device_id   TEXT NOT NULL REFERENCES user_device (device_id) ON DELETE CASCADE,
  public_key  BYTEA NOT NULL,
  reason      TEXT NOT NULL,
  recorded_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX device_key_event_device_idx ON device_key_event (device_id, recorded_at DESC);

-- REST bearer sessions. Only a SHA-256 of the token is stored; expiry slides on use.
CREATE TABLE session (
  token_hash   BYTEA PRIMARY KEY CHECK (octet_length(token_hash) = 32),
  user_id      TEXT NOT NULL REFERENCES app_user (user_id) ON DELETE CASCADE,
  device_id    TEXT NOT NULL REFERENCES user_device (device_id) ON DELETE CASCADE,
  ttl_seconds  INTEGER NOT NULL CHECK (ttl_seconds > 0),
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_used_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  expires_at   TIMESTAMPTZ NOT NULL,
  revoked_at   TIMESTAMPTZ
);
CREATE INDEX session_device_idx ON session (device_id);
CREATE INDEX session_expires_idx ON session (expires_at);
