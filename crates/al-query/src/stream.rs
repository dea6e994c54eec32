//! Stream-based selective sampling: rows arrive one at a time and each is
//! queried or let go on the spot.
//!
//! With a fixed `--threshold` a row is queried when its utility exceeds it.
//! With a `--budget` b the threshold follows the running distribution of
//! recent utilities, the (1 - b) quantile of the last 200, in the spirit of
//! the variable-uncertainty strategies of Žliobaitė et al. (2014), and a
//! guard keeps the spend at most b × rows seen (plus one), while a stream
//! that fell behind (utilities drifting down) is served at twice the rate
//! until it catches up: the share queried stays near b whatever the scale
//! of the utility.

use std::collections::VecDeque;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How rows are chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    Threshold(f64),
    Budget(f64),
}

/// Query-or-skip decisions, deterministic for a seed.
pub struct StreamSelector {
    rule: Rule,
    window: VecDeque<f64>,
    rng: ChaCha8Rng,
    pub seen: u64,
    pub queried: u64,
    /// The threshold the last decision used.
    pub threshold: f64,
}

const WINDOW: usize = 200;
const WARM_UP: usize = 10;

impl StreamSelector {
    pub fn new(rule: Rule, seed: u64) -> StreamSelector {
        let threshold = match rule {
            Rule::Threshold(t) => t,
            Rule::Budget(_) => f64::NAN,
        };
        StreamSelector {
            rule,
            window: VecDeque::with_capacity(WINDOW + 1),
            rng: ChaCha8Rng::seed_from_u64(seed),
            seen: 0,
            queried: 0,
            threshold,
        }
    }

    /// Forgets the recent utilities: after a refit they are on another scale.
    pub fn reset_window(&mut self) {
        self.window.clear();
    }

    /// Whether to query a row of this utility.
    pub fn decide(&mut self, utility: f64) -> bool {
        self.seen += 1;
        let query = match self.rule {
            Rule::Threshold(t) => utility > t,
            Rule::Budget(b) => {
                let coin = self.rng.gen::<f64>();
                if self.window.len() < WARM_UP {
                    coin < b
                } else {
                    let mut sorted: Vec<f64> = self.window.iter().copied().collect();
                    sorted.sort_by(f64::total_cmp);
                    // Behind schedule (the utilities drifted down): aim at
                    // twice the rate until caught up.
                    let behind = (self.queried as f64) + 1.0 < b * self.seen as f64;
                    let rate = if behind { (2.0 * b).min(1.0) } else { b };
                    let k = (((1.0 - rate) * sorted.len() as f64).floor() as usize)
                        .min(sorted.len() - 1);
                    self.threshold = sorted[k];
                    let affordable = (self.queried as f64) < b * self.seen as f64 + 1.0;
                    // Ties at the threshold (many equal utilities) are broken
                    // by a seeded coin, so the share stays near b.
                    affordable
                        && (utility > self.threshold || (utility == self.threshold && coin < b))
                }
            }
        };
        self.window.push_back(utility);
        if self.window.len() > WINDOW {
            self.window.pop_front();
        }
        self.queried += u64::from(query);
        query
    }
}

/// The per-row utilities a stream can use.
pub const STREAM_STRATEGIES: &[&str] = &["random", "qbc", "committee", "tree-variance"];

/// Scores rows one at a time from models fitted once (and refitted by the
/// caller as labels arrive): `random` draws a seeded uniform number, `qbc`
/// and `committee` take the variance of their members' predictions,
/// `tree-variance` the target variance in the row's leaf of a depth-5 tree.
pub struct RowScorer {
    strategy: String,
    model: al_models::ModelSpec,
    coin: ChaCha8Rng,
    fitted: Option<Box<dyn al_models::Predict>>,
    tree: Option<al_models::tree::Tree>,
}

impl RowScorer {
    pub fn new(
        strategy: &str,
        model: &al_models::ModelSpec,
        seed: u64,
    ) -> Result<RowScorer, crate::QueryError> {
        if !STREAM_STRATEGIES.contains(&strategy) {
            return Err(crate::QueryError::Spec(format!(
                "a stream scores one row at a time with {}, not {strategy:?}",
                STREAM_STRATEGIES.join(", ")
            )));
        }
        Ok(RowScorer {
            strategy: strategy.to_string(),
            model: model.clone(),
            coin: ChaCha8Rng::seed_from_u64(seed ^ 0x57AE),
            fitted: None,
            tree: None,
        })
    }

