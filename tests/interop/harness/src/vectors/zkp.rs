//! §9.2 TV-ZKP-01..06: handshake context, deterministic proofs, JSON form, negative cases,
//! and random proofs for the other implementation to verify.

use super::keys::{key_a, SEED_A};
use super::VectorSet;
use commucat_crypto::zkp::{
    derive_handshake_context, prove_with_rng, verify_handshake, KnowledgeProof,
};
use commucat_crypto::{derive_noise_public_key, DeviceKeyPair};
use curve25519_dalek::edwards::CompressedEdwardsY;
use rand_core::{CryptoRng, OsRng, RngCore};
use serde_json::{json, Value};

/// Number of random crate-made proofs in TV-ZKP-06 (spec: 100 iterations each way).
const RANDOM_PROOFS: usize = 100;

/// L, the order of the Ed25519 base point, little-endian.
const GROUP_ORDER_LE: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// The spec's deterministic RNG: every byte it hands out is the next counter value 0, 1, 2, …
pub struct CountingRng {
    next: u8,
}

impl CountingRng {
    pub fn new() -> Self {
        Self { next: 0 }
    }
}

impl RngCore for CountingRng {
    fn next_u32(&mut self) -> u32 {
        let mut bytes = [0u8; 4];
        self.fill_bytes(&mut bytes);
        u32::from_le_bytes(bytes)
    }

