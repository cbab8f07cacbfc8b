/**
 * The problem catalogue of the REST edge (RFC 9457). Every error answer carries a stable `type`
 * URI `https://commucat.dev/problems/<code>` plus the `title`/`detail` the real client shows
 * (it prints `detail`, else `title`, else the status).
 */
export const PROBLEM_TYPE_BASE = 'https://commucat.dev/problems/';

/** Codes the gateway itself produces; directory codes (trailer) are passed through as they come. */
export const PROBLEM_CODES = {
  'invalid-json': { status: 400, title: 'BadRequest' },
  'invalid-field': { status: 400, title: 'BadRequest' },
  'unknown-field': { status: 400, title: 'BadRequest' },
  'invalid-path': { status: 400, title: 'BadRequest' },
  'unsupported-media-type': { status: 415, title: 'UnsupportedMediaType' },
  'body-too-large': { status: 413, title: 'PayloadTooLarge' },
  'missing-authorization': { status: 401, title: 'Unauthorized' },
  'invalid-session': { status: 401, title: 'Unauthorized' },
  'admin-required': { status: 401, title: 'Unauthorized' },
  'forbidden': { status: 403, title: 'Forbidden' },
  'not-found': { status: 404, title: 'NotFound' },
  'method-not-allowed': { status: 405, title: 'MethodNotAllowed' },
  'conflict': { status: 409, title: 'Conflict' },
  'unknown-domain': { status: 400, title: 'BadRequest' },
  'rate-limited': { status: 429, title: 'Too Many Requests' },
  'unavailable': { status: 503, title: 'ServiceUnavailable' },
  'internal': { status: 500, title: 'InternalError' },
  'bad-request': { status: 400, title: 'BadRequest' },
  // POST /federation/events refusals (the federation service's codes).
  'malformed-event': { status: 400, title: 'InvalidRequest' },
  'unknown-peer': { status: 403, title: 'UnknownPeer' },
  'bad-signature': { status: 403, title: 'InvalidSignature' },
  'stale-event': { status: 400, title: 'StaleEvent' },
  'wrong-scope': { status: 403, title: 'WrongScope' },
  'replayed-event': { status: 409, title: 'ReplayedEvent' },
  'invalid-payload': { status: 400, title: 'InvalidPayload' },
  'invalid-target': { status: 400, title: 'InvalidTarget' },
  'unknown-target': { status: 404, title: 'UnknownDevice' },
  'not-permitted': { status: 403, title: 'NotPermitted' },
  'delivery-failed': { status: 503, title: 'DeliveryFailed' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof PROBLEM_CODES;

export const problemType = (code: string): string => `${PROBLEM_TYPE_BASE}${code}`;

/** Thrown by handlers and helpers; the dispatcher turns it into problem+json. */
export class RestError extends Error {
  override readonly name = 'RestError';
  constructor(
    readonly status: number,
    /** Stable code: a ProblemCode or a directory error code. */
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
  }

  static of(code: ProblemCode, detail?: string, headers?: Record<string, string>): RestError {
    const { status, title } = PROBLEM_CODES[code];
    return new RestError(status, code, title, detail, headers);
  }

  body(): ProblemBody {
    const body: ProblemBody = { type: problemType(this.code), title: this.title, status: this.status };
    if (this.detail !== undefined) body.detail = this.detail;
    return body;
  }
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
}
