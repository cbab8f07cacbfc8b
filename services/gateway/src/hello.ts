import { FrameType, SUPPORTED_PROTOCOL_VERSIONS, stringifyJson, type Frame, type JsonValue } from '@commucat/ccp1';
import { hexToBytes, verifyZkp, zkpFromJson, zkpHandshakeContext, type ZkpProof } from '@commucat/crypto';
import { invalidRequest, negotiationFailed } from './handshake-error.js';

export type HandshakePattern = 'XK' | 'IK';

/** A Hello that passed every local check of spec §4.2 (steps 1–9 and 11–12's parsing). */
export interface ParsedHello {
  channel: number;
  protocolVersion: number;
  pattern: HandshakePattern;
  deviceId: string;
  msg1: Buffer;
  clientStatic: Buffer;
  devicePublic: Buffer;
  zkp: ZkpProof;
  capabilities: string[];
  userIdHint?: string;
  handleHint?: string;
  displayNameHint?: string;
  avatarUrlHint?: string;
  /** The certificate object re-serialised losslessly, for the directory to parse and verify. */
  certificateJson?: string;
}

type JsonObject = { [k: string]: JsonValue };

const isObject = (v: JsonValue | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v) && !(typeof v === 'bigint');
const isUnsignedInteger = (v: JsonValue): v is number | bigint =>
  (typeof v === 'number' && Number.isInteger(v) && v >= 0) || (typeof v === 'bigint' && v >= 0n);

/** Reads the protocol version exactly as the reference negotiates it (§4.2 step 2). */
function negotiateVersion(props: JsonObject): number {
  const supported = `[${SUPPORTED_PROTOCOL_VERSIONS.join(',')}]`;
  const offered = props.supported_versions;
  if (offered !== undefined) {
    if (!Array.isArray(offered)) throw negotiationFailed('supported_versions must be an array');
    const versions: number[] = [];
    for (const v of offered) {
      if (!isUnsignedInteger(v)) throw negotiationFailed('supported_versions entries must be unsigned integers');
      if (BigInt(v) > 0xffffn) throw negotiationFailed(`protocol version ${v} out of range`);
      versions.push(Number(v));
    }
    if (versions.length === 0) throw negotiationFailed('supported_versions cannot be empty');
    const common = versions.filter((v) => (SUPPORTED_PROTOCOL_VERSIONS as readonly number[]).includes(v));
    if (common.length === 0) throw negotiationFailed(`no common protocol version; peer=[${versions.join(',')}]; supported=${supported}`);
    return Math.max(...common);
  }
  const single = props.protocol_version;
  if (single !== undefined) {
    if (!isUnsignedInteger(single)) throw negotiationFailed('protocol_version must be an unsigned integer');
    if (BigInt(single) > 0xffffn) throw negotiationFailed(`protocol version ${single} out of range`);
    if (!(SUPPORTED_PROTOCOL_VERSIONS as readonly number[]).includes(Number(single))) {
      throw negotiationFailed(`unsupported protocol version ${single}; supported=${supported}`);
    }
    return Number(single);
  }
  return 1;
}

function hexField(props: JsonObject, key: string, length?: number): Buffer {
  const v = props[key];
  if (typeof v !== 'string') throw invalidRequest(`${key} is not a string`);
  try {
    return hexToBytes(v, length);
  } catch {
    throw invalidRequest(`${key} is not valid hex${length ? ` of ${length} bytes` : ''}`);
  }
}

const optionalString = (v: JsonValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

/** Checks the Hello in the reference's order; the first failure wins. */
export function parseHello(frame: Frame, domain: string): ParsedHello {
  if (frame.type !== FrameType.Hello || frame.payload.kind !== 'control') throw invalidRequest('expected a Hello frame');
  const props = frame.payload.value;
  if (!isObject(props)) throw invalidRequest('Hello payload is not an object');

  const protocolVersion = negotiateVersion(props);
  const pattern = props.pattern;
  if (pattern !== 'XK' && pattern !== 'IK') throw invalidRequest('pattern must be XK or IK');
  const deviceId = props.device_id;
  if (typeof deviceId !== 'string') throw invalidRequest('device_id is not a string');
  const msg1 = hexField(props, 'handshake');
  const clientStatic = hexField(props, 'client_static', 32);
  const devicePublic = hexField(props, 'device_public', 32);
  let zkp: ZkpProof;
  try {
    zkp = zkpFromJson(props.zkp);
  } catch {
    throw invalidRequest('zkp is missing or malformed');
  }
  if (!verifyZkp(devicePublic, zkpHandshakeContext(domain, deviceId, devicePublic, clientStatic), zkp)) {
    throw invalidRequest('zkp does not verify');
  }

  const user = isObject(props.user) ? props.user : {};
  const capabilities = Array.isArray(props.capabilities) ? props.capabilities.filter((c): c is string => typeof c === 'string') : [];
  const certificate = props.certificate;
  if (certificate !== undefined && certificate !== null && !isObject(certificate)) throw invalidRequest('certificate is not an object');

  return {
    channel: frame.channel,
    protocolVersion,
    pattern,
    deviceId,
    msg1,
    clientStatic,
    devicePublic,
    zkp,
    capabilities,
    userIdHint: optionalString(user.id) ?? optionalString(user.user_id),
    handleHint: optionalString(user.handle),
    displayNameHint: optionalString(user.display_name),
    avatarUrlHint: optionalString(user.avatar_url),
    certificateJson: isObject(certificate) ? stringifyJson(certificate) : undefined,
  };
}
