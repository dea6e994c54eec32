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

use al_models::{Matrix, ModelSpec};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{QueryError, QueryInput, Strategy};

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
                    // by a seeded coin weighted so that, with the rows above
                    // the threshold, a share `rate` of the window passes.
                    let above = sorted.len() - sorted.partition_point(|u| *u <= self.threshold);
                    let equal = sorted.iter().filter(|u| **u == self.threshold).count();
                    let wanted = rate * sorted.len() as f64 - above as f64;
                    let tie_share = (wanted / equal.max(1) as f64).clamp(0.0, 1.0);
                    affordable
                        && (utility > self.threshold
                            || (utility == self.threshold && coin < tie_share))
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

/// Arriving rows scored in chunks of this many against one fit: the same
/// rows get the same utilities in `stream` and in a stream simulation.
pub const CHUNK: usize = 256;

/// Scores arriving rows with any strategy that has a per-row utility
/// ([`Strategy::utilities`]), with its parameters: the rows from the one to
/// score onwards are scored in a chunk of up to [`CHUNK`] rows as the
/// strategy's candidates against the labeled rows of the last
/// [`StreamScorer::fit`]; a refit forgets the chunk. Strategies that pick a
/// whole batch at once (gsx, cover) are refused with
/// [`QueryError::NoUtilities`]. Strategies whose utility depends on the
/// other candidates (`density`, `emc-retrain`'s reference sample) see the
/// chunk as the pool.
pub struct StreamScorer<'a> {
    strategy: &'a dyn Strategy,
    model: &'a ModelSpec,
    seed: u64,
    max_candidates: usize,
    labeled_x: Matrix,
    labeled_y: Vec<f64>,
    fit_seed: u64,
    /// Utilities of arriving rows `start..start + utilities.len()`.
    start: usize,
    utilities: Vec<f64>,
}

impl<'a> StreamScorer<'a> {
    pub fn new(
        strategy: &'a dyn Strategy,
        model: &'a ModelSpec,
        seed: u64,
        max_candidates: usize,
    ) -> StreamScorer<'a> {
        StreamScorer {
            strategy,
            model,
            seed,
            max_candidates,
            labeled_x: Matrix::with_cols(0),
            labeled_y: vec![],
            fit_seed: seed,
            start: 0,
            utilities: vec![],
        }
    }

    /// Scores against these labeled rows from now on.
    pub fn fit(&mut self, x: Matrix, y: Vec<f64>, seed: u64) {
        self.labeled_x = x;
        self.labeled_y = y;
        self.fit_seed = seed;
        self.utilities.clear();
    }

    /// The utility of arriving row `i` of `rows`.
    pub fn score(&mut self, rows: &Matrix, i: usize) -> Result<f64, QueryError> {
        let cached = i >= self.start && i < self.start + self.utilities.len();
        if !cached {
            let end = (i + CHUNK).min(rows.rows());
            let chunk = rows.select(&(i..end).collect::<Vec<_>>());
            let input = QueryInput {
                labeled_x: &self.labeled_x,
                labeled_y: &self.labeled_y,
                candidates: &chunk,
                model: self.model,
                batch: chunk.rows(),
                seed: al_models::derive_seed(self.fit_seed ^ self.seed, i as u64),
                max_candidates: self.max_candidates,
                fitted: None,
            };
            self.utilities = match self.strategy.utilities(&input) {
                Some(u) => u?,
                None => return Err(QueryError::NoUtilities(self.strategy.name())),
            };
            self.start = i;
        }
        Ok(self.utilities[i - self.start])
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
    fn the_scorer_uses_the_strategy_and_its_parameters() {
        let x = Matrix::from_rows(&(0..40).map(|i| vec![i as f64]).collect::<Vec<_>>());
        // Constant targets on the left, 100/110/120/130/140 on the right.
        let y: Vec<f64> = (0..40)
            .map(|i| {
                if i < 20 {
                    1.0
                } else {
                    100.0 + (i % 5) as f64 * 10.0
                }
            })
            .collect();
        let rows = Matrix::from_rows(&[vec![3.0], vec![35.0]]);
        let spec = ModelSpec::parse("forest:trees=10").unwrap();
        let scores = |name: &str| {
            let strategy = crate::parse_strategy(name).unwrap();
            let mut s = StreamScorer::new(&*strategy, &spec, 0, 100);
            s.fit(x.clone(), y.clone(), 0);
            [s.score(&rows, 0).unwrap(), s.score(&rows, 1).unwrap()]
        };
        // The forest's trees agree where the targets are constant.
        for name in ["qbc", "tree-variance:depth=1", "tree-variance"] {
            let [left, right] = scores(name);
            assert_eq!(left, 0.0, "{name}");
            assert!(right > 0.0, "{name}: {right}");
        }
        // A parameter reaches the strategy: a stump's right leaf is wider
        // than a deep tree's, so its variance differs.
        assert_ne!(
            scores("tree-variance:depth=1")[1],
            scores("tree-variance:depth=none")[1]
        );
        let gsx = crate::parse_strategy("gsx").unwrap();
        let mut s = StreamScorer::new(&*gsx, &spec, 0, 100);
        s.fit(x.clone(), y.clone(), 0);
        assert!(matches!(s.score(&rows, 0), Err(QueryError::NoUtilities(n)) if n == "gsx"));
    }

    #[test]
    fn many_ties_at_the_top_still_spend_the_budget() {
        // A fifth of the rows share the highest utility; the rest are spread
        // below it. The threshold lands on the tie, which must pass half the
        // time for a tenth of the rows to be queried.
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let mut s = StreamSelector::new(Rule::Budget(0.1), 5);
        let queried = (0..10_000)
            .filter(|_| {
                let u = if rng.gen::<f64>() < 0.2 {
                    9.0
                } else {
                    rng.gen::<f64>()
                };
                s.decide(u)
            })
            .count();
        assert!((900..=1100).contains(&queried), "queried {queried}");
    }

    #[test]
    fn a_fixed_threshold_is_a_fixed_threshold() {
        let mut s = StreamSelector::new(Rule::Threshold(0.5), 0);
        let d: Vec<bool> = [0.1, 0.6, 0.5, 0.9].iter().map(|&u| s.decide(u)).collect();
        assert_eq!(d, vec![false, true, false, true]);
    }
}
