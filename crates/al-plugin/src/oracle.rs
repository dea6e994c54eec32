//! Oracle plugins: raw rows (source columns, target empty) go out; their
//! labels come back, checked.

use serde::Deserialize;

use crate::process::{check_numbers, PluginCommand, PROTOCOL};

/// An oracle run as an external program: it gets raw rows (source columns,
/// target empty) and answers their labels.
pub struct ExternalOracle {
    pub plugin: PluginCommand,
}

#[derive(Deserialize)]
struct Labels {
    labels: Vec<Option<f64>>,
}

impl ExternalOracle {
    /// Labels for `rows` (cells in the order of `headers`).
    pub fn label(&self, headers: &[String], rows: &[Vec<String>]) -> Result<Vec<f64>, String> {
        let dir = tempfile::tempdir()
            .map_err(|e| self.plugin.fail(format!("no temporary directory: {e}")))?;
        let path = dir.path().join("rows.csv");
        let mut w = csv::Writer::from_path(&path).map_err(|e| self.plugin.fail(e))?;
        w.write_record(headers).map_err(|e| self.plugin.fail(e))?;
        for r in rows {
            w.write_record(r).map_err(|e| self.plugin.fail(e))?;
        }
        w.flush().map_err(|e| self.plugin.fail(e))?;
        let request = serde_json::json!({"protocol": PROTOCOL, "kind": "oracle", "rows": path, "n_rows": rows.len()});
        let out = self.plugin.exchange(&format!("{request}\n"))?;
        let answer: Labels = self.plugin.parse(&out)?;
        check_numbers(&self.plugin, "label(s)", &answer.labels, rows.len())
    }
}
