//! One frame model over both published codecs, so vectors and the client can run the same
//! bytes through `commucat-proto` 1.0.103 and 1.0.41 and report what each crate says.

use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    Control(Value),
    Opaque(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct WireFrame {
    pub type_num: u8,
    pub channel: u64,
    pub sequence: u64,
    pub payload: Payload,
}

/// Which published codec to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    V103,
    V41,
}

impl Dialect {
    pub fn label(self) -> &'static str {
        match self {
            Dialect::V103 => "1.0.103",
            Dialect::V41 => "1.0.41",
        }
    }

    /// Frame type name as the crate's `Debug` prints it, or None if this version lacks the type.
    pub fn type_name(self, type_num: u8) -> Option<String> {
        match self {
            Dialect::V103 => v103::type_name(type_num),
            Dialect::V41 => v41::type_name(type_num),
        }
    }

    /// `Frame::encode`; the error is the crate's `CodecError` variant name.
    pub fn encode(self, frame: &WireFrame) -> Result<Vec<u8>, String> {
        match self {
            Dialect::V103 => v103::encode(frame),
            Dialect::V41 => v41::encode(frame),
        }
    }

    /// `Frame::decode`: the frame and the bytes consumed, or the `CodecError` variant name.
    pub fn decode(self, buffer: &[u8]) -> Result<(WireFrame, usize), String> {
        match self {
            Dialect::V103 => v103::decode(buffer),
            Dialect::V41 => v41::decode(buffer),
        }
    }

    /// The decode result as the JSON the vector file records (see README.md).
    pub fn decode_report(self, buffer: &[u8]) -> Value {
        match self.decode(buffer) {
            Ok((frame, consumed)) => {
                let mut report = frame_json(self, &frame);
                report["ok"] = json!(true);
                report["consumed"] = json!(consumed);
                report
            }
            Err(error) => json!({ "ok": false, "error": error }),
        }
    }
}

/// `{"type","type_num","channel","sequence","payload":{"kind":"control","json"}|{"kind":"opaque","hex"}}`.
/// Control JSON is recorded as serde_json's own compact text (sorted keys).
pub fn frame_json(dialect: Dialect, frame: &WireFrame) -> Value {
    let payload = match &frame.payload {
        Payload::Control(value) => json!({
            "kind": "control",
            "json": serde_json::to_string(value).expect("serialize control value"),
        }),
        Payload::Opaque(bytes) => json!({ "kind": "opaque", "hex": hex::encode(bytes) }),
    };
    json!({
        "type": dialect.type_name(frame.type_num),
        "type_num": frame.type_num,
        "channel": frame.channel,
        "sequence": frame.sequence,
        "payload": payload,
    })
}

/// Generates the adapter for one crate version; `$num => $variant` lists the frame types that
/// version knows (1.0.41 has no 0x14).
macro_rules! dialect_adapter {
    ($module:ident, $krate:ident, { $($num:literal => $variant:ident),* $(,)? }) => {
        mod $module {
            use super::{Payload, WireFrame};
            use $krate::{ControlEnvelope, Frame, FramePayload, FrameType};

            fn frame_type(type_num: u8) -> Option<FrameType> {
                match type_num {
                    $($num => Some(FrameType::$variant),)*
                    _ => None,
                }
            }

            pub fn type_name(type_num: u8) -> Option<String> {
                frame_type(type_num).map(|t| format!("{t:?}"))
            }

            pub fn encode(frame: &WireFrame) -> Result<Vec<u8>, String> {
                let frame_type = frame_type(frame.type_num)
                    .ok_or_else(|| format!("no frame type 0x{:02x} in this crate version", frame.type_num))?;
                let payload = match &frame.payload {
                    Payload::Control(value) => {
                        FramePayload::Control(ControlEnvelope { properties: value.clone() })
                    }
                    Payload::Opaque(bytes) => FramePayload::Opaque(bytes.clone()),
                };
                Frame { channel_id: frame.channel, sequence: frame.sequence, frame_type, payload }
                    .encode()
                    .map_err(|e| format!("{e:?}"))
            }

            pub fn decode(buffer: &[u8]) -> Result<(WireFrame, usize), String> {
                let (frame, consumed) = Frame::decode(buffer).map_err(|e| format!("{e:?}"))?;
                let payload = match frame.payload {
                    FramePayload::Control(envelope) => Payload::Control(envelope.properties),
                    FramePayload::Opaque(bytes) => Payload::Opaque(bytes),
                };
                let wire = WireFrame {
                    type_num: frame.frame_type as u8,
                    channel: frame.channel_id,
                    sequence: frame.sequence,
                    payload,
                };
                Ok((wire, consumed))
            }
        }
    };
}

dialect_adapter!(v103, commucat_proto, {
    0x01 => Hello, 0x02 => Auth, 0x03 => Join, 0x04 => Leave, 0x05 => Msg, 0x06 => Ack,
    0x07 => Typing, 0x08 => Presence, 0x09 => KeyUpdate, 0x0a => GroupCreate,
    0x0b => GroupInvite, 0x0c => GroupEvent, 0x0d => Error, 0x0e => CallOffer,
    0x0f => CallAnswer, 0x10 => CallEnd, 0x11 => VoiceFrame, 0x12 => VideoFrame,
    0x13 => CallStats, 0x14 => TransportUpdate,
});

dialect_adapter!(v41, commucat_proto_41, {
    0x01 => Hello, 0x02 => Auth, 0x03 => Join, 0x04 => Leave, 0x05 => Msg, 0x06 => Ack,
    0x07 => Typing, 0x08 => Presence, 0x09 => KeyUpdate, 0x0a => GroupCreate,
    0x0b => GroupInvite, 0x0c => GroupEvent, 0x0d => Error, 0x0e => CallOffer,
    0x0f => CallAnswer, 0x10 => CallEnd, 0x11 => VoiceFrame, 0x12 => VideoFrame,
    0x13 => CallStats,
});
