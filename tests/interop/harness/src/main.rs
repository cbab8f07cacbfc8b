//! commucat-interop: the Rust side of the CCP-1 interop checks (spec ccp1-wire.md §9).
//!
//! Subcommands:
//!   vectors --out FILE          compute every vector of §9.1–§9.5 with the published crates
//!   verify-zkp --in FILE        verify ZKP proofs made by another implementation (TV-ZKP-06)
//!   client --url URL ...        run the real client's handshake against a server (§3.3, §4),
//!                               optionally followed by a conversation on a channel (§7)

mod args;
mod client;
mod codec;
mod parts;
mod vectors;
mod verify_zkp;

use std::process::ExitCode;

const USAGE: &str = "usage:
  commucat-interop vectors --out <file.json>
  commucat-interop verify-zkp --in <file.json>
  commucat-interop client --url https://127.0.0.1:PORT/connect --domain D --server-static HEX
                          --crates 41|103 [--handle H] [--seed-hex HEX] [--pattern XK]
                          [--device-id ID] [--prologue TEXT] [--expect-error] [--timeout-ms N]
                          [--join CH [--send TEXT]... [--expect TEXT]... [--ready-file PATH]
                           [--wait-file PATH]]";

fn main() -> ExitCode {
    let mut argv = std::env::args().skip(1);
    let Some(command) = argv.next() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let parsed = match args::Args::parse(argv) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match command.as_str() {
        "vectors" => vectors::run(&parsed),
        "verify-zkp" => verify_zkp::run(&parsed),
        "client" => client::run(&parsed),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        other => {
            eprintln!("unknown subcommand {other:?}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
