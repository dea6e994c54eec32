//! What the label page shows beside a row: the model's guess with its
//! interval and the most similar labeled rows.
//!
//! Loaded once when the server starts and again when another process
//! changes the project (a `query`, a `label` import, an evaluation: SQLite's
//! `data_version` tells), in the background; answers given through this
//! server move their row from pending to labeled in place. It holds the
//! labeled and pending rows only, never the pool, so a million-row project
//! costs the server what its labels cost.

use std::collections::HashMap;

use al_data::{Project, Subset};
use al_models::{Matrix, ModelSpec};

/// The model's guess for a pending row: its prediction and its 90 %
/// conformal interval (the interval a batch file shows), once there are
/// labels enough for one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Guess {
    pub prediction: f64,
    pub interval: Option<(f64, f64)>,
}

/// A labeled row near the one on the page.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbour {
    pub row_id: i64,
    pub label: f64,
    /// Euclidean distance in the model's scaled feature space.
    pub distance: f64,
}

/// The labeled and pending rows' scaled features and the model's guesses.
#[derive(Debug, Default)]
pub struct Context {
    width: usize,
    labeled_ids: Vec<i64>,
    labeled_y: Vec<f64>,
    labeled_x: Vec<f64>,
    pending: HashMap<i64, Vec<f64>>,
    guesses: HashMap<i64, Guess>,
    /// The model behind the guesses, and how many labels it was fitted on.
    pub model: Option<String>,
    pub fitted_on: usize,
    /// Why there are no guesses, when there are none.
    pub no_model: Option<String>,
    /// How the intervals were made, or why there are none.
    pub intervals: Option<String>,
}

impl Context {
    /// Reads the training and pending rows and fits `spec` to guess the
    /// pending ones (seed 0, as `label --interactive` does).
    pub fn load(project: &Project, spec: &ModelSpec) -> anyhow::Result<Context> {
        let recipe = project.recipe()?;
        let [train, pending] = project.load_compact_subsets([Subset::Training, Subset::Pending])?;
        let train = train.expand(&recipe, true);
        let pending = pending.expand(&recipe, true);
        let width = train.width;
        let y = train.targets();
        let mut context = Context {
            width,
            labeled_ids: train.row_ids.clone(),
            labeled_y: y.clone(),
            labeled_x: train.features.clone(),
            pending: pending
                .row_ids
                .iter()
                .enumerate()
                .map(|(i, &id)| (id, pending.features[i * width..(i + 1) * width].to_vec()))
                .collect(),
            ..Context::default()
        };
        if train.len() < 2 {
            context.no_model = Some(format!("{} labeled row(s): a model needs two", train.len()));
            return Ok(context);
        }
        if pending.is_empty() {
            return Ok(context);
        }
        let guessed = spec
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|learner| {
                al::intervals::guesses(
                    &*learner,
                    (&Matrix::new(train.features, width), &y),
                    &Matrix::new(pending.features.clone(), width),
                    al::Coverage::default(),
                    0,
                    false,
                )
            });
        match guessed {
            Ok(al::intervals::Guesses {
                predictions,
                intervals,
                ..
            }) => {
                for (i, &id) in pending.row_ids.iter().enumerate() {
                    context.guesses.insert(
                        id,
                        Guess {
                            prediction: predictions[i],
                            interval: intervals.get(i),
                        },
                    );
                }
                context.model = Some(spec.to_string());
                context.fitted_on = train.row_ids.len();
                context.intervals = Some(intervals.describe().to_string());
            }
            Err(e) => context.no_model = Some(format!("{spec}: {e}")),
        }
        Ok(context)
    }

    pub fn guess(&self, row_id: i64) -> Option<Guess> {
        self.guesses.get(&row_id).copied()
    }

    /// The `k` labeled rows nearest to pending row `row_id`, nearest first
    /// (ties by row id); none when the row's features are not loaded.
    pub fn nearest(&self, row_id: i64, k: usize) -> Vec<Neighbour> {
        let Some(x) = self.pending.get(&row_id) else {
            return Vec::new();
        };
        let mut all: Vec<Neighbour> = self
            .labeled_ids
            .iter()
            .enumerate()
            .map(|(i, &id)| {
                let other = &self.labeled_x[i * self.width..(i + 1) * self.width];
                let d2: f64 = x.iter().zip(other).map(|(a, b)| (a - b) * (a - b)).sum();
                Neighbour {
                    row_id: id,
                    label: self.labeled_y[i],
                    distance: d2.sqrt(),
                }
            })
            .collect();
        let by_distance = |a: &Neighbour, b: &Neighbour| {
            a.distance
                .total_cmp(&b.distance)
                .then(a.row_id.cmp(&b.row_id))
        };
        if all.len() > k {
            all.select_nth_unstable_by(k, by_distance);
            all.truncate(k);
        }
        all.sort_by(by_distance);
        all
    }

    /// Row `row_id` was answered `value` here: it is labeled context now.
    pub fn answered(&mut self, row_id: i64, value: f64) {
        if let Some(x) = self.pending.remove(&row_id) {
            self.labeled_ids.push(row_id);
            self.labeled_y.push(value);
            self.labeled_x.extend_from_slice(&x);
        }
    }

    /// Row `row_id`'s answer was taken back: it is pending again.
    pub fn retracted(&mut self, row_id: i64) {
        let Some(i) = self.labeled_ids.iter().position(|&id| id == row_id) else {
            return;
        };
        let x = self.labeled_x[i * self.width..(i + 1) * self.width].to_vec();
        self.labeled_ids.remove(i);
        self.labeled_y.remove(i);
        self.labeled_x.drain(i * self.width..(i + 1) * self.width);
        self.pending.insert(row_id, x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> Context {
        Context {
            width: 2,
            labeled_ids: vec![1, 2, 3, 4],
            labeled_y: vec![10.0, 20.0, 30.0, 40.0],
            labeled_x: vec![0.0, 0.0, 1.0, 0.0, 0.0, 3.0, 1.0, 0.0],
            pending: HashMap::from([(9, vec![0.9, 0.0])]),
            ..Context::default()
        }
    }

    #[test]
    fn nearest_labeled_rows_come_first_ties_by_row_id() {
        let c = context();
        let near = c.nearest(9, 3);
        let ids: Vec<i64> = near.iter().map(|n| n.row_id).collect();
        assert_eq!(ids, [2, 4, 1]);
        assert!((near[0].distance - 0.1).abs() < 1e-12);
        assert_eq!(near[2].label, 10.0);
        assert!(c.nearest(77, 3).is_empty());
    }

    #[test]
    fn an_answer_moves_a_row_to_the_labeled_and_a_retraction_back() {
        let mut c = context();
        c.answered(9, 15.0);
        assert!(c.nearest(9, 3).is_empty());
        assert_eq!(c.labeled_ids, [1, 2, 3, 4, 9]);
        c.retracted(9);
        assert_eq!(c.labeled_ids, [1, 2, 3, 4]);
        assert_eq!(c.labeled_x.len(), 8);
        assert_eq!(c.nearest(9, 1)[0].row_id, 2);
    }
}