    /// (Re)fits on the labeled rows.
    pub fn fit(
        &mut self,
        x: &al_models::Matrix,
        y: &[f64],
        seed: u64,
    ) -> Result<(), crate::QueryError> {
        use al_models::Fit;
        self.fitted = Some(match self.strategy.as_str() {
            "committee" => al_models::committee::CommitteeParams::default().fit(x, y, seed)?,
            _ => self.model.build()?.fit(x, y, seed)?,
        });
        if self.strategy == "tree-variance" {
            self.tree = Some(
                al_models::tree::TreeParams::default()
                    .depth(Some(5))
                    .fit_tree(x, y, seed)?,
            );
        }
        Ok(())
    }

    /// The model predictions come from (the committee for `committee`).
    pub fn fitted(&self) -> Option<&dyn al_models::Predict> {
        self.fitted.as_deref()
    }

    /// The utility of one row (a one-row matrix).
    pub fn score(&mut self, row: &al_models::Matrix) -> f64 {
        match self.strategy.as_str() {
            "random" => self.coin.gen::<f64>(),
            "tree-variance" => self
                .tree
                .as_ref()
                .map_or(0.0, |t| t.leaf_variance(row.row(0))),
            _ => self
                .fitted
                .as_ref()
                .and_then(|m| m.predict_members(row))
                .map_or(0.0, |m| crate::strategies::member_variance(&m, 1)[0]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_of_a_tenth_queries_about_a_tenth() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let utilities: Vec<f64> = (0..10_000)
            .map(|i| rng.gen::<f64>() * (1.0 + (i as f64 / 3000.0).sin()))
            .collect();
        let run = |seed| {
            let mut s = StreamSelector::new(Rule::Budget(0.1), seed);
            utilities
                .iter()
                .map(|&u| s.decide(u))
                .collect::<Vec<bool>>()
        };
        let decisions = run(1);
        let queried = decisions.iter().filter(|&&q| q).count();
        assert!(
            (900..=1100).contains(&queried),
            "queried {queried} of 10 000"
        );
        assert_eq!(decisions, run(1), "same seed, same decisions");
    }

    #[test]
    fn equal_utilities_still_spend_the_budget() {
        let mut s = StreamSelector::new(Rule::Budget(0.1), 3);
        let queried = (0..10_000).filter(|_| s.decide(0.0)).count();
        assert!((900..=1100).contains(&queried), "queried {queried}");
    }

    #[test]
    fn row_scorers_know_four_utilities() {
        use al_models::{Matrix, ModelSpec};
        let x = Matrix::from_rows(&(0..40).map(|i| vec![i as f64]).collect::<Vec<_>>());
        let y: Vec<f64> = (0..40)
            .map(|i| {
                if i < 20 {
                    1.0
                } else {
                    (i * 7 % 5) as f64 * 10.0
                }
            })
            .collect();
        let spec = ModelSpec::parse("forest:trees=10").unwrap();
        let row = |v: f64| Matrix::from_rows(&[vec![v]]);
        let mut tree = RowScorer::new("tree-variance", &spec, 0).unwrap();
        tree.fit(&x, &y, 0).unwrap();
        // Constant targets on the left, varied on the right.
        assert_eq!(tree.score(&row(3.0)), 0.0);
        assert!(tree.score(&row(35.0)) > 0.0);
        for name in ["random", "qbc", "committee"] {
            let mut s = RowScorer::new(name, &spec, 0).unwrap();
            s.fit(&x, &y, 0).unwrap();
            assert!(s.score(&row(30.0)).is_finite(), "{name}");
        }
        assert!(RowScorer::new("gsx", &spec, 0).is_err());
    }

    #[test]
    fn a_fixed_threshold_is_a_fixed_threshold() {
        let mut s = StreamSelector::new(Rule::Threshold(0.5), 0);
        let d: Vec<bool> = [0.1, 0.6, 0.5, 0.9].iter().map(|&u| s.decide(u)).collect();
        assert_eq!(d, vec![false, true, false, true]);
    }
}
