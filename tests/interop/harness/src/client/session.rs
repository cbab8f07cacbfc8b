//! The client's session: TLS + HTTP/2 POST, Hello (msg1), server Auth (msg2), client Auth
//! (msg3), Ack, then either one Presence frame or (with `--join`) a conversation, and a clean
//! end of the request body.

use super::conversation::{self, Script};
use super::frame_types::{ACK, AUTH, ERROR, HELLO, PRESENCE};
use super::progress::{Outcome, Progress};
use super::stream::{FrameReader, FrameWriter};
use super::suite::CryptoSuite;
use super::target::Target;
use super::tls;
use crate::codec::{frame_json, Payload, WireFrame};
use bytes::Bytes;
use h2::client::SendRequest;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;
use x25519_dalek::{PublicKey, StaticSecret};

/// How long to wait for the server to end its response after our request body ended.
const CLOSE_GRACE: Duration = Duration::from_millis(2_000);

pub struct Options {
    pub target: Target,
    pub domain: String,
    pub server_static: [u8; 32],
    pub seed: Vec<u8>,
    pub suite: Box<dyn CryptoSuite>,
    pub pattern: String,
    pub handle: Option<String>,
    pub device_id: String,
    pub prologue: Vec<u8>,
    pub expect_error: bool,
    pub timeout: Duration,
    /// `--join` and friends: talk on a channel instead of sending Presence.
    pub conversation: Option<Script>,
}

/// The end of a successful run: the handshake completed, or (with --expect-error) the server
/// refused it with an Error frame.
enum Finished {
    Established,
    Rejected,
}

pub async fn run(options: Options) -> Outcome {
    let mut progress = Progress::new();
    let result = tokio::time::timeout(options.timeout, session(&options, &mut progress)).await;
    let result = result.unwrap_or_else(|_| {
        Err(format!(
            "timed out after {} ms",
            options.timeout.as_millis()
        ))
    });
    match (result, options.expect_error) {
        (Ok(Finished::Established), false) | (Ok(Finished::Rejected), true) => {
            progress.finish(true, None)
        }
        (Ok(Finished::Established), true) => progress.finish(
            false,
            Some("handshake succeeded but an Error frame was expected".into()),
        ),
        (Ok(Finished::Rejected), false) => {
            progress.finish(false, Some("handshake rejected with an Error frame".into()))
        }
        (Err(error), _) => progress.finish(false, Some(error)),
    }
}

/// The client's X25519 static public key: the Ed25519 device private key reused as an X25519
/// scalar, exactly as the real client computes it (§3.2).
fn x25519_public(private: [u8; 32]) -> [u8; 32] {
    PublicKey::from(&StaticSecret::from(private)).to_bytes()
}

async fn connect(target: &Target) -> Result<(SendRequest<Bytes>, Option<String>), String> {
    let tcp = TcpStream::connect((target.host.as_str(), target.port))
        .await
        .map_err(|e| format!("tcp connect {}:{}: {e}", target.host, target.port))?;
    let _ = tcp.set_nodelay(true);
    let server_name =
        ServerName::try_from(target.host.clone()).map_err(|e| format!("server name: {e}"))?;
    let tls = TlsConnector::from(tls::client_config()?)
        .connect(server_name, tcp)
        .await
        .map_err(|e| format!("tls handshake: {e}"))?;
    let alpn = tls
        .get_ref()
        .1
        .alpn_protocol()
        .map(|p| String::from_utf8_lossy(p).into_owned());
    // Like the real client: HTTP/2 whatever ALPN chose (§2.1).
    let (send_request, connection) = h2::client::handshake(tls)
        .await
        .map_err(|e| format!("http/2 handshake: {e}"))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok((send_request, alpn))
}

fn control(frame: &WireFrame) -> Result<&Value, String> {
    match &frame.payload {
        Payload::Control(value) => Ok(value),
        Payload::Opaque(_) => Err(format!(
            "frame type 0x{:02x} has no control payload",
            frame.type_num
        )),
    }
}

fn string_prop<'a>(props: &'a Value, key: &str, frame: &str) -> Result<&'a str, String> {
    props
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{frame} has no string `{key}`: {props}"))
}

fn hex32_prop(props: &Value, key: &str, frame: &str) -> Result<[u8; 32], String> {
    let text = string_prop(props, key, frame)?;
    hex::decode(text)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| format!("{frame} `{key}` is not 32 bytes of hex: {text:?}"))
}

fn hex_prop(props: &Value, key: &str, frame: &str) -> Result<Vec<u8>, String> {
    let text = string_prop(props, key, frame)?;
    hex::decode(text).map_err(|e| format!("{frame} `{key}` is not hex: {e}"))
}

/// Reads the next frame during the handshake. An Error frame is recorded and reported as
/// `Ok(None)`; anything other than `expected` is a failure.
async fn handshake_frame(
    reader: &mut FrameReader,
    expected: u8,
    what: &str,
    progress: &mut Progress,
) -> Result<Option<WireFrame>, String> {
    let frame = reader
        .next()
        .await?
        .ok_or_else(|| format!("server ended the response while the client waited for {what}"))?;
    if frame.type_num == ERROR {
        progress.set("error_frame", frame_json(reader.dialect(), &frame));
        return Ok(None);
    }
    if frame.type_num != expected {
        return Err(format!(
            "expected {what}, got {}",
            frame_json(reader.dialect(), &frame)
        ));
    }
    Ok(Some(frame))
}

