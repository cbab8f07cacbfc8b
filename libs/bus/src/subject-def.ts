import type { BusCodec } from './codec';
import { BusError } from './errors';

/** The placeholder names of a pattern: 'a.{x}.b.{y}' → 'x' | 'y'. */
export type PatternParams<Pattern extends string> = Pattern extends `${string}{${infer Name}}${infer Rest}`
  ? Name | PatternParams<Rest>
  : never;

/** Concrete values for a subject's placeholders; `{}` for subjects without any. */
export type SubjectParams<Param extends string> = { readonly [Name in Param]: string };

/**
 * One entry of the subject catalogue: a NATS subject pattern with named placeholders and the
 * codec of the messages sent on it.
 */
export interface SubjectDef<T, Param extends string = string> {
  /** Low-cardinality name used in span names and logs, e.g. 'gateway.deliver'. */
  readonly name: string;
  /** e.g. 'commucat.gateway.{gatewayId}.deliver' */
  readonly pattern: string;
  /** Placeholder names in pattern order. */
  readonly params: readonly Param[];
  readonly codec: BusCodec<T>;
  /** The concrete subject; throws BusError('invalid_subject_param') on an unusable value. */
  subject(params: SubjectParams<Param>): string;
  /** The pattern with every placeholder replaced by '*', to subscribe to all of them. */
  wildcard(): string;
}

/** Message type carried by a SubjectDef. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type MessageOf<D> = D extends SubjectDef<infer T, any> ? T : never;
/** Parameter object a SubjectDef needs. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ParamsOf<D> = D extends SubjectDef<any, infer P> ? SubjectParams<P> : never;

type Token = { literal: string } | { param: string };

const PLACEHOLDER = /^\{([A-Za-z][A-Za-z0-9_]*)\}$/;
// NATS subject tokens: no separators, wildcards or whitespace inside a token.
const SAFE_TOKEN = /^[^\s.*>{}]+$/;
const SAFE_VALUE = /^[^\s.*>]+$/;

function parsePattern(pattern: string): Token[] {
  const seen = new Set<string>();
  return pattern.split('.').map((part) => {
    const placeholder = PLACEHOLDER.exec(part);
    if (placeholder) {
      const param = placeholder[1]!;
      if (seen.has(param)) throw new BusError('invalid_subject', `subject pattern ${pattern} repeats {${param}}`);
      seen.add(param);
      return { param };
    }
    if (!SAFE_TOKEN.test(part)) throw new BusError('invalid_subject', `subject pattern ${pattern} has an invalid token ${JSON.stringify(part)}`);
    return { literal: part };
  });
}

/**
 * Declares a subject. Placeholders are whole dot-separated tokens written `{name}`; their names
 * become the keys `subject(params)` requires, checked at compile time:
 *
 *   const deliver = defineSubject('gateway.deliver', 'commucat.gateway.{gatewayId}.deliver', protoCodec(Delivery));
 *   deliver.subject({ gatewayId: 'gw-1' }) // 'commucat.gateway.gw-1.deliver'
 */
export function defineSubject<T, Pattern extends string>(
  name: string,
  pattern: Pattern,
  codec: BusCodec<T>,
): SubjectDef<T, PatternParams<Pattern>> {
  const tokens = parsePattern(pattern);
  const params = tokens.flatMap((t) => ('param' in t ? [t.param as PatternParams<Pattern>] : []));
  const wildcard = tokens.map((t) => ('param' in t ? '*' : t.literal)).join('.');
  return {
    name,
    pattern,
    params,
    codec,
    subject(values: SubjectParams<PatternParams<Pattern>>): string {
      const record = values as Readonly<Record<string, unknown>>;
      return tokens
        .map((t) => {
          if ('literal' in t) return t.literal;
          const value = record[t.param];
          if (typeof value !== 'string' || !SAFE_VALUE.test(value)) {
            throw new BusError('invalid_subject_param', `subject ${name}: parameter ${t.param} must be a non-empty string without '.', '*', '>' or whitespace (got ${JSON.stringify(value)})`);
          }
          return value;
        })
        .join('.');
    },
    wildcard: () => wildcard,
  };
}
