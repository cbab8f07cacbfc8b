//! §9.4 TV-NOISE-01..10. 01–06 (and the IK extras) use snow directly, because fixing the
//! ephemeral keys needs snow's hidden `fixed_ephemeral_key_for_testing_only`; 07–10 use the
//! commucat-crypto API as the client and the reference server do.

use super::keys::key_a;
use super::VectorSet;
use crate::codec::{Dialect, Payload, WireFrame};
use commucat_crypto::{build_handshake, derive_noise_public_key, HandshakePattern, NoiseConfig};
use serde_json::{json, Value};
use snow::{Builder, HandshakeState};

const PROLOGUE: &[u8] = b"commucat";
const SERVER_STATIC: [u8; 32] = [0x11; 32];
const CLIENT_EPHEMERAL: [u8; 32] = [0x22; 32];
const SERVER_EPHEMERAL: [u8; 32] = [0x33; 32];
const WRONG_SERVER_STATIC: [u8; 32] = [0x44; 32];
const MSG2_PAYLOAD: &str = r#"{"domain":"example.org","protocol_version":1,"session":"sess-1","user":{"avatar_url":null,"display_name":null,"handle":"alice","id":"user-1","user_id":"user-1"},"user_id":"user-1"}"#;

fn protocol_name(pattern: &str) -> String {
    format!("Noise_{pattern}_25519_ChaChaPoly_BLAKE2s")
}

fn fixed_state(
    pattern: &str,
    initiator: bool,
    local: &[u8; 32],
    remote: Option<&[u8; 32]>,
    ephemeral: &[u8; 32],
) -> HandshakeState {
    let mut builder = Builder::new(protocol_name(pattern).parse().expect("noise params"))
        .prologue(PROLOGUE)
        .expect("prologue")
        .local_private_key(local)
        .expect("local key")
        .fixed_ephemeral_key_for_testing_only(ephemeral);
    if let Some(remote) = remote {
        builder = builder.remote_public_key(remote).expect("remote key");
    }
    if initiator {
        builder.build_initiator()
    } else {
        builder.build_responder()
    }
    .expect("build")
}

fn write(state: &mut HandshakeState, payload: &[u8]) -> Vec<u8> {
    let mut buffer = vec![0u8; 65535];
    let len = state
        .write_message(payload, &mut buffer)
        .expect("write_message");
    buffer.truncate(len);
    buffer
}

fn read(state: &mut HandshakeState, message: &[u8]) -> Vec<u8> {
    let mut buffer = vec![0u8; 65535];
    let len = state
        .read_message(message, &mut buffer)
        .expect("read_message");
    buffer.truncate(len);
    buffer
}

fn varint(mut value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
    out
}

fn encode_control(type_num: u8, channel: u64, sequence: u64, json: &str) -> Vec<u8> {
    let frame = WireFrame {
        type_num,
        channel,
        sequence,
        payload: Payload::Control(serde_json::from_str(json).unwrap()),
    };
    Dialect::V103.encode(&frame).expect("encode")
}

/// Keys and parameters shared by the XK vectors, as the TS side needs them.
fn xk_setup(client_private: [u8; 32]) -> Value {
    json!({
        "pattern": "XK",
        "protocol": protocol_name("XK"),
        "prologue": String::from_utf8(PROLOGUE.to_vec()).unwrap(),
        "server_static_private": hex::encode(SERVER_STATIC),
        "server_static_public": hex::encode(derive_noise_public_key(&SERVER_STATIC)),
        "client_static_private": hex::encode(client_private),
        "client_static_public": hex::encode(derive_noise_public_key(&client_private)),
        "client_ephemeral_private": hex::encode(CLIENT_EPHEMERAL),
        "client_ephemeral_public": hex::encode(derive_noise_public_key(&CLIENT_EPHEMERAL)),
        "server_ephemeral_private": hex::encode(SERVER_EPHEMERAL),
        "server_ephemeral_public": hex::encode(derive_noise_public_key(&SERVER_EPHEMERAL)),
    })
}

