import { z } from 'zod';
import { tryParseHostPort } from './host-port';

/**
 * One kind of config value. `schema` accepts both what TOML produces (numbers, booleans,
 * strings) and what the environment produces (always strings), and yields the typed value.
 * `expected` is the operator-facing description used in error messages.
 */
export interface FieldType<T> {
  readonly expected: string;
  readonly schema: z.ZodType<T>;
}

// Up to 15 digits keeps every accepted value a safe integer before the range check.
const DIGITS = /^\d{1,15}$/;

export function integer(opts: { min: number; max?: number }): FieldType<number> {
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  const expected =
    opts.min === 1 ? 'a positive integer' : opts.min === 0 ? 'a non-negative integer' : `an integer ≥ ${opts.min}`;
  const schema = z
    .union([z.number().int(), z.string().regex(DIGITS).transform(Number)])
    .pipe(z.number().int().min(opts.min).max(max));
  return { expected: opts.max === undefined ? expected : `${expected} ≤ ${max}`, schema };
}

/** Only the words true and false, as in the reference (no yes/1/on). */
export function boolean(): FieldType<boolean> {
  return {
    expected: 'true or false',
    schema: z.union([z.boolean(), z.enum(['true', 'false']).transform((word) => word === 'true')]),
  };
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T): FieldType<T[number]> {
  return { expected: `one of ${values.join(', ')}`, schema: z.enum(values) as unknown as z.ZodType<T[number]> };
}

export function nonEmptyString(expected = 'a non-empty string'): FieldType<string> {
  return { expected, schema: z.string().min(1) };
}

/** Any string, including the empty one (e.g. a Noise prologue). */
export function text(): FieldType<string> {
  return { expected: 'a string', schema: z.string() };
}

export function hostPort(): FieldType<string> {
  return {
    expected: 'host:port (e.g. 127.0.0.1:8443 or [::1]:8443)',
    schema: z.string().refine((value) => typeof tryParseHostPort(value) !== 'string'),
  };
}

const DOMAIN = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function domainName(): FieldType<string> {
  return { expected: 'a non-empty domain name (letters, digits, dots, hyphens)', schema: z.string().regex(DOMAIN) };
}

/** Exactly `bytes` bytes as hex; the value is normalised to lower case. */
export function hexBytes(bytes: number): FieldType<string> {
  return {
    expected: `${bytes * 2} hex digits`,
    schema: z
      .string()
      .regex(new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`))
      .transform((hex) => hex.toLowerCase()),
  };
}

/** At least `minBytes` bytes as hex (even number of digits), lower-cased. */
export function hexAtLeast(minBytes: number): FieldType<string> {
  return {
    expected: `an even number of hex digits, at least ${minBytes * 2}`,
    schema: z
      .string()
      .regex(/^(?:[0-9a-fA-F]{2})+$/)
      .refine((hex) => hex.length >= minBytes * 2)
      .transform((hex) => hex.toLowerCase()),
  };
}

function isUrlWithProtocol(value: string, protocols: readonly string[]): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return protocols.includes(url.protocol) && (url.protocol === 'unix:' || url.host !== '');
}

/** An absolute URL whose scheme is one of `schemes` (without the colon). */
export function urlWithScheme(schemes: readonly string[]): FieldType<string> {
  const protocols = schemes.map((scheme) => `${scheme}:`);
  return {
    expected: `a ${schemes.map((s) => `${s}://`).join(' or ')} URL`,
    schema: z.string().refine((value) => isUrlWithProtocol(value, protocols)),
  };
}

/** A comma-separated list of URLs (NATS accepts several seed servers). */
export function urlList(schemes: readonly string[]): FieldType<string> {
  const protocols = schemes.map((scheme) => `${scheme}:`);
  return {
    expected: `a comma-separated list of ${schemes.map((s) => `${s}://`).join(' or ')} URLs`,
    schema: z
      .string()
      .refine((value) => value.split(',').every((part) => isUrlWithProtocol(part.trim(), protocols))),
  };
}

/** Letters, digits, `_` and `-` only: the value becomes part of NATS subjects. */
export function subjectToken(): FieldType<string> {
  return { expected: '1-128 characters from A-Z a-z 0-9 _ -', schema: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/) };
}

/** One allow-listed federation peer (spec rest-storage-ops §5.2); `url` is the peer's base URL. */
export interface FederationPeerConfig {
  readonly domain: string;
  readonly url: string;
  /** The peer's Ed25519 federation public key, 64 hex digits, lower-cased. */
  readonly publicKey: string;
}

const PEER_KEY = /^[0-9a-fA-F]{64}$/;

function peerEntry(domain: unknown, url: unknown, publicKey: unknown): FederationPeerConfig | undefined {
  if (typeof domain !== 'string' || typeof url !== 'string' || typeof publicKey !== 'string') return undefined;
  const [d, u, k] = [domain.trim(), url.trim(), publicKey.trim()];
  if (!DOMAIN.test(d) || !isUrlWithProtocol(u, ['https:']) || !PEER_KEY.test(k)) return undefined;
  return { domain: d.toLowerCase(), url: u, publicKey: k.toLowerCase() };
}

/** The reference's string form: `domain,url,pubkey_hex;…` (exactly three comma parts each). */
function parsePeerString(value: string): FederationPeerConfig[] | undefined {
  const trimmed = value.trim();
  if (trimmed === '') return [];
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      return undefined;
    }
    return parsePeerTables(parsed);
  }
  const peers: FederationPeerConfig[] = [];
  for (const entry of trimmed.split(';')) {
    if (entry.trim() === '') continue;
    const parts = entry.split(',');
    const peer = parts.length === 3 ? peerEntry(parts[0], parts[1], parts[2]) : undefined;
    if (!peer) return undefined;
    peers.push(peer);
  }
  return peers;
}

function parsePeerTables(value: unknown): FederationPeerConfig[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const peers: FederationPeerConfig[] = [];
  for (const item of value) {
    if (typeof item !== 'object' || item === null) return undefined;
    const table = item as Record<string, unknown>;
    const peer = peerEntry(table.domain, table.url, table.public_key);
    if (!peer) return undefined;
    peers.push(peer);
  }
  return peers;
}

/**
 * Federation peers: in TOML an array of `{domain, url, public_key}` tables; in the environment
 * the same as JSON, or the reference's `domain,url,pubkey_hex;…`. URLs must be https://.
 */
export function federationPeers(): FieldType<readonly FederationPeerConfig[]> {
  const parse = (value: unknown): FederationPeerConfig[] | undefined => (typeof value === 'string' ? parsePeerString(value) : parsePeerTables(value));
  return {
    expected: 'a list of {domain, url (https://), public_key (64 hex digits)} tables, as TOML or JSON, or "domain,url,pubkey_hex;…"',
    schema: z.unknown().transform((value, ctx) => {
      const peers = parse(value);
      if (peers === undefined) {
        ctx.addIssue({ code: 'custom', message: 'invalid federation peers' });
        return z.NEVER;
      }
      return peers;
    }) as unknown as z.ZodType<readonly FederationPeerConfig[]>,
  };
}
