//! Extra vectors for §1.5 (the spec gives them no ids): how serde_json 1.0.145, as the crates
//! use it, re-writes control JSON. `input` is parsed with `serde_json::from_str` and written
//! with `serde_json::to_string`; `floats` says whether the text holds a JSON float, whose Rust
//! spelling (`1.0`, `1e300`) a JavaScript number cannot carry.

use super::VectorSet;
use serde_json::{json, Value};

fn rewrite(input: &str) -> Value {
    match serde_json::from_str::<Value>(input) {
        Ok(value) => json!({ "ok": true, "rust": serde_json::to_string(&value).unwrap() }),
        Err(error) => json!({ "ok": false, "error": error.to_string() }),
    }
}

pub fn add(set: &mut VectorSet) {
    let cases: &[(&str, &str, bool)] = &[
        // Escapes: C0 controls, the short escapes, quote, backslash, solidus, DEL, non-ASCII.
        (
            "TV-JSON-01",
            r#"{"s":"\u0000\u0001\b\t\n\u000b\f\r\u001f\"\\\/\u007f\u0080é😀\u00e9\ud83d\ude00"}"#,
            false,
        ),
        // Key order is by UTF-8 bytes: U+FB01 sorts before U+1F600 (in UTF-16 it is the reverse).
        (
            "TV-JSON-02",
            r#"{"b":1,"a":2,"B":3,"é":4,"ﬁ":5,"😀":6,"":7,"aa":8,"a\u0000":9}"#,
            false,
        ),
        // Integers beyond 2^53 stay exact (u64 and i64 range).
        (
            "TV-JSON-03",
            "[0,-1,9007199254740993,18446744073709551615,-9223372036854775808]",
            false,
        ),
        // Whitespace disappears; nested objects are sorted too; duplicate keys: the last wins.
        (
            "TV-JSON-04",
            " { \"z\" : [ { \"y\":1 , \"x\":2 } ] , \"a\" : { } , \"a\" : null } ",
            false,
        ),
        // Floats as serde_json writes them.
        (
            "TV-JSON-05",
            "[0.012,0.5,1.0,-0.0,1e300,1.5e-7,123456789.125,1E2,5e-324]",
            true,
        ),
        // Integers beyond u64/i64 become floats.
        (
            "TV-JSON-06",
            "[18446744073709551616,-9223372036854775809]",
            true,
        ),
        // Not JSON for serde_json (a JavaScript JSON.parse accepts the lone surrogate).
        ("TV-JSON-07", r#""\ud800""#, false),
        ("TV-JSON-08", "", false),
    ];
    for (id, input, floats) in cases {
        let mut vector = rewrite(input);
        vector["kind"] = json!("json");
        vector["input"] = json!(input);
        vector["floats"] = json!(floats);
        set.add(id, vector);
    }
}
