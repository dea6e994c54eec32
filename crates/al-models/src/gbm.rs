//! Gradient-boosted trees from the `perpetual` crate, as a small ensemble so
//! that committee strategies get a spread.
//!
//! Why perpetual: of the pure-Rust gradient-boosting crates it is the one
//! maintained today (releases through 2026, used from Python and R as well);
//! `gbdt` (last release 0.1.3) and `forust-ml` (0.8, no release since) are
//! not, and `lightgbm`/`xgboost` bindings need a C++ build. Its one knob,
//! `budget`, replaces the learning-rate / rounds / depth search: it stops
//! adding trees by its own generalisation test, which suits the few labels
//! of active learning, where there is no data to tune on.
//!
//! Each of `members` boosters is fitted on a seeded 80 % subsample of the
//! labeled rows (one booster on all rows when `members=1`); the prediction is
//! their mean and their disagreement is the spread `qbc`, `committee` and
//! `cover` use. Each booster runs on one thread and the members in parallel,
//! so the result never depends on the thread count.

use std::borrow::Cow;

use perpetual::objective::Objective;
use perpetual::PerpetualBooster;
use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::matrix::Matrix;
use crate::params::{param, Kind};
use crate::spec::ModelInfo;
use crate::{check_training, derive_seed, Fit, ModelError, Predict};

/// The registry entry of `gbm`.
pub static INFO: ModelInfo = ModelInfo {
    name: "gbm",
    description: "gradient-boosted trees (PerpetualBooster), an ensemble over subsamples",
    library: "perpetual",
    params: &[
        param(
            "budget",
            "1.0",
            Kind::Between {
                min: 0.05,
                max: 5.0,
            },
            "boosting effort: larger fits more trees and finer detail",
        ),
        param(
            "members",
            "5",
            Kind::Count { min: 1, max: 100 },
            "boosters on 80 % subsamples (their spread feeds committee strategies)",
        ),
    ],
    build: |p| {
        Box::new(GbmParams {
            budget: p.real("budget") as f32,
            members: p.count("members"),
        })
    },
};

/// Share of the labeled rows each member of a multi-member ensemble sees.
const SUBSAMPLE: f64 = 0.8;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GbmParams {
    pub budget: f32,
    pub members: usize,
}

impl GbmParams {
    fn fit_member(&self, x: &Matrix, y: &[f64], seed: u64) -> Result<PerpetualBooster, ModelError> {
        let columns = column_major(x);
        let data = perpetual::Matrix::new(&columns, x.rows(), x.cols());
        let mut booster = PerpetualBooster::default()
            .set_objective(Objective::SquaredLoss)
            .set_budget(self.budget)
            .set_num_threads(Some(1))
            .set_seed(seed);
        // Unit weights on purpose: without weights 3.0.0-rc.2 takes its
        // constant-hessian path, which on some splits leaves a child's
        // hessian at zero and its leaf value at -gradient / 1e-8 (leaves of
        // 1e7 on 60 rows of a smooth target, found by the contract suite).
        let weights = vec![1.0; y.len()];
        booster
            .fit(&data, y, Some(&weights), None)
            .map_err(|e| ModelError::Library {
                model: "gbm",
                library: "perpetual",
                message: e.to_string(),
            })?;
        Ok(booster)
    }

    /// The rows member `m` learns from.
    fn member_rows(&self, n: usize, seed: u64, m: usize) -> Vec<usize> {
        if self.members == 1 {
            return (0..n).collect();
        }
        let k = ((n as f64 * SUBSAMPLE).ceil() as usize).clamp(2.min(n), n);
        let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(seed, m as u64));
        let mut rows = sample(&mut rng, n, k).into_vec();
        rows.sort_unstable();
        rows
    }
}

impl Fit for GbmParams {
    fn fit(&self, x: &Matrix, y: &[f64], seed: u64) -> Result<Box<dyn Predict>, ModelError> {
        check_training(x, y)?;
        let scales = ColumnScales::of(x);
        let x = &*scales.apply(x);
        let members = (0..self.members)
            .into_par_iter()
            .map(|m| {
                crate::interrupt::check()?;
                let rows = self.member_rows(y.len(), seed, m);
                let ys: Vec<f64> = rows.iter().map(|&r| y[r]).collect();
                self.fit_member(&x.select(&rows), &ys, derive_seed(seed, 1000 + m as u64))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Box::new(Gbm { members, scales }))
    }
}

/// Columns whose values reach [`ColumnScales::HUGE`] in magnitude, scaled
/// down by [`ColumnScales::FACTOR`] before perpetual sees them: its cuts
/// interpolate between values, which overflowed to infinity for values
/// near the largest f64 and then indexed outside its histogram (found with
/// cells of ±1.8e308). A power of two scales exactly and keeps the order,
/// so the trees split the rows as they would have; ordinary columns are
/// left as they are, bit for bit.
#[derive(Debug, Clone, PartialEq)]
struct ColumnScales(Vec<f64>);

impl ColumnScales {
    /// 2^900, about 8.5e270.
    const HUGE: f64 = 8.452712498170644e270;
    /// 2^-600.
    const FACTOR: f64 = 2.409919865102884e-181;

