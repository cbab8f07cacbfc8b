// Public surface of @commucat/crypto.
export { CryptoError, NoiseError, type CryptoErrorCode, type NoiseErrorCode } from './errors';
export { hexToBytes, bytesToHex } from './hex';
export { blake3 } from './blake3';

export { NoiseStaticKey } from './noise/static-key';
export { NoiseHandshake, type NoiseHandshakeOptions } from './noise/handshake';
export { NoiseTransport } from './noise/transport';
export { type NoisePattern, type NoisePatternName, protocolName as noiseProtocolName } from './noise/patterns';
export { MAX_NOISE_MESSAGE } from './noise/limits';
export { x25519PublicKey } from './x25519-public';

export { ed25519PublicKey, ed25519Sign, ed25519Verify, ed25519SecretScalar } from './ed25519';
export { DeviceKeyPair, EventSigner } from './device-keys';

export { zkpHandshakeContext } from './zkp/context';
export { proveZkp, verifyZkp, type ZkpProof } from './zkp/proof';
export { zkpToJson, zkpFromJson } from './zkp/json';

export {
  type DeviceCertificateData,
  type DeviceCertificate,
  certificateSigningMessage,
  signCertificate,
  verifyCertificate,
  certificateToJson,
  certificateToJsonString,
  certificateFromJson,
  randomCertificateSerial,
} from './certificate/certificate';
