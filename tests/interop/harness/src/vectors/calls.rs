//! §9.5 TV-CALL-01..06: call signalling JSON as 1.0.103 writes it and as 1.0.41 (the real
//! client) reads it.

use super::VectorSet;
use commucat_media_types::{AudioCodec, HardwareAcceleration, MediaSourceMode, VideoCodec};
use commucat_proto::call as c103;
use commucat_proto_41::call as c41;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

/// `to_value` then `to_string`, i.e. the sorted compact form a control payload gets on the wire.
fn wire_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(&serde_json::to_value(value).expect("to_value")).expect("to_string")
}

/// Parses `text` as `T` and reports the re-serialized wire form, or the serde error.
fn parse_report<T: Serialize + DeserializeOwned>(text: &str) -> Value {
    match serde_json::from_str::<T>(text) {
        Ok(parsed) => json!({ "ok": true, "json": wire_json(&parsed) }),
        Err(error) => json!({ "ok": false, "error": error.to_string() }),
    }
}

fn minimal_offer() -> c103::CallOffer {
    c103::CallOffer {
        call_id: "c1".into(),
        from: "a".into(),
        to: vec!["b".into()],
        media: c103::CallMediaProfile::default(),
        metadata: Value::Null,
        transport: None,
        expires_at: None,
        ephemeral_key: None,
    }
}

/// Every variant of an enum as serde writes it, checked to read back as the same variant.
fn enum_strings<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    variants: &[T],
) -> Value {
    variants
        .iter()
        .map(|variant| {
            let text = serde_json::to_value(variant).expect("enum to_value");
            let back: T = serde_json::from_value(text.clone()).expect("enum from_value");
            assert_eq!(&back, variant, "enum does not round-trip");
            text
        })
        .collect()
}

fn enums_41() -> Value {
    json!({
        "CallMode": enum_strings(&[c41::CallMode::FullDuplex, c41::CallMode::HalfDuplex]),
        "AudioCodec": enum_strings(&[c41::AudioCodec::Opus]),
        "VideoCodec": enum_strings(&[c41::VideoCodec::Vp8, c41::VideoCodec::Vp9]),
        "TransportProtocol": enum_strings(&[c41::TransportProtocol::Udp, c41::TransportProtocol::Tcp]),
        "CallRejectReason": enum_strings(&[
            c41::CallRejectReason::Busy, c41::CallRejectReason::Decline, c41::CallRejectReason::Unsupported,
            c41::CallRejectReason::Timeout, c41::CallRejectReason::Error,
        ]),
        "CallEndReason": enum_strings(&[
            c41::CallEndReason::Hangup, c41::CallEndReason::Cancel, c41::CallEndReason::Failure, c41::CallEndReason::Timeout,
        ]),
        "CallMediaDirection": enum_strings(&[c41::CallMediaDirection::Send, c41::CallMediaDirection::Receive]),
    })
}

fn enums_103() -> Value {
    json!({
        "CallMode": enum_strings(&[c103::CallMode::FullDuplex, c103::CallMode::HalfDuplex]),
        "AudioCodec": enum_strings(&[AudioCodec::Opus, AudioCodec::RawPcm]),
        "VideoCodec": enum_strings(&[
            VideoCodec::RawI420, VideoCodec::Vp8, VideoCodec::Vp9, VideoCodec::H264Baseline,
            VideoCodec::H264Main, VideoCodec::H265Main, VideoCodec::Av1Main,
        ]),
        "MediaSourceMode": enum_strings(&[MediaSourceMode::Encoded, MediaSourceMode::Raw, MediaSourceMode::Hybrid]),
        "HardwareAcceleration": enum_strings(&[
            HardwareAcceleration::Cpu, HardwareAcceleration::Nvidia, HardwareAcceleration::Amd,
            HardwareAcceleration::Intel, HardwareAcceleration::Apple,
        ]),
        "TransportProtocol": enum_strings(&[c103::TransportProtocol::Udp, c103::TransportProtocol::Tcp]),
        "IceCandidateType": enum_strings(&[
            c103::IceCandidateType::Host, c103::IceCandidateType::Srflx, c103::IceCandidateType::Prflx, c103::IceCandidateType::Relay,
        ]),
        "IceTcpCandidateType": enum_strings(&[
            c103::IceTcpCandidateType::Active, c103::IceTcpCandidateType::Passive, c103::IceTcpCandidateType::So,
        ]),
        "CallRejectReason": enum_strings(&[
            c103::CallRejectReason::Busy, c103::CallRejectReason::Decline, c103::CallRejectReason::Unsupported,
            c103::CallRejectReason::Timeout, c103::CallRejectReason::Error,
        ]),
        "CallEndReason": enum_strings(&[
            c103::CallEndReason::Hangup, c103::CallEndReason::Cancel, c103::CallEndReason::Failure, c103::CallEndReason::Timeout,
        ]),
        "CallMediaDirection": enum_strings(&[c103::CallMediaDirection::Send, c103::CallMediaDirection::Receive]),
    })
}

