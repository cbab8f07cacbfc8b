//! Byte strings in the vector file are written as a list of parts so that multi-megabyte
//! inputs (spec §9.1 size limits) stay small: `{"hex":"0a0b"}` is literal bytes,
//! `{"repeat_hex":"ab","count":200}` is a byte pattern repeated `count` times.

use serde_json::{json, Value};

pub enum Part {
    Hex(Vec<u8>),
    Repeat(Vec<u8>, usize),
}

pub fn build(parts: &[Part]) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        match part {
            Part::Hex(bytes) => out.extend_from_slice(bytes),
            Part::Repeat(pattern, count) => {
                for _ in 0..*count {
                    out.extend_from_slice(pattern);
                }
            }
        }
    }
    out
}

pub fn to_json(parts: &[Part]) -> Value {
    Value::Array(
        parts
            .iter()
            .map(|part| match part {
                Part::Hex(bytes) => json!({ "hex": hex::encode(bytes) }),
                Part::Repeat(pattern, count) => {
                    json!({ "repeat_hex": hex::encode(pattern), "count": count })
                }
            })
            .collect(),
    )
}

pub fn hex_part(text: &str) -> Part {
    Part::Hex(hex::decode(text).expect("hex literal in vector table"))
}
