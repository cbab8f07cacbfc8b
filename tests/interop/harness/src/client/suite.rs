//! The crate-version-specific half of the client: key derivation, ZKP, Noise and certificate
//! checks from commucat-crypto 1.0.41 (what the real client links) or 1.0.103.

use crate::codec::Dialect;
use serde_json::Value;

pub struct DeviceKeys {
    pub private: [u8; 32],
    pub public: [u8; 32],
}

pub trait ClientHandshake {
    fn write(&mut self, payload: &[u8]) -> Result<Vec<u8>, String>;
    fn read(&mut self, message: &[u8]) -> Result<Vec<u8>, String>;
}

/// What a verified `device_certificate` says (the fields the client compares).
pub struct CertificateFacts {
    pub device_id: String,
    pub user_id: String,
    pub public_key: [u8; 32],
    pub serial: u64,
    pub issued_at: i64,
    pub expires_at: i64,
}

pub trait CryptoSuite {
    fn dialect(&self) -> Dialect;
    fn keys_from_seed(&self, seed: &[u8]) -> Result<DeviceKeys, String>;
    /// derive_handshake_context + prove_handshake, returned as the Hello `zkp` object.
    fn prove(
        &self,
        keys: &DeviceKeys,
        domain: &str,
        device_id: &str,
        client_static: &[u8; 32],
    ) -> Result<Value, String>;
    fn initiator(
        &self,
        pattern: &str,
        prologue: &[u8],
        private: [u8; 32],
        server_static: [u8; 32],
    ) -> Result<Box<dyn ClientHandshake>, String>;
    /// Parses with the crate's serde form and verifies against the CA key.
    fn check_certificate(
        &self,
        certificate: &Value,
        ca_public: &[u8; 32],
    ) -> Result<CertificateFacts, String>;
}

macro_rules! crypto_suite {
    ($module:ident, $name:ident, $krate:ident, $dialect:expr) => {
        mod $module {
            use super::*;

            pub struct $name;

            struct Handshake($krate::NoiseHandshake);

            impl ClientHandshake for Handshake {
                fn write(&mut self, payload: &[u8]) -> Result<Vec<u8>, String> {
                    self.0.write_message(payload).map_err(|e| format!("{e:?}"))
                }
                fn read(&mut self, message: &[u8]) -> Result<Vec<u8>, String> {
                    self.0.read_message(message).map_err(|e| format!("{e:?}"))
                }
            }

            impl CryptoSuite for $name {
                fn dialect(&self) -> Dialect {
                    $dialect
                }

                fn keys_from_seed(&self, seed: &[u8]) -> Result<DeviceKeys, String> {
                    let keys =
                        $krate::DeviceKeyPair::from_seed(seed).map_err(|e| format!("{e:?}"))?;
                    Ok(DeviceKeys {
                        private: keys.private,
                        public: keys.public,
                    })
                }

                fn prove(
                    &self,
                    keys: &DeviceKeys,
                    domain: &str,
                    device_id: &str,
                    client_static: &[u8; 32],
                ) -> Result<Value, String> {
                    let context = $krate::zkp::derive_handshake_context(
                        domain,
                        device_id,
                        &keys.public,
                        client_static,
                    );
                    let pair = $krate::DeviceKeyPair {
                        public: keys.public,
                        private: keys.private,
                    };
                    let proof = $krate::zkp::prove_handshake(&pair, &context)
                        .map_err(|e| format!("{e:?}"))?;
                    serde_json::to_value(&proof).map_err(|e| e.to_string())
                }

                fn initiator(
                    &self,
                    pattern: &str,
                    prologue: &[u8],
                    private: [u8; 32],
                    server_static: [u8; 32],
                ) -> Result<Box<dyn ClientHandshake>, String> {
                    let pattern = match pattern {
                        "XK" => $krate::HandshakePattern::Xk,
                        "IK" => $krate::HandshakePattern::Ik,
                        other => return Err(format!("unknown pattern {other:?}")),
                    };
                    let config = $krate::NoiseConfig {
                        pattern,
                        prologue: prologue.to_vec(),
                        local_private: private,
                        local_static_public: None,
                        remote_static_public: Some(server_static),
                    };
                    let state =
                        $krate::build_handshake(&config, true).map_err(|e| format!("{e:?}"))?;
                    Ok(Box::new(Handshake(state)))
                }

                fn check_certificate(
                    &self,
                    certificate: &Value,
                    ca_public: &[u8; 32],
                ) -> Result<CertificateFacts, String> {
                    let parsed: $krate::DeviceCertificate =
                        serde_json::from_value(certificate.clone())
                            .map_err(|e| format!("device_certificate does not parse: {e}"))?;
                    parsed
                        .verify(ca_public)
                        .map_err(|e| format!("device_certificate does not verify: {e:?}"))?;
                    let data = parsed.data;
                    Ok(CertificateFacts {
                        device_id: data.device_id,
                        user_id: data.user_id,
                        public_key: data.public_key,
                        serial: data.serial,
                        issued_at: data.issued_at,
                        expires_at: data.expires_at,
                    })
                }
            }
        }
        pub use $module::$name;
    };
}

crypto_suite!(suite_103, Crates103, commucat_crypto, Dialect::V103);
crypto_suite!(suite_41, Crates41, commucat_crypto_41, Dialect::V41);
