-- Each participant's own media profile (owned by router): the offer's for everyone it invites, then
-- a callee's own from its accepting answer if the answer has one (NULL: the call had none). Per-subscriber transcoding compares a sender's
-- stream with every receiver's profile (spec calls-media §4.2).
ALTER TABLE call_participant ADD COLUMN media_json TEXT;