fn add_fixed_xk(set: &mut VectorSet) {
    let client_private = key_a().private;
    let server_public = derive_noise_public_key(&SERVER_STATIC);
    let mut client = fixed_state(
        "XK",
        true,
        &client_private,
        Some(&server_public),
        &CLIENT_EPHEMERAL,
    );
    let mut server = fixed_state("XK", false, &SERVER_STATIC, None, &SERVER_EPHEMERAL);
    let setup = xk_setup(client_private);

    let msg1 = write(&mut client, &[]);
    assert!(read(&mut server, &msg1).is_empty());
    let msg2 = write(&mut server, MSG2_PAYLOAD.as_bytes());
    assert_eq!(read(&mut client, &msg2), MSG2_PAYLOAD.as_bytes());
    let msg3 = write(&mut client, &[]);
    assert!(read(&mut server, &msg3).is_empty());
    let hash = client.get_handshake_hash().to_vec();
    assert_eq!(hash, server.get_handshake_hash());
    let remote_static = server.get_remote_static().expect("msg3 carries s").to_vec();

    for (id, payload, message) in [
        ("TV-NOISE-01", "".to_string(), &msg1),
        ("TV-NOISE-02", MSG2_PAYLOAD.to_string(), &msg2),
        ("TV-NOISE-03", "".to_string(), &msg3),
    ] {
        set.add(
            id,
            json!({
                "kind": "noise_message",
                "setup": setup,
                "step": id,
                "payload_hex": hex::encode(payload.as_bytes()),
                "message_hex": hex::encode(message),
            }),
        );
    }
    set.add(
        "TV-NOISE-04",
        json!({
            "kind": "noise_handshake_hash",
            "setup": setup,
            "messages_hex": [hex::encode(&msg1), hex::encode(&msg2), hex::encode(&msg3)],
            "handshake_hash": hex::encode(&hash),
            "responder_remote_static": hex::encode(&remote_static),
        }),
    );

    let mut client = client.into_transport_mode().expect("client transport");
    let mut server = server.into_transport_mode().expect("server transport");
    let join = encode_control(0x03, 7, 3, r#"{"members":["device-1"],"relay":false}"#);
    let ack = encode_control(0x06, 0, 2, r#"{"handshake":"ok"}"#);
    let mut buffer = vec![0u8; 65535];
    let len = client
        .write_message(&join, &mut buffer)
        .expect("encrypt c2s");
    let c2s = buffer[..len].to_vec();
    let len = server.read_message(&c2s, &mut buffer).expect("decrypt c2s");
    assert_eq!(&buffer[..len], join.as_slice());
    let len = server
        .write_message(&ack, &mut buffer)
        .expect("encrypt s2c");
    let s2c = buffer[..len].to_vec();
    let len = client.read_message(&s2c, &mut buffer).expect("decrypt s2c");
    assert_eq!(&buffer[..len], ack.as_slice());

    for (id, direction, plaintext, ciphertext) in [
        ("TV-NOISE-05", "c2s", &join, &c2s),
        ("TV-NOISE-06", "s2c", &ack, &s2c),
    ] {
        let mut unit = varint(ciphertext.len() as u64);
        unit.extend_from_slice(ciphertext);
        set.add(
            id,
            json!({
                "kind": "noise_transport",
                "setup": setup,
                "messages_hex": [hex::encode(&msg1), hex::encode(&msg2), hex::encode(&msg3)],
                "direction": direction,
                "nonce": 0,
                "plaintext_hex": hex::encode(plaintext),
                "ciphertext_hex": hex::encode(ciphertext),
                "wire_unit_hex": hex::encode(&unit),
            }),
        );
    }
}

/// Extra: IK with fixed ephemerals (what the real client sends as msg1 when set to IK).
fn add_fixed_ik(set: &mut VectorSet) {
    let client_private = key_a().private;
    let server_public = derive_noise_public_key(&SERVER_STATIC);
    let mut client = fixed_state(
        "IK",
        true,
        &client_private,
        Some(&server_public),
        &CLIENT_EPHEMERAL,
    );
    let mut server = fixed_state("IK", false, &SERVER_STATIC, None, &SERVER_EPHEMERAL);
    let msg1 = write(&mut client, &[]);
    assert!(read(&mut server, &msg1).is_empty());
    let msg2 = write(&mut server, MSG2_PAYLOAD.as_bytes());
    assert_eq!(read(&mut client, &msg2), MSG2_PAYLOAD.as_bytes());
    let hash = client.get_handshake_hash().to_vec();
    assert_eq!(hash, server.get_handshake_hash());
    let mut setup = xk_setup(client_private);
    setup["pattern"] = json!("IK");
    setup["protocol"] = json!(protocol_name("IK"));
    set.add(
        "TV-NOISE-X01",
        json!({
            "kind": "noise_ik",
            "setup": setup,
            "msg1_hex": hex::encode(&msg1),
            "msg2_payload_hex": hex::encode(MSG2_PAYLOAD.as_bytes()),
            "msg2_hex": hex::encode(&msg2),
            "handshake_hash": hex::encode(&hash),
            "finished_after_msg2": client.is_handshake_finished() && server.is_handshake_finished(),
        }),
    );
}

fn crypto_config(
    pattern: HandshakePattern,
    local: [u8; 32],
    remote: Option<[u8; 32]>,
) -> NoiseConfig {
    NoiseConfig {
        pattern,
        prologue: PROLOGUE.to_vec(),
        local_private: local,
        local_static_public: None,
        remote_static_public: remote,
    }
}

/// TV-NOISE-07: the crates' own handshakes (random ephemerals) run against each other, in
/// both crate versions; msg1 is kept so another responder can read it.
fn add_interactive(set: &mut VectorSet) {
    let a = key_a();
    let client_static = derive_noise_public_key(&a.private);
    let server_public = derive_noise_public_key(&SERVER_STATIC);
    let mut client = build_handshake(
        &crypto_config(HandshakePattern::Xk, a.private, Some(server_public)),
        true,
    )
    .unwrap();
    // Like the reference server: the responder gets Hello's client_static as remote static.
    let mut server = build_handshake(
        &crypto_config(HandshakePattern::Xk, SERVER_STATIC, Some(client_static)),
        false,
    )
    .unwrap();
    let msg1 = client.write_message(&[]).unwrap();
    let payload1 = server.read_message(&msg1).unwrap();
    let msg2 = server.write_message(MSG2_PAYLOAD.as_bytes()).unwrap();
    let payload2 = client.read_message(&msg2).unwrap();
    let msg3 = client.write_message(&[]).unwrap();
    let payload3 = server.read_message(&msg3).unwrap();
    let hashes_equal = client.handshake_hash().unwrap() == server.handshake_hash().unwrap();
    let mut client_t = client.into_transport().unwrap();
    let mut server_t = server.into_transport().unwrap();
    let echoed = server_t
        .read_message(&client_t.write_message(b"ping").unwrap())
        .unwrap();

    // The real client's crate (1.0.41) as initiator against the 1.0.103 responder.
    let config_41 = commucat_crypto_41::NoiseConfig {
        pattern: commucat_crypto_41::HandshakePattern::Xk,
        prologue: PROLOGUE.to_vec(),
        local_private: a.private,
        local_static_public: None,
        remote_static_public: Some(server_public),
    };
    let mut client_41 = commucat_crypto_41::build_handshake(&config_41, true).unwrap();
    let mut server_103 = build_handshake(
        &crypto_config(HandshakePattern::Xk, SERVER_STATIC, Some(client_static)),
        false,
    )
    .unwrap();
    let ok_41 = (|| -> Result<(), String> {
        let m1 = client_41.write_message(&[]).map_err(|e| e.to_string())?;
        server_103.read_message(&m1).map_err(|e| e.to_string())?;
        let m2 = server_103
            .write_message(MSG2_PAYLOAD.as_bytes())
            .map_err(|e| e.to_string())?;
        client_41.read_message(&m2).map_err(|e| e.to_string())?;
        let m3 = client_41.write_message(&[]).map_err(|e| e.to_string())?;
        server_103.read_message(&m3).map_err(|e| e.to_string())?;
        Ok(())
    })();

    set.add(
        "TV-NOISE-07",
        json!({
            "kind": "noise_interactive",
            "server_static_private": hex::encode(SERVER_STATIC),
            "prologue": "commucat",
            "msg1_hex": hex::encode(&msg1),
            "msg1_payload_hex": hex::encode(&payload1),
            "lengths": [msg1.len(), msg2.len(), msg3.len()],
            "msg2_payload_roundtrip": payload2 == MSG2_PAYLOAD.as_bytes(),
            "msg3_payload_empty": payload3.is_empty(),
            "handshake_hashes_equal": hashes_equal,
            "transport_roundtrip": echoed == b"ping",
            "crates_41_initiator_with_103_responder": ok_41.is_ok(),
        }),
    );
}

/// TV-NOISE-08: the server tries its keys newest first on msg1 (§3.5).
fn add_key_selection(set: &mut VectorSet) {
    let a = key_a();
    let server_public = derive_noise_public_key(&SERVER_STATIC);
    let mut client = build_handshake(
        &crypto_config(HandshakePattern::Xk, a.private, Some(server_public)),
        true,
    )
    .unwrap();
    let msg1 = client.write_message(&[]).unwrap();
    let attempts: Vec<Value> = [WRONG_SERVER_STATIC, SERVER_STATIC]
        .iter()
        .map(|private| {
            let mut responder =
                build_handshake(&crypto_config(HandshakePattern::Xk, *private, None), false)
                    .unwrap();
            let result = responder.read_message(&msg1);
            json!({
                "server_static_private": hex::encode(private),
                "ok": result.is_ok(),
                "error": result.err().map(|e| format!("{e:?}")),
            })
        })
        .collect();
    set.add("TV-NOISE-08", json!({ "kind": "noise_key_selection", "prologue": "commucat", "msg1_hex": hex::encode(&msg1), "attempts": attempts }));
}

/// TV-NOISE-09: IK through commucat-crypto: a third write after msg2 fails, which is why the
/// real client cannot use IK (§3.4).
fn add_ik_third_write(set: &mut VectorSet) {
    let a = key_a();
    let server_public = derive_noise_public_key(&SERVER_STATIC);
    let mut client = build_handshake(
        &crypto_config(HandshakePattern::Ik, a.private, Some(server_public)),
        true,
    )
    .unwrap();
    let mut server = build_handshake(
        &crypto_config(HandshakePattern::Ik, SERVER_STATIC, None),
        false,
    )
    .unwrap();
    let msg1 = client.write_message(&[]).unwrap();
    server.read_message(&msg1).unwrap();
    let msg2 = server.write_message(MSG2_PAYLOAD.as_bytes()).unwrap();
    client.read_message(&msg2).unwrap();
    let third = client.write_message(&[]);
    let server_read_after = server.read_message(&[0u8; 64]);
    set.add(
        "TV-NOISE-09",
        json!({
            "kind": "noise_ik_third_write",
            "msg1_len": msg1.len(),
            "msg2_len": msg2.len(),
            "third_write": { "ok": third.is_ok(), "error": third.err().map(|e| format!("{e:?}")) },
            "responder_read_after_msg2": { "ok": server_read_after.is_ok(), "error": server_read_after.err().map(|e| format!("{e:?}")) },
        }),
    );
}

/// TV-NOISE-10: transport messages hold at most 65 535 − 16 bytes of plaintext.
fn add_transport_limit(set: &mut VectorSet) {
    let a = key_a();
    let client_static = derive_noise_public_key(&a.private);
    let server_public = derive_noise_public_key(&SERVER_STATIC);
    let mut client = build_handshake(
        &crypto_config(HandshakePattern::Xk, a.private, Some(server_public)),
        true,
    )
    .unwrap();
    let mut server = build_handshake(
        &crypto_config(HandshakePattern::Xk, SERVER_STATIC, Some(client_static)),
        false,
    )
    .unwrap();
    server
        .read_message(&client.write_message(&[]).unwrap())
        .unwrap();
    client
        .read_message(&server.write_message(&[]).unwrap())
        .unwrap();
    server
        .read_message(&client.write_message(&[]).unwrap())
        .unwrap();
    let mut transport = client.into_transport().unwrap();
    let cases: Vec<Value> = [65_519usize, 65_520]
        .iter()
        .map(|size| {
            let result = transport.write_message(&vec![0u8; *size]);
            json!({
                "plaintext_len": size,
                "ok": result.is_ok(),
                "ciphertext_len": result.as_ref().ok().map(Vec::len),
                "error": result.err().map(|e| format!("{e:?}")),
            })
        })
        .collect();
    set.add(
        "TV-NOISE-10",
        json!({ "kind": "noise_transport_limit", "cases": cases }),
    );
}

pub fn add(set: &mut VectorSet) {
    add_fixed_xk(set);
    add_fixed_ik(set);
    add_interactive(set);
    add_key_selection(set);
    add_ik_third_write(set);
    add_transport_limit(set);
}