fn check_auth(auth: &Value, options: &Options, progress: &mut Progress) -> Result<Vec<u8>, String> {
    let msg2 = hex_prop(auth, "handshake", "Auth")?;
    let device_id = string_prop(auth, "device_id", "Auth")?;
    if device_id != options.device_id {
        return Err(format!(
            "Auth device_id {device_id:?} does not echo Hello's {:?}",
            options.device_id
        ));
    }
    if auth.get("protocol_version").and_then(Value::as_u64) != Some(1) {
        return Err(format!(
            "Auth protocol_version is not the integer 1: {auth}"
        ));
    }
    let server_static = hex32_prop(auth, "server_static", "Auth")?;
    progress.set(
        "server_static_matches",
        json!(server_static == options.server_static),
    );
    let versions = auth
        .get("supported_versions")
        .and_then(Value::as_array)
        .ok_or("Auth has no supported_versions array")?;
    if versions.is_empty()
        || !versions
            .iter()
            .all(|v| v.as_u64().is_some_and(|n| n <= u16::MAX as u64))
    {
        return Err(format!(
            "Auth supported_versions is not a non-empty array of u16: {auth}"
        ));
    }
    Ok(msg2)
}

fn check_msg2_payload(payload: &[u8], options: &Options) -> Result<Value, String> {
    let value: Value = serde_json::from_slice(payload).map_err(|e| {
        format!(
            "Noise msg2 payload is not JSON ({e}): {}",
            String::from_utf8_lossy(payload)
        )
    })?;
    let session = string_prop(&value, "session", "msg2 payload")?;
    if session.is_empty() {
        return Err("msg2 payload `session` is empty".into());
    }
    string_prop(&value, "user_id", "msg2 payload")?;
    let domain = string_prop(&value, "domain", "msg2 payload")?;
    if domain != options.domain {
        return Err(format!(
            "msg2 payload domain {domain:?} differs from --domain {:?}",
            options.domain
        ));
    }
    Ok(value)
}

fn check_ack(
    ack: &Value,
    options: &Options,
    device_public: &[u8; 32],
    progress: &mut Progress,
) -> Result<(), String> {
    if ack.get("handshake").and_then(Value::as_str) != Some("ok") {
        return Err(format!("Ack has no \"handshake\":\"ok\": {ack}"));
    }
    let ca_public = hex32_prop(ack, "device_ca_public", "Ack")?;
    let user_id = string_prop(ack, "user_id", "Ack")?;
    if !ack.get("user").is_some_and(Value::is_object) {
        return Err(format!("Ack `user` is not an object: {ack}"));
    }
    if !ack.get("pairing_required").is_some_and(Value::is_boolean) {
        return Err(format!("Ack `pairing_required` is not a bool: {ack}"));
    }
    let summary = ack.get("certificate").ok_or("Ack has no `certificate`")?;
    let serial = summary
        .get("serial")
        .and_then(Value::as_u64)
        .ok_or("Ack certificate.serial is not a u64")?;
    let issued_at = summary
        .get("issued_at")
        .and_then(Value::as_i64)
        .ok_or("Ack certificate.issued_at is not an i64")?;
    let expires_at = summary
        .get("expires_at")
        .and_then(Value::as_i64)
        .ok_or("Ack certificate.expires_at is not an i64")?;
    let full = ack
        .get("device_certificate")
        .ok_or("Ack has no `device_certificate`")?;
    let facts = options.suite.check_certificate(full, &ca_public)?;
    if facts.device_id != options.device_id {
        return Err(format!(
            "device_certificate device_id {:?} is not ours",
            facts.device_id
        ));
    }
    if &facts.public_key != device_public {
        return Err("device_certificate public_key is not our device public key".into());
    }
    if facts.user_id != user_id {
        return Err(format!(
            "device_certificate user_id {:?} differs from Ack user_id {user_id:?}",
            facts.user_id
        ));
    }
    if (facts.serial, facts.issued_at, facts.expires_at) != (serial, issued_at, expires_at) {
        return Err("Ack `certificate` summary differs from `device_certificate`".into());
    }
    progress.set("certificate_verified", json!(true));
    Ok(())
}

