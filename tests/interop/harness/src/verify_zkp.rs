//! `verify-zkp --in FILE`: checks ZKP proofs made by another implementation with the crates'
//! `verify_handshake` (1.0.103 and 1.0.41), the reverse direction of TV-ZKP-06.
//!
//! Input: `{"proofs":[{"context":{"domain","device_id","device_public","client_static","hex"?},
//! "proof":{"commitment","response"},"expect_ok"?:bool}]}` — the same entry shape as TV-ZKP-06.
//! `context.hex`, when given, must equal the crate's own context bytes. `expect_ok` defaults to
//! true; set it false for deliberately broken proofs. Prints `{"ok","checked","failures":[…]}`
//! and exits 1 if any entry disagrees with its expectation (or the file is unreadable).

use crate::args::Args;
use commucat_crypto::zkp::{derive_handshake_context, verify_handshake, KnowledgeProof};
use serde_json::{json, Value};
use std::process::ExitCode;

fn hex32(value: &Value, what: &str) -> Result<[u8; 32], String> {
    let text = value
        .as_str()
        .ok_or_else(|| format!("{what} is not a string"))?;
    let bytes = hex::decode(text).map_err(|e| format!("{what}: {e}"))?;
    bytes
        .try_into()
        .map_err(|_| format!("{what} is not 32 bytes"))
}

fn check_entry(entry: &Value) -> Result<(), String> {
    let context = &entry["context"];
    let domain = context["domain"]
        .as_str()
        .ok_or("context.domain is not a string")?;
    let device_id = context["device_id"]
        .as_str()
        .ok_or("context.device_id is not a string")?;
    let device_public = hex32(&context["device_public"], "context.device_public")?;
    let client_static = hex32(&context["client_static"], "context.client_static")?;
    let bytes = derive_handshake_context(domain, device_id, &device_public, &client_static);
    if let Some(given) = context["hex"].as_str() {
        if given != hex::encode(&bytes) {
            return Err(format!(
                "context.hex differs from the crate's context {}",
                hex::encode(&bytes)
            ));
        }
    }
    // Parse through the crate's own serde form (§5.6), as the server parses Hello's `zkp`.
    let proof: KnowledgeProof = serde_json::from_value(entry["proof"].clone())
        .map_err(|e| format!("proof does not parse: {e}"))?;
    let proof_41 = commucat_crypto_41::zkp::KnowledgeProof {
        commitment: proof.commitment,
        response: proof.response,
    };
    let ok_103 = verify_handshake(&device_public, &bytes, &proof).is_ok();
    let ok_41 =
        commucat_crypto_41::zkp::verify_handshake(&device_public, &bytes, &proof_41).is_ok();
    let expected = entry["expect_ok"].as_bool().unwrap_or(true);
    if ok_103 != expected || ok_41 != expected {
        return Err(format!(
            "expected ok={expected}, crate 1.0.103 ok={ok_103}, crate 1.0.41 ok={ok_41}"
        ));
    }
    Ok(())
}

pub fn run(args: &Args) -> ExitCode {
    let report = match args.require("in").and_then(|path| {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        serde_json::from_str::<Value>(&text).map_err(|e| format!("{path} is not JSON: {e}"))
    }) {
        Ok(document) => {
            let proofs = document["proofs"].as_array().cloned().unwrap_or_default();
            let failures: Vec<Value> = proofs
                .iter()
                .enumerate()
                .filter_map(|(index, entry)| {
                    check_entry(entry)
                        .err()
                        .map(|reason| json!({ "index": index, "reason": reason }))
                })
                .collect();
            json!({ "ok": failures.is_empty() && !proofs.is_empty(), "checked": proofs.len(), "failures": failures })
        }
        Err(error) => json!({ "ok": false, "checked": 0, "failures": [], "error": error }),
    };
    println!("{report}");
    if report["ok"] == json!(true) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
