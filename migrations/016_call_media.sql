-- Media frames (VoiceFrame/VideoFrame) look up the live call of their channel (owned by router).
CREATE INDEX call_session_live_channel_idx ON call_session (channel_id) WHERE ended_at IS NULL;
