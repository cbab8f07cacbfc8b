import { CodecError, MAX_JSON_NESTING, type JsonValue, compareUtf8, parseJson, stringifyJson } from '@commucat/ccp1';

function rejects(input: string | Uint8Array): boolean {
  try {
    parseJson(input);
    return false;
  } catch (error) {
    expect(error).toBeInstanceOf(CodecError);
    expect((error as CodecError).code).toBe('InvalidControlJson');
    return true;
  }
}

const nested = (depth: number, open: string, close: string, inner = ''): string => open.repeat(depth) + inner + close.repeat(depth);

describe('parseJson: values and numbers', () => {
  it('accepts any JSON value at the top level', () => {
    expect(parseJson('null')).toBeNull();
    expect(parseJson('true')).toBe(true);
    expect(parseJson('false')).toBe(false);
    expect(parseJson('"x"')).toBe('x');
    expect(parseJson('[]')).toEqual([]);
    expect(parseJson('{}')).toEqual({});
    expect(parseJson('42')).toBe(42);
  });

  it('keeps u64::MAX exact and writes it back digit for digit (T9)', () => {
    const text = '{"serial":18446744073709551615}';
    const value = parseJson(text) as { serial: bigint };
    expect(value.serial).toBe(18446744073709551615n);
    expect(stringifyJson(value)).toBe(text);
  });

  it('uses numbers up to ±(2^53−1) and bigint beyond', () => {
    expect(parseJson('9007199254740991')).toBe(9007199254740991);
    expect(parseJson('-9007199254740991')).toBe(-9007199254740991);
    expect(parseJson('9007199254740992')).toBe(9007199254740992n);
    expect(parseJson('-9007199254740992')).toBe(-9007199254740992n);
    expect(parseJson('-9223372036854775808')).toBe(-9223372036854775808n);
    expect(parseJson('123456789012345')).toBe(123456789012345);
    expect(parseJson('1234567890123456')).toBe(1234567890123456);
  });

  it('keeps integers beyond u64 exact, but refuses ones that overflow f64 like serde_json', () => {
    expect(parseJson('123456789012345678901234567890')).toBe(123456789012345678901234567890n);
    expect(rejects('1' + '0'.repeat(400))).toBe(true);
    expect(rejects('-1' + '0'.repeat(400))).toBe(true);
  });

  it('reads fractions and exponents as JS numbers', () => {
    expect(parseJson('0.012')).toBe(0.012);
    expect(parseJson('1.5')).toBe(1.5);
    expect(parseJson('-2.5E+2')).toBe(-250);
    expect(parseJson('1e2')).toBe(100);
    expect(parseJson('1.0')).toBe(1);
    expect(parseJson('1e-400')).toBe(0);
    expect(parseJson('0e999999')).toBe(0);
    expect(Object.is(parseJson('-0'), -0)).toBe(true);
  });

  it('refuses floats that overflow f64 ("number out of range")', () => {
    expect(rejects('1e400')).toBe(true);
    expect(rejects('-1.5e309')).toBe(true);
  });

  it.each(['01', '-01', '-', '1.', '.5', '+1', '1e', '1e+', '0x10', '1.5.2', '--1', 'NaN', 'Infinity', '-Infinity'])(
    'refuses the number %p',
    (text) => expect(rejects(text)).toBe(true),
  );
});

describe('parseJson: strings', () => {
  it('decodes every escape', () => {
    expect(parseJson('"\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\u00E9 \\ud83d\\ude00"')).toBe('" \\ / \b \f \n \r \t é é 😀');
  });

  it('accepts raw non-ASCII and U+007F', () => {
    expect(parseJson('"é€😀\u007f"')).toBe('é€😀\u007f');
  });

  it.each([
    ['a raw control character', '"a\u0001b"'],
    ['a raw newline', '"a\nb"'],
    ['an unknown escape', '"\\x"'],
    ['a short \\u escape', '"\\u12"'],
    ['a non-hex \\u escape', '"\\u12g4"'],
    ['a lone high surrogate', '"\\ud83d"'],
    ['a lone low surrogate', '"\\ude00"'],
    ['a high surrogate followed by a BMP escape', '"\\ud83d\\u0041"'],
    ['a high surrogate followed by text', '"\\ud83dxx"'],
    ['an unterminated string', '"abc'],
    ['an unterminated escape', '"abc\\'],
    ['single quotes', "'a'"],
  ])('refuses %s', (_what, text) => expect(rejects(text)).toBe(true));
});