async fn session(options: &Options, progress: &mut Progress) -> Result<Finished, String> {
    let suite = options.suite.as_ref();
    let dialect = suite.dialect();
    progress.stage = "keys";
    progress.set("crates", json!(dialect.label()));
    progress.set("pattern", json!(options.pattern));
    let keys = suite.keys_from_seed(&options.seed)?;
    let client_static = x25519_public(keys.private);
    progress.set("device_id", json!(options.device_id));
    progress.set("device_public", json!(hex::encode(keys.public)));
    progress.set("client_static", json!(hex::encode(client_static)));
    let zkp = suite.prove(&keys, &options.domain, &options.device_id, &client_static)?;
    let mut noise = suite.initiator(
        &options.pattern,
        &options.prologue,
        keys.private,
        options.server_static,
    )?;
    let msg1 = noise
        .write(&[])
        .map_err(|e| format!("noise message one: {e}"))?;

    progress.stage = "connect";
    let (send_request, alpn) = connect(&options.target).await?;
    progress.set("alpn", json!(alpn));
    let request = http::Request::builder()
        .method("POST")
        .uri(format!(
            "https://{}{}",
            options.target.authority, options.target.path
        ))
        .header("content-type", "application/octet-stream")
        .header("user-agent", "CommuCat-CLI/0.1")
        .header("te", "trailers")
        .body(())
        .map_err(|e| format!("request: {e}"))?;
    let mut send_request = send_request
        .ready()
        .await
        .map_err(|e| format!("http/2 not ready: {e}"))?;
    let (response, send) = send_request
        .send_request(request, false)
        .map_err(|e| format!("send request: {e}"))?;
    let mut writer = FrameWriter::new(send, dialect);

    progress.stage = "hello";
    let mut hello = json!({
        "capabilities": ["noise", "zstd"],
        "client_static": hex::encode(client_static),
        "device_id": options.device_id,
        "device_public": hex::encode(keys.public),
        "handshake": hex::encode(&msg1),
        "pattern": options.pattern,
        "protocol_version": 1,
        "zkp": zkp,
    });
    if let Some(handle) = &options.handle {
        hello["user"] = json!({ "handle": handle });
    }
    writer.send(&WireFrame {
        type_num: HELLO,
        channel: 0,
        sequence: 1,
        payload: Payload::Control(hello),
    })?;
    // The real client sends Hello first and only then waits for the response headers (§2.3).
    let response = response
        .await
        .map_err(|e| format!("response headers: {e}"))?;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    progress.set(
        "http",
        json!({
            "status": response.status().as_u16(),
            "content_type": header("content-type"),
            "cache_control": header("cache-control"),
            "connect_mode": header("x-commucat-connect-mode"),
        }),
    );
    let mut reader = FrameReader::new(response.into_body(), dialect);

    progress.stage = "auth";
    let Some(auth_frame) = handshake_frame(&mut reader, AUTH, "the server Auth", progress).await?
    else {
        return Ok(Finished::Rejected);
    };
    let auth = control(&auth_frame)?.clone();
    progress.set("auth", auth.clone());
    progress.set(
        "auth_frame",
        json!({ "channel": auth_frame.channel, "sequence": auth_frame.sequence }),
    );
    let msg2 = check_auth(&auth, options, progress)?;
    let payload = noise
        .read(&msg2)
        .map_err(|e| format!("noise message two: {e}"))?;
    let msg2_payload = check_msg2_payload(&payload, options)?;
    let session_len = msg2_payload["session"].as_str().map(str::len);
    progress.set("msg2_payload", msg2_payload);
    progress.set("session_len", json!(session_len));
    // The real client writes a third message for either pattern; with IK this fails locally
    // (§3.4), which is the behaviour reproduced here.
    let msg3 = noise
        .write(&[])
        .map_err(|e| format!("noise message three: {e}"))?;
    let client_auth = json!({ "handshake": hex::encode(&msg3) });
    writer.send(&WireFrame {
        type_num: AUTH,
        channel: auth_frame.channel,
        sequence: 2,
        payload: Payload::Control(client_auth),
    })?;

    progress.stage = "ack";
    let Some(ack_frame) = handshake_frame(&mut reader, ACK, "the handshake Ack", progress).await?
    else {
        return Ok(Finished::Rejected);
    };
    let ack = control(&ack_frame)?.clone();
    progress.set("ack", ack.clone());
    progress.set(
        "ack_frame",
        json!({ "channel": ack_frame.channel, "sequence": ack_frame.sequence }),
    );
    check_ack(&ack, options, &keys.public, progress)?;

    match &options.conversation {
        Some(script) => {
            conversation::run(
                script,
                &options.device_id,
                &mut reader,
                &mut writer,
                progress,
            )
            .await?
        }
        None => {
            progress.stage = "presence";
            let presence = json!({ "state": "online" });
            writer.send(&WireFrame {
                type_num: PRESENCE,
                channel: 0,
                sequence: 3,
                payload: Payload::Control(presence),
            })?;
        }
    }
    writer.finish()?;

    // Anything the server still sends (drained inbox frames) until it ends the response.
    progress.stage = "close";
    let mut after_ack = Vec::new();
    let closed = loop {
        match tokio::time::timeout(CLOSE_GRACE, reader.next()).await {
            Ok(Ok(Some(frame))) => after_ack.push(frame_json(dialect, &frame)),
            Ok(Ok(None)) => break json!(true),
            Ok(Err(error)) => break json!(error),
            Err(_) => break json!(false),
        }
    };
    progress.set("after_ack_frames", Value::Array(after_ack));
    progress.set("server_closed", closed);
    Ok(Finished::Established)
}