fn candidate(address: &str, port: u16) -> c103::TransportCandidate {
    c103::TransportCandidate {
        address: address.into(),
        port,
        protocol: c103::TransportProtocol::Udp,
        foundation: None,
        component: None,
        priority: None,
        candidate_type: None,
        related_address: None,
        related_port: None,
        tcp_type: None,
        sdp_mid: None,
        sdp_mline_index: None,
        url: None,
    }
}

fn candidate_ref(address: &str, port: u16) -> c103::TransportCandidateRef {
    c103::TransportCandidateRef {
        address: address.into(),
        port,
        protocol: c103::TransportProtocol::Udp,
        candidate_type: Some(c103::IceCandidateType::Host),
        foundation: None,
        priority: None,
    }
}

fn transport_updates() -> Vec<Value> {
    use c103::TransportUpdatePayload as P;
    let updates = [
        P::Candidate {
            candidate: candidate("203.0.113.10", 3478),
        },
        P::SelectedCandidatePair {
            local: candidate_ref("192.0.2.1", 5000),
            remote: candidate_ref("203.0.113.10", 3478),
            rtt_ms: Some(42),
        },
        P::ConsentKeepalive {
            interval_secs: Some(15),
        },
    ];
    updates
        .into_iter()
        .map(|payload| {
            let update = c103::CallTransportUpdate {
                call_id: "c1".into(),
                payload,
            };
            let text = wire_json(&update);
            let back: c103::CallTransportUpdate =
                serde_json::from_str(&text).expect("update parses back");
            assert_eq!(back, update);
            json!(text)
        })
        .collect()
}

fn stats_103() -> c103::CallStats {
    c103::CallStats {
        call_id: "c1".into(),
        direction: c103::CallMediaDirection::Send,
        audio: Some(c103::MediaStreamStats {
            bitrate: 32_000,
            packet_loss: 0.012,
            jitter_ms: 7,
            rtt_ms: Some(40),
            frames_per_second: None,
            key_frames: None,
            codec: Some("opus".into()),
            source: None,
            hardware: None,
        }),
        video: None,
        timestamp: Some(1_700_000_000_000),
    }
}

fn stats_41() -> c41::CallStats {
    c41::CallStats {
        call_id: "c1".into(),
        direction: c41::CallMediaDirection::Send,
        audio: Some(c41::MediaStreamStats {
            bitrate: 32_000,
            packet_loss: 0.012,
            jitter_ms: 7,
            rtt_ms: Some(40),
            frames_per_second: None,
            key_frames: None,
        }),
        video: None,
        timestamp: Some(1_700_000_000_000),
    }
}

pub fn add(set: &mut VectorSet) {
    let offer = minimal_offer();
    let offer_json = wire_json(&offer);
    set.add(
        "TV-CALL-01",
        json!({
            "kind": "call_json",
            "json_103": offer_json,
            "parse_41": parse_report::<c41::CallOffer>(&offer_json),
            "parse_103": parse_report::<c103::CallOffer>(&offer_json),
        }),
    );

    let mut raw_offer = minimal_offer();
    raw_offer.media.audio.codec = AudioCodec::RawPcm;
    let raw_json = wire_json(&raw_offer);
    set.add(
        "TV-CALL-02",
        json!({ "kind": "call_json", "json_103": raw_json, "parse_41": parse_report::<c41::CallOffer>(&raw_json) }),
    );

    let legacy = r#"{"call_id":"c1","from":"a","to":["b"],"transport":{"udp_candidates":[{"address":"203.0.113.10","port":3478}]}}"#;
    set.add(
        "TV-CALL-03",
        json!({
            "kind": "call_json",
            "input_41": legacy,
            "parse_103": parse_report::<c103::CallOffer>(legacy),
            "parse_41": parse_report::<c41::CallOffer>(legacy),
        }),
    );

    set.add(
        "TV-CALL-04",
        json!({ "kind": "call_enums", "v41": enums_41(), "v103": enums_103() }),
    );
    set.add(
        "TV-CALL-05",
        json!({ "kind": "call_transport_updates", "json_103": transport_updates() }),
    );

    let stats_json_103 = wire_json(&stats_103());
    set.add(
        "TV-CALL-06",
        json!({
            "kind": "call_json",
            "json_103": stats_json_103,
            "json_41": wire_json(&stats_41()),
            // For contrast: serializing the struct straight to text keeps the f32 spelling;
            // the wire form goes through `to_value`, which widens f32 to f64 first.
            "to_string_103": serde_json::to_string(&stats_103()).expect("stats json"),
            "parse_41": parse_report::<c41::CallStats>(&stats_json_103),
        }),
    );
}
