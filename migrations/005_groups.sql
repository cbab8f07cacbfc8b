-- Groups (owned by router): GroupCreate / GroupInvite store them, a Join with `group_id` reads
-- them (spec ccp1-wire §7.3, §7.10, §7.11; rest-storage-ops §2.1).
--
-- No foreign key to user_device (unlike the reference): members may be device ids this database
-- does not own (federated ids, later), and a deleted device's memberships are harmless.

CREATE TABLE chat_group (
  group_id     TEXT PRIMARY KEY,
  owner_device TEXT NOT NULL,
  -- The GroupCreate `relay` flag (default true); like the channel's, it does not change delivery.
  relay        BOOLEAN NOT NULL DEFAULT true,
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE group_member (
  group_id  TEXT NOT NULL REFERENCES chat_group (group_id) ON DELETE CASCADE,
  device_id TEXT NOT NULL,
  role      TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  joined_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, device_id)
);
-- "Which groups is this device in".
CREATE INDEX group_member_device_idx ON group_member (device_id);
