/** JSON text exactly as serde_json writes it (§1.5). */

const NEEDS_ESCAPE = /["\\\u0000-\u001f]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\f': '\\f',
  '\r': '\\r',
};

/**
 * A quoted JSON string: `"` and `\` escaped, \b \t \n \f \r short forms, other controls as
 * lowercase \u00xx, everything else (including `/`, U+007F and non-ASCII) raw.
 */
export function serdeJsonString(value: string): string {
  return `"${value.replace(NEEDS_ESCAPE, (ch) => SHORT_ESCAPES[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}

/** Rust strings are always valid UTF-8; a JS string with a lone surrogate has no Rust equivalent. */
export function isWellFormedUnicode(value: string): boolean {
  return !LONE_SURROGATE.test(value);
}
