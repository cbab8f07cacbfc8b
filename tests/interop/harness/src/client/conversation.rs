//! The part after the handshake Ack, as the real client runs it (spec §4.9, §7.1, §7.3–§7.5,
//! Appendix B): plaintext frames, one client sequence counter for all channels starting at 3.
//! Join the channel, send texts as opaque Msg frames, wait for expected texts, then Leave.

use super::frame_types::{ACK, ERROR, JOIN, LEAVE, MSG};
use super::progress::Progress;
use super::stream::{FrameReader, FrameWriter};
use crate::codec::{frame_json, Payload, WireFrame};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The client's first sequence number after Hello (1) and Auth (2) (§4.9).
const FIRST_SEQUENCE: u64 = 3;
/// How long `--wait-file` may take to appear.
const WAIT_FILE_LIMIT: Duration = Duration::from_secs(20);
/// How often the wait-file is looked for; frames are read in between.
const WAIT_FILE_POLL: Duration = Duration::from_millis(100);

/// What the command line asked the conversation to do.
pub struct Script {
    pub channel: u64,
    pub sends: Vec<String>,
    pub expects: Vec<String>,
    pub ready_file: Option<PathBuf>,
    pub wait_file: Option<PathBuf>,
}

/// What was sent and seen, reported as `conversation` in the output.
#[derive(Default)]
pub struct Log {
    joined: Option<u64>,
    sent: Vec<Value>,
    received: Vec<Value>,
    acks: Vec<Value>,
}

impl Log {
    pub fn to_json(&self) -> Value {
        json!({
            "joined": self.joined,
            "sent": self.sent,
            "received": self.received,
            "acks": self.acks,
        })
    }
}

struct Conversation<'a> {
    reader: &'a mut FrameReader,
    writer: &'a mut FrameWriter,
    progress: &'a mut Progress,
    channel: u64,
    next_sequence: u64,
    /// Sequences the server acknowledged on our channel.
    acked: BTreeSet<u64>,
    /// Msg payloads on our channel not yet claimed by an `--expect`.
    unclaimed: Vec<Vec<u8>>,
}

/// Runs the script; the request body is still open afterwards (the caller ends it).
pub async fn run(
    script: &Script,
    device_id: &str,
    reader: &mut FrameReader,
    writer: &mut FrameWriter,
    progress: &mut Progress,
) -> Result<(), String> {
    progress.conversation = Some(Log::default());
    let mut conversation = Conversation {
        reader,
        writer,
        progress,
        channel: script.channel,
        next_sequence: FIRST_SEQUENCE,
        acked: BTreeSet::new(),
        unclaimed: Vec::new(),
    };
    conversation.join(device_id).await?;
    if let Some(path) = &script.ready_file {
        std::fs::write(path, format!("{device_id}\n"))
            .map_err(|e| format!("--ready-file {}: {e}", path.display()))?;
    }
    if let Some(path) = &script.wait_file {
        conversation.wait_for_file(path).await?;
    }
    conversation.progress.stage = "send";
    for text in &script.sends {
        let sequence = conversation.send(MSG, Payload::Opaque(text.as_bytes().to_vec()))?;
        conversation.wait_for_ack(sequence).await?;
    }
    conversation.progress.stage = "expect";
    for text in &script.expects {
        conversation.expect(text.as_bytes()).await?;
    }
    conversation.progress.stage = "leave";
    let sequence = conversation.send(LEAVE, Payload::Control(json!({})))?;
    conversation.wait_for_ack(sequence).await
}

