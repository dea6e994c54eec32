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
    fn a_fixed_threshold_is_a_fixed_threshold() {
        let mut s = StreamSelector::new(Rule::Threshold(0.5), 0);
        let d: Vec<bool> = [0.1, 0.6, 0.5, 0.9].iter().map(|&u| s.decide(u)).collect();
        assert_eq!(d, vec![false, true, false, true]);
    }
}
