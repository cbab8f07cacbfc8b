/**
 * Secret scrubbing for log records. Redaction is by key name, case-insensitive and ignoring
 * `_`/`-`, so `noise_private`, `noisePrivate`, `Authorization` and `x-session-id` are all caught
 * wherever they are nested. Matching is by substring on purpose: a false positive costs a log
 * value, a false negative leaks a credential.
 */
const SECRET_KEY_PARTS = [
  'token',
  'password',
  'passwd',
  'secret',
  'private',
  'session',
  'authorization',
  'cookie',
  'dsn',
  'kek',
  'seed',
  'apikey',
  'credential',
] as const;

export const REDACTED = '[REDACTED]';
const MAX_DEPTH = 12;

export function isSecretKey(key: string): boolean {
  const normalised = key.toLowerCase().replace(/[-_]/g, '');
  return SECRET_KEY_PARTS.some((part) => normalised.includes(part));
}

/** `scheme://user:password@host` → `scheme://user:***@host`. */
export function maskUrlCredentials(text: string): string {
  return text.replace(/(\/\/[^:/@\s]*:)[^@\s]*@/g, '$1***@');
}

function scrub(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return maskUrlCredentials(value);
  if (typeof value !== 'object' || value === null) return value;
  // Errors go to pino's err serializer untouched; binary data has no keys worth scanning.
  if (value instanceof Error || ArrayBuffer.isView(value) || value instanceof Map || value instanceof Set) return value;
  if (depth >= MAX_DEPTH) return '[Object]';
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  try {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return scrub(toJSON.call(value), depth + 1, seen);
    if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1, seen));
    const copy: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      copy[key] = isSecretKey(key) ? REDACTED : scrub(child, depth + 1, seen);
    }
    return copy;
  } finally {
    seen.delete(value);
  }
}

/** Returns a scrubbed copy of a log record; the caller's object is never modified. */
export function redactSecrets(record: Record<string, unknown>): Record<string, unknown> {
  return scrub(record, 0, new WeakSet()) as Record<string, unknown>;
}
