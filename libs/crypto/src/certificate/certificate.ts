import { randomBytes } from 'node:crypto';
import { ed25519Sign, ed25519Verify } from '../ed25519';
import { CryptoError } from '../errors';
import { bytesToHex, hexToBytes } from '../hex';
import { isWellFormedUnicode, serdeJsonString } from './json-text';

/** The signed part of a device certificate (§6.1), in declaration order. */
export interface DeviceCertificateData {
  /** u64; usually above 2^53 when issued by the reference server (§8-T9). */
  serial: bigint;
  userId: string;
  deviceId: string;
  /** Ed25519 device public key, 32 bytes. */
  publicKey: Buffer;
  /** CA public key, 32 bytes. */
  issuer: Buffer;
  /** i64 Unix seconds. */
  issuedAt: number;
  /** i64 Unix seconds. */
  expiresAt: number;
}

export interface DeviceCertificate extends DeviceCertificateData {
  /** Ed25519 signature by the issuer, 64 bytes. */
  signature: Buffer;
}

const U64_MAX = 2n ** 64n - 1n;
const SAFE_SERIAL_MAX = BigInt(Number.MAX_SAFE_INTEGER);
const DECIMAL_U64 = /^(0|[1-9][0-9]{0,19})$/;
const HEX_32 = /^[0-9a-fA-F]{64}$/;
const HEX_64 = /^[0-9a-fA-F]{128}$/;

function invalid(message: string): CryptoError {
  return new CryptoError('InvalidCertificate', message);
}

function checkData(data: DeviceCertificateData): void {
  if (typeof data.serial !== 'bigint' || data.serial < 0n || data.serial > U64_MAX) throw invalid('serial must be a u64 bigint');
  for (const [name, value] of [['userId', data.userId], ['deviceId', data.deviceId]] as const) {
    if (typeof value !== 'string' || !isWellFormedUnicode(value)) throw invalid(`${name} must be a well-formed string`);
  }
  if (data.publicKey?.length !== 32) throw invalid('publicKey must be 32 bytes');
  if (data.issuer?.length !== 32) throw invalid('issuer must be 32 bytes');
  if (!Number.isSafeInteger(data.issuedAt)) throw invalid('issuedAt must be an integer');
  if (!Number.isSafeInteger(data.expiresAt)) throw invalid('expiresAt must be an integer');
}

function checkCertificate(certificate: DeviceCertificate): void {
  checkData(certificate);
  if (certificate.signature?.length !== 64) throw invalid('signature must be 64 bytes');
}

/** The data fields as serde_json writes them, in the given key order (compact, lowercase hex). */
function dataFields(data: DeviceCertificateData): Record<string, string> {
  return {
    serial: data.serial.toString(),
    user_id: serdeJsonString(data.userId),
    device_id: serdeJsonString(data.deviceId),
    public_key: `"${bytesToHex(data.publicKey)}"`,
    issuer: `"${bytesToHex(data.issuer)}"`,
    issued_at: String(data.issuedAt),
    expires_at: String(data.expiresAt),
  };
}

function writeObject(fields: Record<string, string>, keys: readonly string[]): string {
  return `{${keys.map((key) => `"${key}":${fields[key]}`).join(',')}}`;
}

const DECLARATION_ORDER = ['serial', 'user_id', 'device_id', 'public_key', 'issuer', 'issued_at', 'expires_at'] as const;
const FULL_DECLARATION_ORDER = [...DECLARATION_ORDER, 'signature'] as const;
// serde_json's Map is a BTreeMap: to_value sorts keys by their bytes.
const FULL_SORTED_ORDER = [...FULL_DECLARATION_ORDER].sort();

/**
 * The bytes the CA signs: serde_json of the data struct in declaration order, not sorted (§6.2),
 * serial as its exact u64 digits.
 */
export function certificateSigningMessage(data: DeviceCertificateData): Buffer {
  checkData(data);
  return Buffer.from(writeObject(dataFields(data), DECLARATION_ORDER), 'utf8');
}

export function signCertificate(data: DeviceCertificateData, caPrivateKey: Uint8Array): DeviceCertificate {
  const signature = ed25519Sign(caPrivateKey, certificateSigningMessage(data));
  return {
    serial: data.serial,
    userId: data.userId,
    deviceId: data.deviceId,
    publicKey: Buffer.from(data.publicKey),
    issuer: Buffer.from(data.issuer),
    issuedAt: data.issuedAt,
    expiresAt: data.expiresAt,
    signature,
  };
}