    fn of(x: &Matrix) -> ColumnScales {
        let mut huge = vec![false; x.cols()];
        for row in x.iter_rows() {
            for (h, v) in huge.iter_mut().zip(row) {
                *h |= v.abs() >= Self::HUGE;
            }
        }
        ColumnScales(
            huge.into_iter()
                .map(|h| if h { Self::FACTOR } else { 1.0 })
                .collect(),
        )
    }

    /// `x` itself when no column is scaled (no copy of a large pool).
    fn apply<'a>(&self, x: &'a Matrix) -> Cow<'a, Matrix> {
        if self.0.iter().all(|&s| s == 1.0) {
            return Cow::Borrowed(x);
        }
        let rows: Vec<Vec<f64>> = x
            .iter_rows()
            .map(|r| r.iter().zip(&self.0).map(|(v, s)| v * s).collect())
            .collect();
        Cow::Owned(Matrix::from_rows(&rows))
    }
}

fn column_major(x: &Matrix) -> Vec<f64> {
    let mut out = Vec::with_capacity(x.rows() * x.cols());
    for j in 0..x.cols() {
        out.extend(x.iter_rows().map(|r| r[j]));
    }
    out
}

/// A fitted ensemble of boosters.
pub struct Gbm {
    members: Vec<PerpetualBooster>,
    /// The training columns' scaling, applied to every row predicted.
    scales: ColumnScales,
}

impl Gbm {
    fn each_member(&self, x: &Matrix) -> Vec<Vec<f64>> {
        let columns = column_major(&self.scales.apply(x));
        let data = perpetual::Matrix::new(&columns, x.rows(), x.cols());
        self.members
            .iter()
            .map(|b| b.predict(&data, false))
            .collect()
    }
}

impl Predict for Gbm {
    fn predict(&self, x: &Matrix) -> Result<Vec<f64>, ModelError> {
        let members = self.each_member(x);
        let m = members.len() as f64;
        Ok((0..x.rows())
            .map(|i| members.iter().map(|p| p[i]).sum::<f64>() / m)
            .collect())
    }

    fn predict_members(&self, x: &Matrix) -> Result<Option<Vec<Vec<f64>>>, ModelError> {
        if self.members.len() < 2 {
            return Ok(None);
        }
        Ok(Some(self.each_member(x)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_a_step_and_its_members_disagree_only_a_little() {
        let rows: Vec<Vec<f64>> = (0..200).map(|i| vec![(i % 20) as f64]).collect();
        let y: Vec<f64> = rows
            .iter()
            .map(|r| if r[0] < 10.0 { 5.0 } else { 15.0 })
            .collect();
        let x = Matrix::from_rows(&rows);
        let model = GbmParams {
            budget: 0.5,
            members: 3,
        }
        .fit(&x, &y, 4)
        .unwrap();
        let mae = crate::metrics::mae(&y, &model.predict(&x).unwrap());
        assert!(mae < 0.5, "MAE {mae} on a step of height 10");
        assert_eq!(model.predict_members(&x).unwrap().unwrap().len(), 3);
    }

    #[test]
    fn columns_near_the_largest_f64_split_as_their_order_says() {
        assert_eq!(ColumnScales::HUGE, 2f64.powi(900));
        assert_eq!(ColumnScales::FACTOR, 2f64.powi(-600));
        // The same step, its feature stretched to ±f64::MAX: perpetual once
        // read outside its histogram here. Scaled by a power of two, the
        // rows keep their order and the step is learned.
        let step: Vec<f64> = (0..200).map(|i| (i % 20) as f64 - 9.5).collect();
        let y: Vec<f64> = step
            .iter()
            .map(|&v| if v < 0.0 { 5.0 } else { 15.0 })
            .collect();
        let params = GbmParams {
            budget: 0.5,
            members: 3,
        };
        let huge = Matrix::from_rows(
            &step
                .iter()
                .map(|v| vec![v / 9.5 * f64::MAX])
                .collect::<Vec<_>>(),
        );
        let model = params.fit(&huge, &y, 4).unwrap();
        let predicted = model.predict(&huge).unwrap();
        assert!(crate::metrics::mae(&y, &predicted) < 0.5, "{predicted:?}");
        let ordinary = Matrix::from_rows(&step.iter().map(|v| vec![*v]).collect::<Vec<_>>());
        assert_eq!(ColumnScales::of(&ordinary), ColumnScales(vec![1.0]));
    }
}
