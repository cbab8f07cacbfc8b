//! §9.1 codec vectors: encode with both crate versions, decode the bytes with both, and the
//! decoder error table, plus a few extra traps from §1.5/§8 (ids TV-DEC-X..).

use super::VectorSet;
use crate::codec::{frame_json, Dialect, Payload, WireFrame};
use crate::parts::{self, hex_part, Part};
use serde_json::{json, Value};

/// Encoded results longer than this are summarised (length, head, tail) instead of inlined.
const INLINE_LIMIT: usize = 64 * 1024;

enum PayloadSpec {
    /// JSON text exactly as the vector table writes it (keys possibly unsorted).
    Json(String),
    Opaque(Vec<Part>),
}

struct FrameSpec {
    type_num: u8,
    channel: u64,
    sequence: u64,
    payload: PayloadSpec,
}

impl FrameSpec {
    fn control(type_num: u8, channel: u64, sequence: u64, json: &str) -> Self {
        Self {
            type_num,
            channel,
            sequence,
            payload: PayloadSpec::Json(json.to_string()),
        }
    }

    fn opaque(type_num: u8, channel: u64, sequence: u64, payload: Vec<Part>) -> Self {
        Self {
            type_num,
            channel,
            sequence,
            payload: PayloadSpec::Opaque(payload),
        }
    }

    fn to_wire(&self) -> WireFrame {
        let payload = match &self.payload {
            PayloadSpec::Json(text) => {
                Payload::Control(serde_json::from_str(text).expect("vector JSON literal"))
            }
            PayloadSpec::Opaque(parts) => Payload::Opaque(parts::build(parts)),
        };
        WireFrame {
            type_num: self.type_num,
            channel: self.channel,
            sequence: self.sequence,
            payload,
        }
    }

    fn to_json(&self) -> Value {
        let payload = match &self.payload {
            PayloadSpec::Json(text) => json!({ "kind": "control", "json": text }),
            PayloadSpec::Opaque(parts) => {
                json!({ "kind": "opaque", "bytes": parts::to_json(parts) })
            }
        };
        json!({
            "type": Dialect::V103.type_name(self.type_num),
            "type_num": self.type_num,
            "channel": self.channel,
            "sequence": self.sequence,
            "payload": payload,
        })
    }
}

fn encode_report(dialect: Dialect, frame: &WireFrame) -> Value {
    if dialect.type_name(frame.type_num).is_none() {
        // This crate version has no such frame type, so it cannot even build the frame.
        return Value::Null;
    }
    match dialect.encode(frame) {
        Ok(bytes) if bytes.len() <= INLINE_LIMIT => {
            json!({ "ok": true, "hex": hex::encode(&bytes) })
        }
        Ok(bytes) => json!({
            "ok": true,
            "encoded_len": bytes.len(),
            "head_hex": hex::encode(&bytes[..16]),
            "tail_hex": hex::encode(&bytes[bytes.len() - 16..]),
        }),
        Err(error) => json!({ "ok": false, "error": error }),
    }
}

/// An encode vector: the frame, what each crate's encoder produces, and what each crate's
/// decoder makes of the 1.0.103 bytes.
fn encode_vector(spec: &FrameSpec) -> Value {
    let frame = spec.to_wire();
    let encoded = Dialect::V103.encode(&frame);
    let decode = match &encoded {
        Ok(bytes) if bytes.len() <= INLINE_LIMIT => json!({
            "v103": Dialect::V103.decode_report(bytes),
            "v41": Dialect::V41.decode_report(bytes),
        }),
        _ => Value::Null,
    };
    json!({
        "kind": "encode",
        "frame": spec.to_json(),
        "encode": {
            "v103": encode_report(Dialect::V103, &frame),
            "v41": encode_report(Dialect::V41, &frame),
        },
        "decode": decode,
    })
}

fn decode_vector(input: Vec<Part>) -> Value {
    let bytes = parts::build(&input);
    json!({
        "kind": "decode",
        "input": parts::to_json(&input),
        "decode": {
            "v103": Dialect::V103.decode_report(&bytes),
            "v41": Dialect::V41.decode_report(&bytes),
        },
    })
}

/// Decodes frame after frame the way both peers read a stream (§1.9) until the buffer is
/// empty or a decode fails.
fn decode_stream(dialect: Dialect, mut buffer: &[u8]) -> Value {
    let mut frames = Vec::new();
    loop {
        if buffer.is_empty() {
            return json!({ "frames": frames, "end": "empty" });
        }
        match dialect.decode(buffer) {
            Ok((frame, consumed)) => {
                let mut report = frame_json(dialect, &frame);
                report["consumed"] = json!(consumed);
                frames.push(report);
                buffer = &buffer[consumed..];
            }
            Err(error) => return json!({ "frames": frames, "end": error }),
        }
    }
}

