// Codec limits of commucat-proto (identical in 1.0.41 and 1.0.103), spec §1.1.

export const PROTOCOL_VERSION = 1;
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = Object.freeze([1]);

/** Limit for a frame body and, separately, for its payload (16 MiB). */
export const MAX_FRAME_LEN = 16_777_216;
/** Limit for the UTF-8 JSON text of a control payload (256 KiB), checked before parsing. */
export const MAX_CONTROL_JSON_LEN = 262_144;
export const MAX_CHANNEL_ID = 0xffff_ffff;
export const MAX_SEQUENCE = 0xffff_ffff;

/** A u64 varint never takes more than 10 bytes, so this bounds the LEN prefix of a frame. */
export const MAX_VARINT_LEN = 10;
