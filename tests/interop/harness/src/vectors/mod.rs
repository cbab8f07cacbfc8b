//! `vectors --out FILE`: every vector of spec §9.1–§9.5, computed with the published crates.
//! The file layout is documented in tests/interop/README.md.

mod calls;
mod certs;
mod codec;
mod json_text;
mod keys;
mod noise;
mod zkp;

use crate::args::Args;
use serde_json::{json, Map, Value};
use std::process::ExitCode;

/// Collects vectors by id and refuses duplicates, so a copy-paste slip cannot hide a vector.
#[derive(Default)]
pub struct VectorSet {
    vectors: Map<String, Value>,
}

impl VectorSet {
    pub fn add(&mut self, id: &str, vector: Value) {
        let previous = self.vectors.insert(id.to_string(), vector);
        assert!(previous.is_none(), "duplicate vector id {id}");
    }
}

pub fn run(args: &Args) -> ExitCode {
    let out = match args.require("out") {
        Ok(path) => path,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let mut set = VectorSet::default();
    codec::add(&mut set);
    json_text::add(&mut set);
    keys::add(&mut set);
    zkp::add(&mut set);
    certs::add(&mut set);
    noise::add(&mut set);
    calls::add(&mut set);

    let count = set.vectors.len();
    let document = json!({
        "format": "commucat-interop-vectors/1",
        "crates": {
            "commucat-proto": ["1.0.103", "1.0.41"],
            "commucat-crypto": ["1.0.103", "1.0.41"],
            "commucat-media-types": "1.0.103",
            "snow": "0.10.0",
            "serde_json": "1.0.145",
        },
        "vector_count": count,
        "vectors": Value::Object(set.vectors),
    });
    let text = serde_json::to_string_pretty(&document).expect("serialize vectors");
    if let Err(error) = std::fs::write(out, text + "\n") {
        eprintln!("cannot write {out}: {error}");
        return ExitCode::FAILURE;
    }
    eprintln!("wrote {count} vectors to {out}");
    ExitCode::SUCCESS
}
