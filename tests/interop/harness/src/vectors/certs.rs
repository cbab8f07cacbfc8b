//! §9.3 TV-CERT-01..06: canonical signing message, signatures, JSON forms, verification and
//! lenient parsing of device certificates.

use super::keys::{key_a, key_b};
use super::VectorSet;
use commucat_crypto::{DeviceCertificate, DeviceCertificateData, EventSigner};
use serde_json::{json, Value};

fn data_json(data: &DeviceCertificateData) -> Value {
    // serial is a u64: written as a decimal string so JavaScript readers keep it exact.
    json!({
        "serial": data.serial.to_string(),
        "user_id": data.user_id,
        "device_id": data.device_id,
        "public_key": hex::encode(data.public_key),
        "issuer": hex::encode(data.issuer),
        "issued_at": data.issued_at,
        "expires_at": data.expires_at,
    })
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).expect("serde_json writes UTF-8")
}

/// The two JSON spellings of a certificate (§6.3): `to_string` keeps declaration order,
/// `to_value` then `to_string` sorts the keys.
fn certificate_forms(certificate: &DeviceCertificate) -> Value {
    let value = serde_json::to_value(certificate).expect("certificate value");
    json!({
        "declaration": serde_json::to_string(certificate).expect("certificate json"),
        "sorted": serde_json::to_string(&value).expect("certificate sorted json"),
    })
}

fn signed_vector(
    data: &DeviceCertificateData,
    signer_private: [u8; 32],
    certificate: &DeviceCertificate,
) -> Value {
    json!({
        "kind": "certificate_sign",
        "data": data_json(data),
        "signer_private": hex::encode(signer_private),
        "canonical": text(data.canonical_message()),
        "canonical_hex": hex::encode(data.canonical_message()),
        "signature": hex::encode(certificate.signature),
        "json": certificate_forms(certificate),
    })
}

fn verify_case(name: &str, certificate: &DeviceCertificate, authority: [u8; 32]) -> Value {
    let result = certificate.verify(&authority);
    json!({
        "name": name,
        "certificate_json": serde_json::to_string(&serde_json::to_value(certificate).unwrap()).unwrap(),
        "authority_public": hex::encode(authority),
        "ok": result.is_ok(),
        "error": result.err().map(|e| format!("{e:?}")),
    })
}

fn parse_case(name: &str, input: String, authority: [u8; 32]) -> Value {
    match serde_json::from_str::<DeviceCertificate>(&input) {
        Ok(certificate) => json!({
            "name": name,
            "input_json": input,
            "ok": true,
            "data": data_json(&certificate.data),
            "canonical": text(certificate.data.canonical_message()),
            "verify_ok": certificate.verify(&authority).is_ok(),
        }),
        Err(error) => {
            json!({ "name": name, "input_json": input, "ok": false, "error": error.to_string() })
        }
    }
}

pub fn add(set: &mut VectorSet) {
    let a = key_a();
    let b = key_b();
    let signer = EventSigner::new(&a);

    let data_01 = DeviceCertificateData::new(42, "user-1", "device-1", a.public, a.public, 1, 2);
    set.add(
        "TV-CERT-01",
        json!({
            "kind": "certificate_canonical",
            "data": data_json(&data_01),
            "canonical": text(data_01.canonical_message()),
            "canonical_hex": hex::encode(data_01.canonical_message()),
        }),
    );

    let cert_02 = signer.sign_certificate(&data_01);
    set.add("TV-CERT-02", signed_vector(&data_01, a.private, &cert_02));
    set.add(
        "TV-CERT-03",
        json!({ "kind": "certificate_json", "json": certificate_forms(&cert_02) }),
    );

    let data_04 = DeviceCertificateData::new(
        u64::MAX,
        "u\"ser\né",
        "dev/1",
        b.public,
        a.public,
        1_700_000_000,
        1_702_592_000,
    );
    let cert_04 = signer.sign_certificate(&data_04);
    set.add("TV-CERT-04", signed_vector(&data_04, a.private, &cert_04));

    let mut flipped = cert_02.clone();
    flipped.signature[10] ^= 0x01;
    let mut next_serial = cert_02.clone();
    next_serial.data.serial += 1;
    let mut other_issuer = cert_02.clone();
    other_issuer.data.issuer = b.public;
    set.add(
        "TV-CERT-05",
        json!({
            "kind": "certificate_verify_cases",
            "cases": [
                verify_case("cert02_valid", &cert_02, a.public),
                verify_case("cert04_valid", &cert_04, a.public),
                verify_case("signature_bit_flipped", &flipped, a.public),
                verify_case("issuer_field_changed", &other_issuer, a.public),
                verify_case("verified_against_other_ca", &cert_02, b.public),
                verify_case("serial_plus_one", &next_serial, a.public),
            ],
        }),
    );

    let sorted_02 = serde_json::to_string(&serde_json::to_value(&cert_02).unwrap()).unwrap();
    let sorted_04 = serde_json::to_string(&serde_json::to_value(&cert_04).unwrap()).unwrap();
    let upper = format!(
        r#"{{"device_id":"device-1","expires_at":2,"issued_at":1,"issuer":"{}","public_key":"{}","serial":42,"signature":"{}","user_id":"user-1"}}"#,
        hex::encode_upper(a.public),
        hex::encode_upper(a.public),
        hex::encode_upper(cert_02.signature),
    );
    let extra_keys = sorted_02.replacen('{', r#"{"extra":1,"nested":{"x":[1,2]},"#, 1);
    let serial_too_big = sorted_04.replace("18446744073709551615", "18446744073709551616");
    let serial_as_string = sorted_02.replace(r#""serial":42"#, r#""serial":"42""#);
    let serial_as_float = sorted_02.replace(r#""serial":42"#, r#""serial":42.0"#);
    let missing_signature =
        serde_json::to_string(&serde_json::to_value(&data_01).unwrap()).unwrap();
    let short_key = sorted_02.replacen(&hex::encode(a.public), &hex::encode(a.public)[..62], 1);
    set.add(
        "TV-CERT-06",
        json!({
            "kind": "certificate_parse_cases",
            "authority_public": hex::encode(a.public),
            "cases": [
                parse_case("uppercase_hex", upper, a.public),
                parse_case("extra_keys", extra_keys, a.public),
                parse_case("serial_u64_max", sorted_04, a.public),
                parse_case("serial_2_pow_64", serial_too_big, a.public),
                parse_case("serial_as_string", serial_as_string, a.public),
                parse_case("serial_as_float", serial_as_float, a.public),
                parse_case("missing_signature", missing_signature, a.public),
                parse_case("public_key_31_bytes", short_key, a.public),
            ],
        }),
    );
}
