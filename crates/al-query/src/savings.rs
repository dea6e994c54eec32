//! Labels saved: how many labels random sampling needs to reach the error a
//! strategy reaches with a given number, counted as a share of random's.
//!
//! An area ratio answers "how much lower is the curve"; users count labels.
//! If a strategy reaches MAE 41.2 with 220 labels and random first gets
//! there with 300, the strategy saved 1 − 220 / 300 = 27 % of the labels.
//! Both errors are read off mean curves over the paired repeats (one
//! repeat's curve is too noisy to cross cleanly), random's interpolated
//! linearly between its evaluated rounds, and the interval is a paired
//! bootstrap over repeats: each resample takes the same repeats for the
//! strategy and for random, and recomputes both mean curves.

use serde::{Deserialize, Serialize};

use crate::simulate::bootstrap_interval;

/// Which error the labels are counted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    Mae,
    /// The root of each repeat's MSE, then averaged over repeats.
    Rmse,
}

/// One repeat's learning curve, as far as labels saved needs it.
#[derive(Clone, Copy)]
pub struct CurveView<'a> {
    pub labels: &'a [usize],
    pub mae: &'a [f64],
    pub mse: &'a [f64],
}

impl CurveView<'_> {
    fn error(&self, at: usize, error: Error) -> f64 {
        match error {
            Error::Mae => self.mae[at],
            Error::Rmse => self.mse[at].sqrt(),
        }
    }
}

/// Labels saved at one point of a strategy's curve.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LabelsSaved {
    /// The labels the strategy had at that point.
    pub labels: usize,
    /// Its mean error there.
    pub error: f64,
    /// The labels random needed to first reach that mean error (linearly
    /// interpolated on its mean curve); `None` when it did not within its
    /// run, and then `saved` is a lower bound.
    pub random_labels: Option<f64>,
    /// 1 − labels / random_labels: 0.25 means a quarter fewer labels than
    /// random needs; negative when random needs fewer.
    pub saved: f64,
    /// True when random never reached the error in its run: `saved` is
    /// computed at random's last point and the true saving is at least it.
    pub at_least: bool,
    /// Paired bootstrap 95 % interval of `saved` over repeats (resamples in
    /// which random does not catch up count at their lower bound).
    pub ci: [f64; 2],
}

/// Labels saved at the final budget and at half of it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SavedAt {
    pub budget: LabelsSaved,
    pub half: LabelsSaved,
}

/// Labels saved on MAE and on RMSE.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Savings {
    pub mae: SavedAt,
    pub rmse: SavedAt,
}

impl Savings {
    /// Labels saved by `strategy` against `random`, both one curve per
    /// repeat in the same repeat order (paired). `None` without repeats or
    /// with a strategy curve of one point (nothing queried).
    pub fn measure(strategy: &[CurveView], random: &[CurveView], seed: u64) -> Option<Savings> {
        if strategy.is_empty() || strategy.len() != random.len() {
            return None;
        }
        let points = strategy.iter().map(|c| c.labels.len()).min()?;
        if points < 2 {
            return None;
        }
        let last = points - 1;
        let half = last / 2;
        let at = |error, index| saved_at(strategy, random, index, error, seed);
        Some(Savings {
            mae: SavedAt {
                budget: at(Error::Mae, last),
                half: at(Error::Mae, half),
            },
            rmse: SavedAt {
                budget: at(Error::Rmse, last),
                half: at(Error::Rmse, half),
            },
        })
    }
}

fn saved_at(
    strategy: &[CurveView],
    random: &[CurveView],
    index: usize,
    error: Error,
    seed: u64,
) -> LabelsSaved {
    let labels = strategy[0].labels[index];
    let all: Vec<usize> = (0..strategy.len()).collect();
    let point = crossing(strategy, random, &all, index, error);
    let ci = bootstrap_interval(strategy.len(), seed, |repeats| {
        crossing(strategy, random, repeats, index, error).saved(labels)
    });
    LabelsSaved {
        labels,
        error: point.target,
        random_labels: point.random_labels,
        saved: point.saved(labels),
        at_least: point.random_labels.is_none(),
        ci,
    }
}

