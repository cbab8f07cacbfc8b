-- Call signalling state (owned by router; spec calls-media §3). The reference keeps calls in
-- memory; here they live in Postgres so that any router replica can handle any call frame, the
-- ring-timeout sweeper of any replica can end an unanswered call, and a restarted router still
-- knows its calls. Every change to a call locks its call_session row first (SELECT … FOR UPDATE),
-- so two replicas never interleave updates of one call.

CREATE TABLE call_session (
  -- Chosen by the offering client; non-empty, no NUL, at most 256 characters.
  call_id       TEXT PRIMARY KEY,
  channel_id    BIGINT NOT NULL CHECK (channel_id >= 0),
  initiator     TEXT NOT NULL,
  started_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  -- Invited devices that have not answered by then stop ringing; the offer's relay envelopes
  -- expire no later than this, so a device that reconnects afterwards never gets a stale offer.
  ring_deadline TIMESTAMPTZ NOT NULL,
  -- Set once the sweeper has dealt with the ring deadline (ended the call or dropped the devices
  -- still ringing), so it handles each call's deadline once.
  ring_closed   BOOLEAN NOT NULL DEFAULT false,
  -- Bumped by answers, stats and transport updates.
  last_update   TIMESTAMPTZ NOT NULL DEFAULT now(),
  -- The current media profile / transport description (JSON text as the client sent it; TEXT
  -- rather than JSONB, which refuses \u0000 inside strings). An accepting answer replaces them.
  media_json     TEXT,
  transport_json TEXT,
  -- CallStats frames received for this call, from every participant.
  stats_reports BIGINT NOT NULL DEFAULT 0,
  -- Set when the call ended for everyone; the row is kept a day so the call_id is not reused.
  ended_at      TIMESTAMPTZ,
  end_reason    TEXT
);
-- The sweeper's two scans: ring deadlines of live calls, and ended calls past retention.
CREATE INDEX call_session_ring_idx ON call_session (ring_deadline) WHERE ended_at IS NULL AND NOT ring_closed;
CREATE INDEX call_session_ended_idx ON call_session (ended_at) WHERE ended_at IS NOT NULL;

CREATE TABLE call_participant (
  call_id       TEXT NOT NULL REFERENCES call_session (call_id) ON DELETE CASCADE,
  device_id     TEXT NOT NULL,
  -- invited: ringing; accepted: in the call (the offerer starts here); rejected: answered
  -- accept=false; left: hung up (CallEnd) or disconnected; missed: still ringing at the deadline.
  state         TEXT NOT NULL CHECK (state IN ('invited', 'accepted', 'rejected', 'left', 'missed')),
  -- The gateway connection that offered or accepted: only its disconnect drops the device.
  connection_id TEXT,
  -- Why the device is out of the call (reject reason, end reason, 'disconnect', 'timeout').
  reason        TEXT,
  updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (call_id, device_id)
);
-- A disconnect looks up the calls a device is in.
CREATE INDEX call_participant_active_idx ON call_participant (device_id) WHERE state IN ('invited', 'accepted');

-- The latest CallStats (and TransportUpdate) per device and kind; `kind` is 'stats:send',
-- 'stats:receive' or 'transport'.
CREATE TABLE call_report (
  call_id     TEXT NOT NULL REFERENCES call_session (call_id) ON DELETE CASCADE,
  device_id   TEXT NOT NULL,
  kind        TEXT NOT NULL,
  body_json   TEXT NOT NULL,
  reported_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (call_id, device_id, kind)
);
