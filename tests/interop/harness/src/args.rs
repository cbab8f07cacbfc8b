//! A tiny `--flag value` / `--switch` parser: the harness needs nothing more, and a CLI crate
//! would only add build time.

use std::collections::BTreeMap;

/// Flags that take no value.
const SWITCHES: &[&str] = &["expect-error"];

/// Every value given for each flag, in order: most flags take the last one, repeatable flags
/// (`--send`, `--expect`) all of them.
pub struct Args {
    values: BTreeMap<String, Vec<String>>,
}

impl Args {
    pub fn parse(argv: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut argv = argv.peekable();
        while let Some(token) = argv.next() {
            let Some(name) = token.strip_prefix("--") else {
                return Err(format!("unexpected argument {token:?}"));
            };
            if let Some((key, value)) = name.split_once('=') {
                values
                    .entry(key.to_string())
                    .or_default()
                    .push(value.to_string());
            } else if SWITCHES.contains(&name) {
                values
                    .entry(name.to_string())
                    .or_default()
                    .push(String::new());
            } else {
                let value = argv
                    .next()
                    .ok_or_else(|| format!("--{name} needs a value"))?;
                values.entry(name.to_string()).or_default().push(value);
            }
        }
        Ok(Self { values })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .and_then(|all| all.last())
            .map(String::as_str)
    }

    /// All values of a repeatable flag, in the order given (empty if absent).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.values
            .get(name)
            .map(|all| all.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    pub fn require(&self, name: &str) -> Result<&str, String> {
        self.get(name).ok_or_else(|| format!("missing --{name}"))
    }

    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }
}
