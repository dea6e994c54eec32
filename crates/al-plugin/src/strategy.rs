//! Strategy plugins: the labeled rows and the candidates go out as CSV
//! files; the answer is checked (count, range, repeats, finite scores).

use al_query::{QueryError, QueryInput, Selection, Strategy};
use serde::Deserialize;

use crate::process::{write_matrix, PluginCommand, PROTOCOL};

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
            .and_then(|()| write_matrix(&candidates, &input.candidates.dense(), None))
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
            "n_features": input.candidates.width(),
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