    fn next_u64(&mut self) -> u64 {
        let mut bytes = [0u8; 8];
        self.fill_bytes(&mut bytes);
        u64::from_le_bytes(bytes)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for byte in dest {
            *byte = self.next;
            self.next = self.next.wrapping_add(1);
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

// Only the vectors use it, and they need exactly this predictability.
impl CryptoRng for CountingRng {}

pub struct ContextInput {
    pub domain: String,
    pub device_id: String,
    pub device_public: [u8; 32],
    pub client_static: [u8; 32],
}

impl ContextInput {
    pub fn bytes(&self) -> Vec<u8> {
        derive_handshake_context(
            &self.domain,
            &self.device_id,
            &self.device_public,
            &self.client_static,
        )
    }

    pub fn to_json(&self) -> Value {
        json!({
            "domain": self.domain,
            "device_id": self.device_id,
            "device_public": hex::encode(self.device_public),
            "client_static": hex::encode(self.client_static),
            "hex": hex::encode(self.bytes()),
        })
    }
}

fn proof_json(proof: &KnowledgeProof) -> Value {
    json!({ "commitment": hex::encode(proof.commitment), "response": hex::encode(proof.response) })
}

fn verify_case(
    name: &str,
    device_public: [u8; 32],
    context: &ContextInput,
    proof: &KnowledgeProof,
) -> Value {
    let result = verify_handshake(&device_public, &context.bytes(), proof);
    let result_41 = commucat_crypto_41::zkp::verify_handshake(
        &device_public,
        &context.bytes(),
        &commucat_crypto_41::zkp::KnowledgeProof {
            commitment: proof.commitment,
            response: proof.response,
        },
    );
    assert_eq!(
        result.is_ok(),
        result_41.is_ok(),
        "zkp verify differs between crate versions"
    );
    json!({
        "name": name,
        "device_public": hex::encode(device_public),
        "context": context.to_json(),
        "proof": proof_json(proof),
        "ok": result.is_ok(),
        "error": result.err().map(|e| format!("{e:?}")),
    })
}

/// Adds L to a canonical little-endian scalar: same value mod L, but no longer canonical.
fn add_group_order(scalar: [u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = scalar[i] as u16 + GROUP_ORDER_LE[i] as u16 + carry;
        out[i] = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0, "s + L overflowed 256 bits");
    out
}

/// The smallest y (as a little-endian 32-byte string) that curve25519-dalek refuses to
/// decompress, so the "commitment is not a point" case really tests decompression.
fn first_non_point() -> [u8; 32] {
    (2u8..=255)
        .map(|y| {
            let mut bytes = [0u8; 32];
            bytes[0] = y;
            bytes
        })
        .find(|bytes| CompressedEdwardsY(*bytes).decompress().is_none())
        .expect("some small y is not on the curve")
}

fn example_context(keys: &DeviceKeyPair, client_static: [u8; 32]) -> ContextInput {
    ContextInput {
        domain: "example.org".into(),
        device_id: "device-1".into(),
        device_public: keys.public,
        client_static,
    }
}

/// Key pair "A" (TV-CRYPTO-01); its seed is written out so other implementations can rebuild it.
fn deterministic_proof_vector(
    keys: &DeviceKeyPair,
    context: &ContextInput,
) -> (Value, KnowledgeProof) {
    assert_eq!(keys, &key_a(), "deterministic proofs use key pair A");
    let proof = prove_with_rng(keys, &context.bytes(), &mut CountingRng::new()).expect("prove");
    let proof_41 = commucat_crypto_41::zkp::prove_with_rng(
        &commucat_crypto_41::DeviceKeyPair {
            public: keys.public,
            private: keys.private,
        },
        &context.bytes(),
        &mut CountingRng::new(),
    )
    .expect("prove with 1.0.41");
    assert_eq!(proof.commitment, proof_41.commitment);
    assert_eq!(proof.response, proof_41.response);
    let vector = json!({
        "kind": "zkp_prove",
        "keys": {
            "seed_hex": hex::encode(SEED_A),
            "private": hex::encode(keys.private),
            "public": hex::encode(keys.public),
        },
        "context": context.to_json(),
        "random_hex": hex::encode((0u8..64).collect::<Vec<_>>()),
        "proof": proof_json(&proof),
        "verify_ok": verify_handshake(&keys.public, &context.bytes(), &proof).is_ok(),
    });
    (vector, proof)
}

fn random_proof(index: usize) -> Value {
    let mut seed = [0u8; 64];
    OsRng.fill_bytes(&mut seed);
    let keys = DeviceKeyPair::from_seed(&seed).expect("64-byte seed");
    let mut client_static = derive_noise_public_key(&keys.private);
    if index % 2 == 1 {
        // Half the contexts bind an arbitrary 32-byte value instead of the client-style key.
        OsRng.fill_bytes(&mut client_static);
    }
    let domains = [
        "example.org",
        "chat.example.com",
        "exämple.org",
        "localhost",
        "",
    ];
    let context = ContextInput {
        domain: domains[index % domains.len()].to_string(),
        device_id: format!("device-{index}-{:08x}", OsRng.next_u32()),
        device_public: keys.public,
        client_static,
    };
    let proof = commucat_crypto::zkp::prove_handshake(&keys, &context.bytes()).expect("prove");
    assert!(verify_handshake(&keys.public, &context.bytes(), &proof).is_ok());
    json!({ "context": context.to_json(), "proof": proof_json(&proof) })
}

pub fn add(set: &mut VectorSet) {
    let a = key_a();
    let context_01 = example_context(&a, [1u8; 32]);
    set.add(
        "TV-ZKP-01",
        json!({ "kind": "zkp_context", "context": context_01.to_json() }),
    );

    let (vector_02, proof_02) = deterministic_proof_vector(&a, &context_01);
    set.add("TV-ZKP-02", vector_02);
    set.add(
        "TV-ZKP-03",
        json!({
            "kind": "zkp_json",
            "proof": proof_json(&proof_02),
            "json": serde_json::to_string(&proof_02).expect("proof json"),
        }),
    );

    let mut flipped = proof_02.clone();
    flipped.response[0] ^= 1;
    let mut not_canonical = proof_02.clone();
    not_canonical.response = add_group_order(proof_02.response);
    let mut not_a_point = proof_02.clone();
    not_a_point.commitment = first_non_point();
    let other_domain = ContextInput {
        domain: "example.com".into(),
        ..example_context(&a, [1u8; 32])
    };
    let swapped_static = example_context(&a, derive_noise_public_key(&a.private));
    set.add(
        "TV-ZKP-04",
        json!({
            "kind": "zkp_verify_cases",
            "cases": [
                verify_case("valid", a.public, &context_01, &proof_02),
                verify_case("response_bit0_flipped", a.public, &context_01, &flipped),
                verify_case("response_plus_l", a.public, &context_01, &not_canonical),
                verify_case("commitment_not_a_point", a.public, &context_01, &not_a_point),
                verify_case("domain_example_com", a.public, &other_domain, &proof_02),
                verify_case("client_static_swapped", a.public, &swapped_static, &proof_02),
            ],
        }),
    );

    let context_05 = example_context(&a, derive_noise_public_key(&a.private));
    let (vector_05, _) = deterministic_proof_vector(&a, &context_05);
    set.add("TV-ZKP-05", vector_05);

    set.add(
        "TV-ZKP-06",
        json!({
            "kind": "zkp_random",
            "proofs": (0..RANDOM_PROOFS).map(random_proof).collect::<Vec<_>>(),
        }),
    );
}