describe('parseJson: structure', () => {
  it('lets the last duplicate key win', () => {
    expect(parseJson('{"a":1,"b":2,"a":3}')).toEqual({ a: 3, b: 2 });
  });

  it('keeps keys apart whose hashes collide in the key cache', () => {
    // "Aa" and "BB" have the same 31-based hash and length, so they share a cache slot
    expect(parseJson('[{"Aa":1},{"BB":2},{"Aa":3,"BB":4},{"":5},{"Ab\\u0041":6}]')).toEqual([
      { Aa: 1 },
      { BB: 2 },
      { Aa: 3, BB: 4 },
      { '': 5 },
      { AbA: 6 },
    ]);
  });

  it('allows space, tab, CR and LF around and inside values', () => {
    expect(parseJson(' \t\r\n{ "a" :\n[ 1 ,\t2 ] , "b" : { } }\r\n ')).toEqual({ a: [1, 2], b: {} });
  });

  it.each([
    ['a form feed', '\f1'],
    ['a no-break space', '\u00a01'],
    ['a byte order mark', '\ufeff1'],
    ['a vertical tab', '1\u000b'],
  ])('refuses %s as whitespace', (_what, text) => expect(rejects(text)).toBe(true));

  it.each(['', ' ', '[1,]', '{"a":1,}', '[,1]', '{a:1}', '{"a" 1}', '{"a":}', '[1 2]', '1 2', '{"a":1}x', '[', ']', '{', 'nul', 'tru', 'nulll', '[1]]', '//', '/*c*/1'])(
    'refuses %p',
    (text) => expect(rejects(text)).toBe(true),
  );

  it(`accepts ${MAX_JSON_NESTING} nested containers and refuses ${MAX_JSON_NESTING + 1} (serde_json's limit)`, () => {
    expect(MAX_JSON_NESTING).toBe(127);
    expect(parseJson(nested(127, '[', ']'))).toBeInstanceOf(Array);
    expect(rejects(nested(128, '[', ']'))).toBe(true);
    expect(parseJson(nested(127, '{"a":', '}', '1'))).toBeInstanceOf(Object);
    expect(rejects(nested(128, '{"a":', '}', '1'))).toBe(true);
    expect(parseJson(nested(63, '[{"k":', '}]', '[]'))).toBeInstanceOf(Array); // 126 + 1 levels, mixed
    expect(rejects(nested(64, '[{"k":', '}]', '1'))).toBe(true); // 128 levels
    expect(rejects('['.repeat(100000))).toBe(true); // no stack overflow
  });

  it('keeps "__proto__" as an ordinary member', () => {
    const value = parseJson('{"__proto__":{"polluted":true},"a":1}') as Record<string, JsonValue>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(stringifyJson(value)).toBe('{"__proto__":{"polluted":true},"a":1}');
  });
});

describe('parseJson: bytes', () => {
  it('reads UTF-8 bytes', () => {
    expect(parseJson(Buffer.from('{"name":"é😀"}'))).toEqual({ name: 'é😀' });
    expect(parseJson(new Uint8Array(Buffer.from(' [1] ')))).toEqual([1]);
  });

  it.each([
    ['an invalid byte', '22ff22'],
    ['an overlong encoding', '22c0af22'],
    ['a UTF-8 encoded surrogate', '22eda08022'],
    ['a truncated sequence', '22e282'],
    ['a byte order mark', 'efbbbf7b7d'],
  ])('refuses %s', (_what, bytes) => expect(rejects(Buffer.from(bytes, 'hex'))).toBe(true));

  it('refuses empty input', () => {
    expect(rejects(new Uint8Array(0))).toBe(true);
  });
});