/**
 * The crate's `verify`: the issuer must equal the expected CA key and the signature must hold over
 * the message rebuilt from the fields. Validity dates are the caller's business (§6.4).
 */
export function verifyCertificate(certificate: DeviceCertificate, expectedIssuer: Uint8Array): boolean {
  if (expectedIssuer.length !== 32 || certificate.issuer?.length !== 32) return false;
  if (!Buffer.from(certificate.issuer).equals(expectedIssuer)) return false;
  let message: Buffer;
  try {
    message = certificateSigningMessage(certificate);
  } catch {
    return false;
  }
  return ed25519Verify(expectedIssuer, message, certificate.signature);
}

/**
 * The flattened JSON object of §6.3 (keys in declaration order). `serial` is a number when it is
 * a safe integer and a bigint otherwise: write it with a lossless JSON writer.
 */
export function certificateToJson(certificate: DeviceCertificate): Record<string, string | number | bigint> {
  checkCertificate(certificate);
  return {
    serial: certificate.serial <= SAFE_SERIAL_MAX ? Number(certificate.serial) : certificate.serial,
    user_id: certificate.userId,
    device_id: certificate.deviceId,
    public_key: bytesToHex(certificate.publicKey),
    issuer: bytesToHex(certificate.issuer),
    issued_at: certificate.issuedAt,
    expires_at: certificate.expiresAt,
    signature: bytesToHex(certificate.signature),
  };
}

/**
 * Exact Rust bytes: 'declaration' = `serde_json::to_string` (client state file), 'sorted' =
 * `to_value` then `to_string` (Hello `certificate`, Ack `device_certificate`).
 */
export function certificateToJsonString(certificate: DeviceCertificate, order: 'declaration' | 'sorted'): string {
  checkCertificate(certificate);
  const fields = { ...dataFields(certificate), signature: `"${bytesToHex(certificate.signature)}"` };
  return writeObject(fields, order === 'sorted' ? FULL_SORTED_ORDER : FULL_DECLARATION_ORDER);
}

function parseSerial(value: unknown): bigint {
  if (typeof value === 'bigint') {
    if (value >= 0n && value <= U64_MAX) return value;
  } else if (typeof value === 'number') {
    // A number above 2^53 may already have lost digits in JSON.parse; refuse rather than sign garbage.
    if (Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  } else if (typeof value === 'string' && DECIMAL_U64.test(value)) {
    const serial = BigInt(value);
    if (serial <= U64_MAX) return serial;
  }
  throw invalid('serial must be a u64 (number ≤ 2^53−1, bigint or decimal digits)');
}

function parseTimestamp(value: unknown, name: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'bigint' && value >= -SAFE_SERIAL_MAX && value <= SAFE_SERIAL_MAX) return Number(value);
  throw invalid(`${name} must be an integer`);
}

function parseString(value: unknown, name: string): string {
  if (typeof value !== 'string' || !isWellFormedUnicode(value)) throw invalid(`${name} must be a string`);
  return value;
}

function parseHex(value: unknown, pattern: RegExp, name: string): Buffer {
  if (typeof value !== 'string' || !pattern.test(value)) throw invalid(`${name} has the wrong hex form`);
  return hexToBytes(value);
}

/**
 * Parses the flattened form (§6.3). All eight keys are required, extra keys are ignored, hex may
 * be either case with exact lengths. Pass `serial` from a lossless parser (bigint or digits).
 */
export function certificateFromJson(value: unknown): DeviceCertificate {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('certificate must be a JSON object');
  const fields = value as Record<string, unknown>;
  for (const key of FULL_DECLARATION_ORDER) {
    if (fields[key] === undefined) throw invalid(`missing ${key}`);
  }
  return {
    serial: parseSerial(fields.serial),
    userId: parseString(fields.user_id, 'user_id'),
    deviceId: parseString(fields.device_id, 'device_id'),
    publicKey: parseHex(fields.public_key, HEX_32, 'public_key'),
    issuer: parseHex(fields.issuer, HEX_32, 'issuer'),
    issuedAt: parseTimestamp(fields.issued_at, 'issued_at'),
    expiresAt: parseTimestamp(fields.expires_at, 'expires_at'),
    signature: parseHex(fields.signature, HEX_64, 'signature'),
  };
}

/** A CSPRNG serial in [1, 2^53−1], so plain JSON tooling cannot corrupt it (§8-T9). */
export function randomCertificateSerial(): bigint {
  for (;;) {
    const serial = randomBytes(8).readBigUInt64LE() & SAFE_SERIAL_MAX;
    if (serial !== 0n) return serial;
  }
}
