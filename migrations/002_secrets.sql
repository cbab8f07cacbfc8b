-- Versioned key material (owned by secrets). Private parts are sealed with the configured
-- key-encryption key (AES-256-GCM): `secret` holds nonce ‖ ciphertext ‖ tag.

CREATE TABLE server_secret (
  name        TEXT NOT NULL,
  version     INTEGER NOT NULL CHECK (version > 0),
  secret      BYTEA NOT NULL,
  public      BYTEA,
  sealing     TEXT NOT NULL CHECK (sealing IN ('aes-256-gcm')),
  created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  valid_after TIMESTAMPTZ NOT NULL,
  rotates_at  TIMESTAMPTZ,
  expires_at  TIMESTAMPTZ,
  PRIMARY KEY (name, version)
);
CREATE INDEX server_secret_active_idx ON server_secret (name, valid_after, expires_at);