describe('stringifyJson (serde_json output form, §1.5)', () => {
  it('writes compact JSON with keys sorted by UTF-8 bytes', () => {
    expect(stringifyJson({ b: 1, a: [true, null, { d: 'x', c: 2 }], B: false, aa: 0 })).toBe(
      '{"B":false,"a":[true,null,{"c":2,"d":"x"}],"aa":0,"b":1}',
    );
  });

  it('sorts U+FFFF before astral characters (UTF-8 order, not UTF-16 order)', () => {
    expect(stringifyJson({ '😀': 1, '\uffff': 2, '\ue000': 3, z: 4 })).toBe('{"z":4,"\ue000":3,"\uffff":2,"😀":1}');
    expect(compareUtf8('😀', '\uffff')).toBeGreaterThan(0);
    expect(compareUtf8('a', 'ab')).toBeLessThan(0);
    expect(compareUtf8('same', 'same')).toBe(0);
  });

  it('keeps insertion order when sortKeys is false', () => {
    expect(stringifyJson({ b: 1, a: 2 }, { sortKeys: false })).toBe('{"b":1,"a":2}');
  });

  it('escapes like serde_json and leaves everything else raw', () => {
    expect(stringifyJson('" \\ \b \t \n \f \r \u0000 \u0001 \u000b \u001f / \u007f é 😀 \u2028')).toBe(
      '"\\" \\\\ \\b \\t \\n \\f \\r \\u0000 \\u0001 \\u000b \\u001f / \u007f é 😀 \u2028"',
    );
    expect(stringifyJson({ 'k"\n': 'v' })).toBe('{"k\\"\\n":"v"}');
  });

  it('writes integers plainly, floats in shortest round-trip form with ryu layout', () => {
    expect(stringifyJson(0.012)).toBe('0.012');
    expect(stringifyJson(1.5)).toBe('1.5');
    expect(stringifyJson(-2.25)).toBe('-2.25');
    expect(stringifyJson(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(stringifyJson(1)).toBe('1');
    expect(stringifyJson(-0)).toBe('0');
    expect(stringifyJson(1e21)).toBe('1000000000000000000000');
    expect(stringifyJson(2 ** 60)).toBe('1152921504606846976');
    expect(stringifyJson(0.00001)).toBe('0.00001');
    expect(stringifyJson(1.5e-6)).toBe('1.5e-6');
    expect(stringifyJson(1e-6)).toBe('1e-6');
    expect(stringifyJson(1e-7)).toBe('1e-7');
    expect(stringifyJson(1.25e-300)).toBe('1.25e-300');
    expect(stringifyJson(5e-324)).toBe('5e-324');
  });

  it('writes NaN and infinities as null', () => {
    expect(stringifyJson([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])).toBe('[null,null,null]');
  });

  it('writes bigint as digits', () => {
    expect(stringifyJson([18446744073709551615n, -9223372036854775808n, 0n])).toBe('[18446744073709551615,-9223372036854775808,0]');
  });

  it('omits undefined members, writes undefined array items as null, uses toJSON', () => {
    const value = { a: undefined, b: [undefined, 1], c: new Date(0) } as unknown as JsonValue;
    expect(stringifyJson(value)).toBe('{"b":[null,1],"c":"1970-01-01T00:00:00.000Z"}');
  });

  it('fails with InvalidControlJson for functions, symbols, cycles and a bare undefined', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const bad of [() => 1, Symbol('s'), cyclic, undefined, { f: () => 1 }]) {
      expect(() => stringifyJson(bad as unknown as JsonValue)).toThrow(CodecError);
    }
  });

  it('round-trips parse → stringify → parse for a Rust-style document', () => {
    const text =
      '{"certificate":{"serial":18446744073709551615,"signature":"ab"},"expires_at":-1,"list":[0.5,1e-7,"\\u0000",{}],"user":{"avatar_url":null}}';
    expect(stringifyJson(parseJson(text))).toBe(text);
  });
});