/// Where random's mean curve first reaches the strategy's mean error.
struct Crossing {
    target: f64,
    /// `None` when it never does; then `last` is where random stopped.
    random_labels: Option<f64>,
    last: f64,
}

impl Crossing {
    fn saved(&self, labels: usize) -> f64 {
        1.0 - labels as f64 / self.random_labels.unwrap_or(self.last)
    }
}

fn crossing(
    strategy: &[CurveView],
    random: &[CurveView],
    repeats: &[usize],
    index: usize,
    error: Error,
) -> Crossing {
    let mean = |curves: &[CurveView], at: usize| {
        repeats
            .iter()
            .map(|&r| curves[r].error(at, error))
            .sum::<f64>()
            / repeats.len() as f64
    };
    let target = mean(strategy, index);
    let points = repeats
        .iter()
        .map(|&r| random[r].labels.len())
        .min()
        .unwrap_or(0);
    let labels = random[repeats[0]].labels;
    let curve: Vec<f64> = (0..points).map(|i| mean(random, i)).collect();
    Crossing {
        target,
        random_labels: labels_to_reach(&labels[..points], &curve, target),
        last: labels[points - 1] as f64,
    }
}

/// The first label count at which a curve reaches `target` or below,
/// interpolated linearly between the evaluated points; `None` if it never
/// does.
pub fn labels_to_reach(labels: &[usize], errors: &[f64], target: f64) -> Option<f64> {
    let first = errors.iter().position(|&e| e <= target)?;
    if first == 0 {
        return Some(labels[0] as f64);
    }
    let (x0, x1) = (labels[first - 1] as f64, labels[first] as f64);
    let (e0, e1) = (errors[first - 1], errors[first]);
    // e0 > target >= e1, so the share lies in (0, 1].
    Some(x0 + (x1 - x0) * (e0 - target) / (e0 - e1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view<'a>(labels: &'a [usize], mae: &'a [f64], mse: &'a [f64]) -> CurveView<'a> {
        CurveView { labels, mae, mse }
    }

    #[test]
    fn labels_to_reach_interpolates_between_rounds() {
        let labels = [20, 30, 40, 50];
        let errors = [10.0, 8.0, 6.0, 5.0];
        assert_eq!(labels_to_reach(&labels, &errors, 7.0), Some(35.0));
        assert_eq!(labels_to_reach(&labels, &errors, 6.0), Some(40.0));
        assert_eq!(labels_to_reach(&labels, &errors, 12.0), Some(20.0));
        assert_eq!(labels_to_reach(&labels, &errors, 4.0), None);
    }

    #[test]
    fn labels_to_reach_takes_the_first_crossing_of_a_bumpy_curve() {
        let labels = [10, 20, 30, 40];
        let errors = [9.0, 7.0, 8.0, 6.0];
        // The first crossing (between 10 and 20), not the later one (30 to 40).
        assert_eq!(labels_to_reach(&labels, &errors, 7.5), Some(17.5));
    }

    #[test]
    fn a_strategy_that_reaches_randoms_later_error_saves_the_difference() {
        // Random: error 10 - 0.02 · (labels - 20) over 20..=420 in steps of 10.
        let labels: Vec<usize> = (0..=40).map(|i| 20 + 10 * i).collect();
        let random_mae: Vec<f64> = labels
            .iter()
            .map(|&l| 10.0 - 0.02 * (l as f64 - 20.0))
            .collect();
        let random_mse: Vec<f64> = random_mae.iter().map(|e| e * e).collect();
        // The strategy reaches at 220 labels random's error at 300 (4.4),
        // and at 120 labels random's at 150 (7.4).
        let s_labels = &labels[..21];
        let mut s_mae: Vec<f64> = s_labels
            .iter()
            .map(|&l| 10.0 - 0.02 * (l as f64 - 20.0))
            .collect();
        s_mae[20] = 4.4;
        s_mae[10] = 7.4;
        let s_mse: Vec<f64> = s_mae.iter().map(|e| e * e).collect();
        let strategy = vec![view(s_labels, &s_mae, &s_mse); 3];
        let random = vec![view(&labels, &random_mae, &random_mse); 3];
        let s = Savings::measure(&strategy, &random, 1).unwrap();
        assert_eq!(s.mae.budget.labels, 220);
        assert!((s.mae.budget.random_labels.unwrap() - 300.0).abs() < 1e-9);
        assert!((s.mae.budget.saved - (1.0 - 220.0 / 300.0)).abs() < 1e-9);
        assert!(!s.mae.budget.at_least);
        assert_eq!(s.mae.half.labels, 120);
        assert!((s.mae.half.saved - (1.0 - 120.0 / 150.0)).abs() < 1e-9);
        // Identical repeats: every resample gives the same figure.
        assert!((s.mae.budget.ci[0] - s.mae.budget.saved).abs() < 1e-9);
        assert!((s.mae.budget.ci[1] - s.mae.budget.saved).abs() < 1e-9);
        // One curve per repeat with the root taken first: the same here.
        assert!((s.rmse.budget.saved - s.mae.budget.saved).abs() < 1e-9);
    }

    #[test]
    fn a_worse_strategy_saves_a_negative_share_and_a_better_one_beyond_randoms_run_a_lower_bound() {
        let labels: Vec<usize> = vec![20, 30, 40, 50, 60];
        let random_mae = vec![10.0, 9.0, 8.0, 7.0, 6.0];
        let random_mse: Vec<f64> = random_mae.iter().map(|e| e * e).collect();
        let worse_mae = vec![10.0, 9.5, 9.0];
        let better_mae = vec![10.0, 8.0, 5.0];
        let sq = |v: &Vec<f64>| v.iter().map(|e| e * e).collect::<Vec<f64>>();
        let (worse_mse, better_mse) = (sq(&worse_mae), sq(&better_mae));
        let random = vec![view(&labels, &random_mae, &random_mse)];
        let worse =
            Savings::measure(&[view(&labels[..3], &worse_mae, &worse_mse)], &random, 0).unwrap();
        // Random reaches 9.0 at 30 labels; the strategy needed 40.
        assert!((worse.mae.budget.saved - (1.0 - 40.0 / 30.0)).abs() < 1e-9);
        let better =
            Savings::measure(&[view(&labels[..3], &better_mae, &better_mse)], &random, 0).unwrap();
        assert_eq!(better.mae.budget.random_labels, None);
        assert!(better.mae.budget.at_least);
        assert!((better.mae.budget.saved - (1.0 - 40.0 / 60.0)).abs() < 1e-9);
    }

    #[test]
    fn the_interval_is_paired_over_repeats_and_seeded() {
        let labels: Vec<usize> = (0..=8).map(|i| 20 + 10 * i).collect();
        let curves: Vec<(Vec<f64>, Vec<f64>)> = (0..6)
            .map(|r| {
                let random: Vec<f64> = labels
                    .iter()
                    .map(|&l| 10.0 + r as f64 - 0.05 * (l - 20) as f64)
                    .collect();
                let strategy: Vec<f64> = random[..5]
                    .iter()
                    .enumerate()
                    .map(|(i, e)| e - 0.03 * (i * (r + 1)) as f64)
                    .collect();
                (random, strategy)
            })
            .collect();
        let squares: Vec<(Vec<f64>, Vec<f64>)> = curves
            .iter()
            .map(|(r, s)| {
                (
                    r.iter().map(|e| e * e).collect(),
                    s.iter().map(|e| e * e).collect(),
                )
            })
            .collect();
        let random: Vec<CurveView> = curves
            .iter()
            .zip(&squares)
            .map(|((r, _), (r2, _))| view(&labels, r, r2))
            .collect();
        let strategy: Vec<CurveView> = curves
            .iter()
            .zip(&squares)
            .map(|((_, s), (_, s2))| view(&labels[..5], s, s2))
            .collect();
        let a = Savings::measure(&strategy, &random, 5).unwrap();
        let b = Savings::measure(&strategy, &random, 5).unwrap();
        assert_eq!(a, b);
        let ci = a.mae.budget.ci;
        assert!(
            ci[0] < a.mae.budget.saved && a.mae.budget.saved < ci[1],
            "{ci:?}"
        );
        assert!(a.mae.budget.saved > 0.0);
    }
}
