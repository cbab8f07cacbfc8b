/**
 * A JSON value as serde_json's `Value` holds it, without losing u64/i64 precision: integers
 * outside ±(2^53−1) are bigint, every other number is a JS number.
 */
export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | { [key: string]: JsonValue };
