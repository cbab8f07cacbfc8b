import { RestError } from './problems.js';

/**
 * Appends a JSON object to an already serialised object as raw text: a certificate's serial is
 * a u64 that JSON.parse would round, which would break the signature the device must verify.
 */
export function withRawField(body: Record<string, unknown>, name: string, rawJson: string): string {
  const text = JSON.stringify(body);
  return `${text.slice(0, -1)}${text.length > 2 ? ',' : ''}${JSON.stringify(name)}:${rawJson}}`;
}

/** Directory's certificate JSON, checked to be an object before it is spliced into a body. */
export function certificateText(json: string): string {
  try {
    const parsed: unknown = JSON.parse(json);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return json;
  } catch {
    // fall through
  }
  throw RestError.of('internal', 'internal server error');
}
