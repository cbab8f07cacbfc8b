import type { z } from 'zod';
import type { AnyRequest, RestResponse } from './http-io.js';
import type { ProblemCode } from './problems.js';
import type { Session } from './session-auth.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';
export type RouteAuth = 'none' | 'session' | 'admin';

export type RouteBody =
  /** JSON validated with `schema`; `optional` allows an empty body (treated as `{}`). */
  | { kind: 'json'; schema: z.ZodType; optional?: boolean }
  /** Raw bytes (avatar upload) with the allowed content types. */
  | { kind: 'binary'; contentTypes: readonly string[]; maxBytes: number };

export interface RouteResponseDoc {
  description: string;
  /** JSON body schema (from schemas.ts); absent with `contentType` for non-JSON bodies. */
  schema?: z.ZodType;
  contentType?: string;
}

export interface RequestContext<Body = unknown> {
  req: AnyRequest;
  params: Record<string, string>;
  query: URLSearchParams;
  ip: string;
  /** Present on `auth: 'session'` routes. */
  session: Session | undefined;
  /** The validated JSON body, or the raw bytes for binary routes. */
  body: Body;
}

export interface RouteSpec {
  method: HttpMethod;
  /** OpenAPI path template, e.g. `/api/friends/{id}/devices`; a parameter matches one segment. */
  path: string;
  operationId: string;
  summary: string;
  auth: RouteAuth;
  body?: RouteBody;
  /** `{id}` of friend routes is percent-decoded; upload names are taken verbatim. */
  decodeParams?: boolean;
  /** Also served under these paths (documented as separate operations). */
  aliases?: readonly string[];
  /** Exempt from the HTTP rate limit (liveness/readiness probes). */
  unlimited?: boolean;
  /** Extra per-IP scope (pair claim). */
  extraLimit?: 'pairing';
  success: Record<number, RouteResponseDoc>;
  /** Problem codes this route can answer with besides the generic ones. */
  problems: readonly ProblemCode[];
  handle(ctx: RequestContext<any>): Promise<RestResponse>;
}

export interface CompiledRoute {
  spec: RouteSpec;
  path: string;
  pattern: RegExp;
  paramNames: string[];
}

export function compileRoute(spec: RouteSpec, path = spec.path): CompiledRoute {
  const paramNames: string[] = [];
  const source = path.split('/').map((segment) => {
    const m = /^\{([a-z_]+)\}$/.exec(segment);
    if (!m) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    paramNames.push(m[1]!);
    return '([^/]+)';
  }).join('/');
  return { spec, path, pattern: new RegExp(`^${source}$`), paramNames };
}

/**
 * Percent-decodes a path parameter strictly: every `%` must start a valid escape and the result
 * must be non-empty UTF-8 (a malformed id is a 400, never a silent mismatch). `+` stays `+`.
 */
export function decodePathParam(raw: string): string | undefined {
  if (/%(?![0-9A-Fa-f]{2})/.test(raw)) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === '%') {
      bytes.push(parseInt(raw.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      for (const b of Buffer.from(raw[i]!, 'utf8')) bytes.push(b);
    }
  }
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
    return text.length > 0 ? text : undefined;
  } catch {
    return undefined;
  }
}