fn stream_vector(specs: &[FrameSpec]) -> Value {
    let mut bytes = Vec::new();
    for spec in specs {
        bytes.extend(
            Dialect::V103
                .encode(&spec.to_wire())
                .expect("stream frame encodes"),
        );
    }
    json!({
        "kind": "stream",
        "frames": specs.iter().map(FrameSpec::to_json).collect::<Vec<_>>(),
        "hex": hex::encode(&bytes),
        "decode": {
            "v103": decode_stream(Dialect::V103, &bytes),
            "v41": decode_stream(Dialect::V41, &bytes),
        },
    })
}

fn codec_01() -> FrameSpec {
    FrameSpec::control(0x01, 0, 1, r#"{"protocol_version":1}"#)
}

fn codec_02() -> FrameSpec {
    FrameSpec::opaque(0x05, 9, 1, vec![hex_part("01020304")])
}

/// Bytes of an Ack whose payload is the JSON string `"` + n × `a` + `"`.
fn ack_with_string(n: usize) -> Vec<Part> {
    let payload_len = (n + 2) as u64;
    let mut header = vec![0x06, 0x00, 0x00];
    push_varint(&mut header, payload_len);
    let body_len = header.len() as u64 + payload_len;
    let mut prefix = Vec::new();
    push_varint(&mut prefix, body_len);
    prefix.extend(header);
    prefix.push(b'"');
    vec![
        Part::Hex(prefix),
        Part::Repeat(vec![b'a'], n),
        Part::Hex(vec![b'"']),
    ]
}

/// Ack frame bytes (channel 0, sequence 0) around an arbitrary payload.
fn ack_with_payload(payload: &[u8]) -> Vec<Part> {
    let mut body = vec![0x06, 0x00, 0x00];
    push_varint(&mut body, payload.len() as u64);
    body.extend_from_slice(payload);
    let mut bytes = Vec::new();
    push_varint(&mut bytes, body.len() as u64);
    bytes.extend(body);
    vec![Part::Hex(bytes)]
}

fn push_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

pub fn add(set: &mut VectorSet) {
    let encode_cases: Vec<(&str, FrameSpec)> = vec![
        ("TV-CODEC-01", codec_01()),
        ("TV-CODEC-02", codec_02()),
        (
            "TV-CODEC-03",
            FrameSpec::control(0x06, 4294967295, 4294967295, r#"{"ack":4294967295}"#),
        ),
        (
            "TV-CODEC-04",
            FrameSpec::opaque(0x05, 300, 128, vec![Part::Repeat(vec![0xab], 200)]),
        ),
        (
            "TV-CODEC-05",
            FrameSpec::control(0x03, 7, 3, r#"{"members":["device-1"],"relay":false}"#),
        ),
        ("TV-CODEC-06", FrameSpec::control(0x04, 7, 4, "{}")),
        (
            "TV-CODEC-07",
            FrameSpec::control(0x08, 0, 5, r#"{"state":"online"}"#),
        ),
        (
            "TV-CODEC-08",
            FrameSpec::control(0x0d, 0, 1, r#"{"error":"decode"}"#),
        ),
        (
            "TV-CODEC-09",
            FrameSpec::control(
                0x0d,
                0,
                1,
                r#"{"error":"handshake","detail":"pairing required","pairing_required":true,"title":"PairingRequired"}"#,
            ),
        ),
        (
            "TV-CODEC-10",
            FrameSpec::control(
                0x09,
                5,
                2,
                r#"{"type":"device-key-rotated","rotation_id":"rot-123"}"#,
            ),
        ),
        (
            "TV-CODEC-11",
            FrameSpec::control(
                0x14,
                7,
                9,
                r#"{"call_id":"c1","update":"consent_keepalive","interval_secs":15}"#,
            ),
        ),
        // Encoder error table (§9.1, "Encoder error vectors"; the spec gives them no ids).
        (
            "TV-ENC-01",
            FrameSpec::opaque(0x05, 1 << 32, 0, vec![hex_part("00")]),
        ),
        (
            "TV-ENC-02",
            FrameSpec::opaque(0x05, 0, 1 << 32, vec![hex_part("00")]),
        ),
        (
            "TV-ENC-03",
            FrameSpec::control(0x06, 0, 0, &format!("\"{}\"", "a".repeat(262_143))),
        ),
        (
            "TV-ENC-04",
            FrameSpec::opaque(0x05, 0, 0, vec![Part::Repeat(vec![0], 16_777_209)]),
        ),
        (
            "TV-ENC-05",
            FrameSpec::opaque(0x05, 0, 0, vec![Part::Repeat(vec![0], 16_777_210)]),
        ),
        (
            "TV-ENC-06",
            FrameSpec::opaque(0x05, 0, 0, vec![Part::Repeat(vec![0], 16_777_217)]),
        ),
        // Extra: the largest control payload that encodes (262 144 bytes of JSON).
        (
            "TV-ENC-X01",
            FrameSpec::control(0x06, 0, 0, &format!("\"{}\"", "a".repeat(262_142))),
        ),
    ];
    for (id, spec) in &encode_cases {
        set.add(id, encode_vector(spec));
    }

    set.add("TV-CODEC-12", stream_vector(&[codec_01(), codec_02()]));
    let many: Vec<FrameSpec> = (0..512u64)
        .map(|i| FrameSpec::opaque(0x05, i, i, vec![Part::Repeat(vec![0], 16)]))
        .collect();
    set.add("TV-CODEC-13", stream_vector(&many));

    let decode_cases: Vec<(&str, Vec<Part>)> = vec![
        ("TV-DEC-01", vec![]),
        ("TV-DEC-02", vec![hex_part("80")]),
        ("TV-DEC-03", vec![Part::Repeat(vec![0xff], 9)]),
        ("TV-DEC-04", vec![Part::Repeat(vec![0xff], 10)]),
        ("TV-DEC-05", vec![hex_part("ffffffffffffffffff01")]),
        ("TV-DEC-06", vec![hex_part("81808008")]),
        ("TV-DEC-07", vec![hex_part("00")]),
        ("TV-DEC-08", vec![hex_part("0415000000")]),
        ("TV-DEC-09", vec![hex_part("0400000000")]),
        ("TV-DEC-10", vec![hex_part("080580808080100000")]),
        ("TV-DEC-11", vec![hex_part("080500808080801000")]),
        ("TV-DEC-12", vec![hex_part("0705000081808008")]),
        ("TV-DEC-13", vec![hex_part("0505000005aa")]),
        ("TV-DEC-14", vec![hex_part("08060000046e6f7065")]),
        ("TV-DEC-15", vec![hex_part("0406000000")]),
        ("TV-DEC-16", vec![hex_part("0705000001aaffff")]),
        ("TV-DEC-17", vec![hex_part("850005000001aa")]),
        ("TV-DEC-18", vec![hex_part("08060000046e756c6c")]),
        ("TV-DEC-19", ack_with_string(262_142)),
        ("TV-DEC-20", ack_with_string(262_143)),
        (
            "TV-DEC-21",
            vec![hex_part("0609000002 0102".replace(' ', "").as_str())],
        ),
        ("TV-DEC-22", vec![hex_part("09058900010401020304")]),
        // Extras (§1.5, §8-T7): a 10-byte LEN varint whose last byte has bits above bit 0 set
        // (they are shifted out), 127 vs 128 nesting levels, whitespace around the JSON,
        // invalid UTF-8, a lone surrogate escape, a duplicate key, trailing garbage after JSON.
        // serde_json's recursion limit is 128, and the 128th level already hits it, so 127
        // levels is the deepest control payload that decodes.
        (
            "TV-DEC-X01",
            vec![hex_part(
                "888080808080808080 7e 0509010401020304"
                    .replace(' ', "")
                    .as_str(),
            )],
        ),
        (
            "TV-DEC-X02",
            ack_with_payload(format!("{}{}", "[".repeat(127), "]".repeat(127)).as_bytes()),
        ),
        (
            "TV-DEC-X03",
            ack_with_payload(format!("{}{}", "[".repeat(128), "]".repeat(128)).as_bytes()),
        ),
        ("TV-DEC-X04", ack_with_payload(b" \t\r\n{\"a\":1} \n")),
        ("TV-DEC-X05", ack_with_payload(b"\"\xff\xfe\"")),
        ("TV-DEC-X06", ack_with_payload(br#""\ud800""#)),
        ("TV-DEC-X07", ack_with_payload(br#"{"a":1,"a":2}"#)),
        ("TV-DEC-X08", ack_with_payload(br#"{"a":1} x"#)),
        (
            "TV-DEC-X09",
            ack_with_payload(br#"{"n":18446744073709551615,"m":-9223372036854775808,"f":1.0}"#),
        ),
        (
            "TV-DEC-X10",
            ack_with_payload(br#"{"n":18446744073709551616}"#),
        ),
    ];
    for (id, input) in decode_cases {
        set.add(id, decode_vector(input));
    }
}
