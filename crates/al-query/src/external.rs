//! Strategy and oracle plugins: external programs speaking `al-plugin/1`
//! (docs/plugins.md); the process handling is `al_models::plugin`.

pub use al_models::plugin::{check_numbers, write_matrix, PluginCommand, PROTOCOL};

use serde::Deserialize;

use crate::{QueryError, QueryInput, Selection, Strategy};

/// A strategy run as an external program.
pub struct ExternalStrategy {
    pub plugin: PluginCommand,
}

#[derive(Deserialize)]
struct Answer {
    rows: Vec<i64>,
    scores: Option<Vec<Option<f64>>>,
}

impl Strategy for ExternalStrategy {
    fn name(&self) -> String {
        self.plugin.name.clone()
    }

    fn query(&self, input: &QueryInput) -> Result<Vec<Selection>, QueryError> {
        let fail = QueryError::Plugin;
        let n = input.candidates.rows();
        if n == 0 {
            return Err(QueryError::NoCandidates);
        }
        let dir = tempfile::tempdir()
            .map_err(|e| fail(self.plugin.fail(format!("no temporary directory: {e}"))))?;
        let labeled = dir.path().join("labeled.csv");
        let candidates = dir.path().join("candidates.csv");
        write_matrix(&labeled, input.labeled_x, Some(input.labeled_y))
            .and_then(|()| write_matrix(&candidates, input.candidates, None))
            .map_err(|e| {
                fail(
                    self.plugin
                        .fail(format!("cannot write its input files: {e}")),
                )
            })?;
        let request = serde_json::json!({
            "protocol": PROTOCOL,
            "kind": "strategy",
            "labeled": labeled,
            "candidates": candidates,
            "n_labeled": input.labeled_x.rows(),
            "n_candidates": n,
            "n_features": input.candidates.cols(),
            "batch": input.batch,
            "seed": input.seed,
            "model": input.model.to_string(),
        });
        let out = self
            .plugin
            .exchange(&format!("{request}\n"))
            .map_err(fail)?;
        let answer: Answer = self.plugin.parse(&out).map_err(fail)?;
        let want = input.batch.min(n);
        if answer.rows.len() != want {
            return Err(fail(self.plugin.fail(format!(
                "answered {} row(s); {want} were asked for",
                answer.rows.len()
            ))));
        }
        let scores = answer.scores.unwrap_or_else(|| vec![Some(0.0); want]);
        if scores.len() != want {
            return Err(fail(
                self.plugin
                    .fail(format!("gave {} score(s) for {want} row(s)", scores.len())),
            ));
        }
        let mut seen = vec![false; n];
        let mut picks = Vec::with_capacity(want);
        for (&row, score) in answer.rows.iter().zip(&scores) {
            let index = usize::try_from(row)
                .ok()
                .filter(|&r| r < n)
                .ok_or_else(|| {
                    fail(
                        self.plugin
                            .fail(format!("answered row {row}, outside 0..{n}")),
                    )
                })?;
            if std::mem::replace(&mut seen[index], true) {
                return Err(fail(self.plugin.fail(format!("answered row {row} twice"))));
            }
            let score = score.filter(|s| s.is_finite()).ok_or_else(|| {
                fail(self.plugin.fail(format!(
                    "gave row {row} a score that is not a finite number"
                )))
            })?;
            picks.push(Selection { index, score });
        }
        Ok(picks)
    }
}

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
