//! `client`: connects to a CCP-1 server and runs the handshake exactly as the real client
//! (commucat-cli-client with crates 1.0.41) does (§2.3, §3.3, §4.1–§4.6, Appendix B), then
//! sends one Presence frame, or with `--join` takes part in a conversation on a channel, and
//! closes. Prints one JSON object on stdout.

mod conversation;
mod frame_types;
mod progress;
mod session;
mod stream;
mod suite;
mod target;
mod tls;

use crate::args::Args;
use conversation::Script;
use progress::Outcome;
use serde_json::json;
use session::Options;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

fn options(args: &Args) -> Result<Options, String> {
    let server_static: [u8; 32] = hex::decode(args.require("server-static")?)
        .map_err(|e| format!("--server-static: {e}"))?
        .try_into()
        .map_err(|_| "--server-static must be 32 bytes of hex".to_string())?;
    let seed = match args.get("seed-hex") {
        Some(text) => hex::decode(text).map_err(|e| format!("--seed-hex: {e}"))?,
        None => {
            // The real client generates 64 random bytes (§5.1).
            use rand_core::{OsRng, RngCore};
            let mut seed = vec![0u8; 64];
            OsRng.fill_bytes(&mut seed);
            seed
        }
    };
    let suite: Box<dyn suite::CryptoSuite> = match args.require("crates")? {
        "41" => Box::new(suite::Crates41),
        "103" => Box::new(suite::Crates103),
        other => return Err(format!("--crates must be 41 or 103, not {other:?}")),
    };
    let pattern = args.get("pattern").unwrap_or("XK").to_ascii_uppercase();
    let device_id = match args.get("device-id") {
        Some(id) => id.to_string(),
        None => {
            let millis = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis();
            format!("device-{millis}")
        }
    };
    let conversation = script(args)?;
    let timeout_ms = match args.get("timeout-ms") {
        Some(text) => text
            .parse::<u64>()
            .map_err(|_| "--timeout-ms must be an integer".to_string())?,
        // A conversation waits for another party, so it gets longer.
        None if conversation.is_some() => 15_000,
        None => 10_000,
    };
    Ok(Options {
        target: target::parse(args.require("url")?)?,
        domain: args.require("domain")?.to_string(),
        server_static,
        seed,
        suite,
        pattern,
        handle: args.get("handle").map(str::to_string),
        device_id,
        prologue: args
            .get("prologue")
            .unwrap_or("commucat")
            .as_bytes()
            .to_vec(),
        expect_error: args.has("expect-error"),
        timeout: Duration::from_millis(timeout_ms),
        conversation,
    })
}

/// The conversation options; all of them need `--join`.
fn script(args: &Args) -> Result<Option<Script>, String> {
    let Some(channel) = args.get("join") else {
        for name in ["send", "expect", "ready-file", "wait-file"] {
            if args.has(name) {
                return Err(format!("--{name} needs --join"));
            }
        }
        return Ok(None);
    };
    let channel = channel
        .parse::<u64>()
        .map_err(|_| "--join must be a channel number (u64)".to_string())?;
    let strings = |name: &str| args.all(name).into_iter().map(str::to_string).collect();
    Ok(Some(Script {
        channel,
        sends: strings("send"),
        expects: strings("expect"),
        ready_file: args.get("ready-file").map(PathBuf::from),
        wait_file: args.get("wait-file").map(PathBuf::from),
    }))
}

pub fn run(args: &Args) -> ExitCode {
    let outcome = match options(args) {
        Ok(options) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            runtime.block_on(session::run(options))
        }
        Err(error) => Outcome::failure("arguments", error),
    };
    let ok = outcome.report["ok"] == json!(true);
    println!("{}", outcome.report);
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
