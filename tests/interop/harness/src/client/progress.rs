//! What a `client` run has learned so far, so that a failure report still shows the earlier
//! steps, and the one JSON object printed at the end.

use super::conversation::Log;
use serde_json::{json, Map, Value};

pub struct Outcome {
    pub report: Value,
}

impl Outcome {
    pub fn failure(stage: &str, error: String) -> Self {
        Self {
            report: json!({ "ok": false, "stage": stage, "error": error }),
        }
    }
}

pub struct Progress {
    pub stage: &'static str,
    pub report: Map<String, Value>,
    /// Present once a conversation (`--join`) has started.
    pub conversation: Option<Log>,
}

impl Progress {
    pub fn new() -> Self {
        Self {
            stage: "start",
            report: Map::new(),
            conversation: None,
        }
    }

    pub fn set(&mut self, key: &str, value: Value) {
        self.report.insert(key.to_string(), value);
    }

    pub fn finish(mut self, ok: bool, error: Option<String>) -> Outcome {
        self.report.insert("ok".into(), json!(ok));
        if let Some(log) = &self.conversation {
            self.report.insert("conversation".into(), log.to_json());
        }
        if let Some(error) = error {
            self.report.insert("stage".into(), json!(self.stage));
            self.report.insert("error".into(), json!(error));
        }
        Outcome {
            report: Value::Object(self.report),
        }
    }
}
