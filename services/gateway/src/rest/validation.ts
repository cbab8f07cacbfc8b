import type { z } from 'zod';
import { RestError } from './problems.js';

/** `friends[0].alias` style path of an issue, or `body` for the root. */
function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `${out ? '.' : ''}${String(key)}`;
  return out || 'body';
}

/** Parses JSON text; a syntax error is a 400 `invalid-json`. */
export function parseJsonBody(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw RestError.of('invalid-json', 'invalid JSON payload');
  }
}

/**
 * Validates a decoded body. The first issue decides the answer: unknown keys are
 * `unknown-field`, everything else `invalid-field`; the detail names the field.
 */
export function validateBody<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const base = issue.path.length > 0 ? `${fieldPath(issue.path)}.` : '';
    throw RestError.of('unknown-field', `unknown field${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.map((k) => `${base}${k}`).join(', ')}`);
  }
  throw RestError.of('invalid-field', `${fieldPath(issue.path)}: ${issue.message}`);
}