impl Conversation<'_> {
    fn log(&mut self) -> &mut Log {
        self.progress.conversation.get_or_insert_with(Log::default)
    }

    async fn join(&mut self, device_id: &str) -> Result<(), String> {
        self.progress.stage = "join";
        // Exactly what the real client sends (§7.3): only itself as a member.
        let join = json!({ "members": [device_id], "relay": false });
        let sequence = self.send(JOIN, Payload::Control(join))?;
        self.wait_for_ack(sequence).await?;
        let channel = self.channel;
        self.log().joined = Some(channel);
        Ok(())
    }

    /// Sends one frame on our channel with the next sequence number and returns that number.
    fn send(&mut self, type_num: u8, payload: Payload) -> Result<u64, String> {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        let frame = WireFrame {
            type_num,
            channel: self.channel,
            sequence,
            payload,
        };
        self.writer.send(&frame)?;
        let entry = summary(self.reader.dialect().type_name(type_num), &frame);
        self.log().sent.push(entry);
        Ok(sequence)
    }

    /// Reads and records frames until the Ack `{"ack":sequence}` on our channel has arrived.
    async fn wait_for_ack(&mut self, sequence: u64) -> Result<(), String> {
        while !self.acked.contains(&sequence) {
            self.next_frame().await?;
        }
        Ok(())
    }

    /// Reads and records frames until a Msg on our channel carries exactly `text`; a message
    /// that arrived earlier (while waiting for something else) counts, but only once.
    async fn expect(&mut self, text: &[u8]) -> Result<(), String> {
        loop {
            if let Some(index) = self.unclaimed.iter().position(|bytes| bytes == text) {
                self.unclaimed.remove(index);
                return Ok(());
            }
            self.next_frame().await?;
        }
    }

    /// Polls for the file while still reading (and recording) whatever the server sends.
    async fn wait_for_file(&mut self, path: &Path) -> Result<(), String> {
        self.progress.stage = "wait-file";
        let started = Instant::now();
        while !path.exists() {
            if started.elapsed() > WAIT_FILE_LIMIT {
                return Err(format!(
                    "--wait-file {} did not appear within {} s",
                    path.display(),
                    WAIT_FILE_LIMIT.as_secs()
                ));
            }
            // FrameReader::next keeps partial input in its own buffer, so cancelling it on
            // the poll interval loses nothing.
            if let Ok(result) = tokio::time::timeout(WAIT_FILE_POLL, self.reader.next()).await {
                self.record(result?)?;
            }
        }
        Ok(())
    }

    async fn next_frame(&mut self) -> Result<(), String> {
        let frame = self.reader.next().await?;
        self.record(frame)
    }

    /// Files one incoming frame: Acks under `acks`, everything else under `received`. An Error
    /// frame ends the conversation with its payload as the failure.
    fn record(&mut self, frame: Option<WireFrame>) -> Result<(), String> {
        let frame = frame.ok_or("server ended the response during the conversation")?;
        let dialect = self.reader.dialect();
        match (frame.type_num, &frame.payload) {
            (ACK, Payload::Control(value)) => {
                if frame.channel == self.channel {
                    if let Some(acked) = value.get("ack").and_then(Value::as_u64) {
                        self.acked.insert(acked);
                    }
                }
                let entry = json!({
                    "channel": frame.channel,
                    "sequence": frame.sequence,
                    "payload": value,
                });
                self.log().acks.push(entry);
                Ok(())
            }
            (ERROR, _) => {
                let entry = summary(dialect.type_name(frame.type_num), &frame);
                self.log().received.push(entry);
                self.progress
                    .set("error_frame", frame_json(dialect, &frame));
                Err(format!(
                    "server sent an Error frame: {}",
                    text_of(&frame.payload)
                ))
            }
            _ => {
                if let (MSG, Payload::Opaque(bytes)) = (frame.type_num, &frame.payload) {
                    if frame.channel == self.channel {
                        self.unclaimed.push(bytes.clone());
                    }
                }
                let entry = summary(dialect.type_name(frame.type_num), &frame);
                self.log().received.push(entry);
                Ok(())
            }
        }
    }
}

/// `{"channel","sequence","type","text"}`: opaque payloads as (lossy) UTF-8, control payloads
/// as their JSON text.
fn summary(type_name: Option<String>, frame: &WireFrame) -> Value {
    json!({
        "channel": frame.channel,
        "sequence": frame.sequence,
        "type": type_name.unwrap_or_else(|| format!("0x{:02x}", frame.type_num)),
        "text": text_of(&frame.payload),
    })
}

fn text_of(payload: &Payload) -> String {
    match payload {
        Payload::Opaque(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        Payload::Control(value) => value.to_string(),
    }
}
