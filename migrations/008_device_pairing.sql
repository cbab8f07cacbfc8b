-- Pairing codes (owned by directory): POST /api/pair issues one from an active device, and
-- /api/pair/claim redeems it exactly once to add a new device to the same user. Codes are short
-- lived; the directory purges expired and long-redeemed rows.
CREATE TABLE device_pairing (
  pair_code          TEXT PRIMARY KEY CHECK (pair_code ~ '^[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}$'),
  user_id            TEXT NOT NULL REFERENCES app_user (user_id) ON DELETE CASCADE,
  issuer_device_id   TEXT NOT NULL REFERENCES user_device (device_id) ON DELETE CASCADE,
  issued_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
  expires_at         TIMESTAMPTZ NOT NULL,
  redeemed_at        TIMESTAMPTZ,
  redeemed_device_id TEXT REFERENCES user_device (device_id) ON DELETE SET NULL,
  CHECK (expires_at > issued_at),
  CHECK (redeemed_device_id IS NULL OR redeemed_at IS NOT NULL)
);
CREATE INDEX device_pairing_issuer_idx ON device_pairing (issuer_device_id);
CREATE INDEX device_pairing_expires_idx ON device_pairing (expires_at);

