-- Every envelope relay has accepted, remembered for the envelope's lifetime even after the
-- device acknowledged it and its relay_queue row is gone. A sender that resends a message whose
-- Ack it never saw (its gateway died, its connection dropped) must not produce a second copy:
-- the unique key of relay_queue alone forgets a message as soon as it is delivered.
CREATE TABLE relay_accepted (
  device_id  TEXT NOT NULL,
  message_id TEXT NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (device_id, message_id)
);
CREATE INDEX relay_accepted_expires_idx ON relay_accepted (expires_at);

INSERT INTO relay_accepted (device_id, message_id, expires_at)
SELECT device_id, message_id, expires_at FROM relay_queue
ON CONFLICT DO NOTHING;
