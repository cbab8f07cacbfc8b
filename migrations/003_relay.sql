-- The durable per-device inbox (owned by relay). An envelope is stored before the sender is
-- acknowledged and deleted only when the device acknowledged it, or by the expiry purge.
--
-- No foreign key to user_device: the router also queues for devices this database does not
-- own (federated/remote device ids), and a revoked or deleted device's envelopes simply expire.

-- Per-device sequence allocator. Rows are kept after the inbox empties: restarting a device's
-- sequence at 1 would make a client that remembers its last seq skip new envelopes.
CREATE TABLE relay_inbox (
  device_id TEXT PRIMARY KEY,
  -- The seq the next enqueued envelope gets.
  next_seq  BIGINT NOT NULL CHECK (next_seq > 0)
);

CREATE TABLE relay_queue (
  device_id        TEXT NOT NULL,
  seq              BIGINT NOT NULL CHECK (seq > 0),
  message_id       TEXT NOT NULL,
  channel_id       BIGINT NOT NULL CHECK (channel_id >= 0),
  -- A complete encoded CCP-1 frame as the recipient will receive it.
  frame            BYTEA NOT NULL,
  sender_device_id TEXT NOT NULL,
  enqueued_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  expires_at       TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (device_id, seq),
  -- The idempotency key: a retried enqueue finds the stored envelope instead of adding another.
  UNIQUE (device_id, message_id)
);
-- The expiry purge scans by expires_at.
CREATE INDEX relay_queue_expires_idx ON relay_queue (expires_at);
