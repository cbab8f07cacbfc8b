//! A tiny `--flag value` / `--switch` parser: the harness needs nothing more, and a CLI crate
//! would only add build time.

use std::collections::BTreeMap;

/// Flags that take no value.
const SWITCHES: &[&str] = &["expect-error"];

pub struct Args {
    values: BTreeMap<String, String>,
}

impl Args {
    pub fn parse(argv: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut values = BTreeMap::new();
        let mut argv = argv.peekable();
        while let Some(token) = argv.next() {
            let Some(name) = token.strip_prefix("--") else {
                return Err(format!("unexpected argument {token:?}"));
            };
            if let Some((key, value)) = name.split_once('=') {
                values.insert(key.to_string(), value.to_string());
            } else if SWITCHES.contains(&name) {
                values.insert(name.to_string(), String::new());
            } else {
                let value = argv
                    .next()
                    .ok_or_else(|| format!("--{name} needs a value"))?;
                values.insert(name.to_string(), value);
            }
        }
        Ok(Self { values })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    pub fn require(&self, name: &str) -> Result<&str, String> {
        self.get(name).ok_or_else(|| format!("missing --{name}"))
    }

    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }
}
