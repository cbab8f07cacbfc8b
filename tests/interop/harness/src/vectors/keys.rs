//! §9.2 TV-CRYPTO-01..07: device key pairs, the Ed25519 secret scalar and X25519 publics.

use super::VectorSet;
use commucat_crypto::{derive_noise_public_key, DeviceKeyPair};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

/// Device key pair "A" of the spec: from_seed of this 39-byte ASCII string.
pub const SEED_A: &[u8] = b"seed-seed-seed-seed-seed-seed-seed-seed";

pub fn key_a() -> DeviceKeyPair {
    DeviceKeyPair::from_seed(SEED_A).expect("seed A")
}

/// Key pair "B": from_seed(bytes 0x00..0x1f) (TV-CRYPTO-02).
pub fn key_b() -> DeviceKeyPair {
    DeviceKeyPair::from_seed(&seed_b()).expect("seed B")
}

fn seed_b() -> Vec<u8> {
    (0u8..32).collect()
}

/// The sample `federation_seed` (hex 202122…2f twice), whose key pair is the server CA.
pub fn seed_ca() -> Vec<u8> {
    (0x20u8..0x30).chain(0x20u8..0x30).collect()
}

fn from_seed_vector(seed: &[u8]) -> Value {
    let v103 = DeviceKeyPair::from_seed(seed);
    let v41 = commucat_crypto_41::DeviceKeyPair::from_seed(seed);
    let same_in_41 = match (&v103, &v41) {
        (Ok(a), Ok(b)) => a.private == b.private && a.public == b.public,
        (Err(_), Err(_)) => true,
        _ => false,
    };
    assert!(same_in_41, "from_seed differs between 1.0.103 and 1.0.41");
    match v103 {
        Ok(keys) => json!({
            "kind": "from_seed",
            "seed_hex": hex::encode(seed),
            "ok": true,
            "private": hex::encode(keys.private),
            "public": hex::encode(keys.public),
        }),
        Err(error) => json!({
            "kind": "from_seed",
            "seed_hex": hex::encode(seed),
            "ok": false,
            "error": format!("{error:?}"),
        }),
    }
}

fn x25519_vector(private: [u8; 32]) -> Value {
    json!({
        "kind": "x25519_public",
        "private": hex::encode(private),
        "public": hex::encode(derive_noise_public_key(&private)),
    })
}

pub fn add(set: &mut VectorSet) {
    set.add("TV-CRYPTO-01", from_seed_vector(SEED_A));
    set.add("TV-CRYPTO-02", from_seed_vector(&seed_b()));
    set.add(
        "TV-CRYPTO-03",
        from_seed_vector(&(0u8..31).collect::<Vec<_>>()),
    );
    let a = key_a();
    let scalar = SigningKey::from_bytes(&a.private).to_scalar().to_bytes();
    set.add(
        "TV-CRYPTO-04",
        json!({ "kind": "ed25519_scalar", "private": hex::encode(a.private), "scalar": hex::encode(scalar) }),
    );
    set.add("TV-CRYPTO-05", x25519_vector(a.private));
    set.add("TV-CRYPTO-06", x25519_vector([0x11; 32]));
    set.add("TV-CRYPTO-07", from_seed_vector(&seed_ca()));
    // Extra: a 64-byte seed, the length the real client generates (§5.1).
    set.add(
        "TV-CRYPTO-X01",
        from_seed_vector(&(0x40u8..0x80).collect::<Vec<_>>()),
    );
}
