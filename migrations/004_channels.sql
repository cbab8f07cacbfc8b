-- Channel membership (owned by router). The reference keeps routes in memory only and loses them
-- on restart; here they are durable so any router replica (and a restarted one) sees the same
-- membership.
--
-- No foreign key to user_device: members may be device ids this database does not own
-- (federated ids, later), and a deleted device's memberships are harmless.

CREATE TABLE channel (
  -- CCP-1 channel ids are u32 (spec ccp1-wire §1.3).
  channel_id BIGINT PRIMARY KEY CHECK (channel_id BETWEEN 0 AND 4294967295),
  -- The Join `relay` flag of the latest Join; kept for clients, it does not change delivery (§7.1).
  relay      BOOLEAN NOT NULL DEFAULT false,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE channel_member (
  channel_id BIGINT NOT NULL REFERENCES channel (channel_id) ON DELETE CASCADE,
  device_id  TEXT NOT NULL,
  joined_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (channel_id, device_id)
);
-- "Which channels is this device in" (leaving everything, listing a device's channels).
CREATE INDEX channel_member_device_idx ON channel_member (device_id);
