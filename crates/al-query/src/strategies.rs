//! The built-in strategies. References are in docs/strategies.md.

use al_models::committee::CommitteeParams;
use al_models::forest::{Forest, ForestParams};
use al_models::linear::LinearParams;
use al_models::tree::TreeParams;
use al_models::{derive_seed, Fit, Matrix, Predict};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::distance::{mean_knn_distance, squared};
use crate::{top_k, QueryError, QueryInput, Selection, Strategy};

fn fit_model(input: &QueryInput) -> Result<Box<dyn Predict>, QueryError> {
    Ok(input
        .model
        .build()?
        .fit(input.labeled_x, input.labeled_y, input.seed)?)
}

/// Population variance across members, per row. Two passes that each read
/// one member's predictions front to back (cache-friendly for 100 trees ×
/// 100 000 rows).
pub(crate) fn member_variance(members: &[Vec<f64>], rows: usize) -> Vec<f64> {
    let m = members.len().max(1) as f64;
    let mut mean = vec![0.0; rows];
    for p in members {
        for (a, v) in mean.iter_mut().zip(p) {
            *a += v;
        }
    }
    mean.iter_mut().for_each(|a| *a /= m);
    let mut var = vec![0.0; rows];
    for p in members {
        for ((s, v), mu) in var.iter_mut().zip(p).zip(&mean) {
            *s += (v - mu) * (v - mu);
        }
    }
    var.iter_mut().for_each(|s| *s /= m);
    var
}

/// `members` fits of `learner` on bootstrap resamples of the labeled rows.
fn bootstrap_predictions(
    learner: &dyn Fit,
    input: &QueryInput,
    members: usize,
) -> Result<Vec<Vec<f64>>, QueryError> {
    let n = input.labeled_y.len();
    (0..members)
        .into_par_iter()
        .map(|m| {
            let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(input.seed, 1000 + m as u64));
            let idx: Vec<usize> = (0..n).map(|_| rng.gen_range(0..n)).collect();
            let y: Vec<f64> = idx.iter().map(|&i| input.labeled_y[i]).collect();
            let model = learner.fit(
                &input.labeled_x.select(&idx),
                &y,
                derive_seed(input.seed, m as u64),
            )?;
            Ok(model.predict(input.candidates))
        })
        .collect()
}

/// The baseline: a seeded random batch.
pub struct Random;

impl Strategy for Random {
    fn name(&self) -> String {
        "random".into()
    }
    fn utilities(&self, input: &QueryInput) -> Option<Result<Vec<f64>, QueryError>> {
        let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(input.seed, 7));
        Some(Ok((0..input.candidates.rows())
            .map(|_| rng.gen::<f64>())
            .collect()))
    }
}

/// The article's decision-tree uncertainty: the variance of the training
/// targets in the leaf a candidate falls into.
pub struct TreeVariance {
    pub depth: Option<usize>,
}

impl Strategy for TreeVariance {
    fn name(&self) -> String {
        "tree-variance".into()
    }
    fn utilities(&self, input: &QueryInput) -> Option<Result<Vec<f64>, QueryError>> {
        Some((|| {
            let tree = TreeParams::default().depth(self.depth).fit_tree(
                input.labeled_x,
                input.labeled_y,
                input.seed,
            )?;
            Ok(input
                .candidates
                .iter_rows()
                .map(|r| tree.leaf_variance(r))
                .collect())
        })())
    }
}

/// The article's query by committee: variance of the predictions of its
/// tree (depth 5), 10-tree forest and linear regression.
pub struct CommitteeVariance;

impl Strategy for CommitteeVariance {
    fn name(&self) -> String {
        "committee".into()
    }
    fn utilities(&self, input: &QueryInput) -> Option<Result<Vec<f64>, QueryError>> {
        Some((|| {
            let model =
                CommitteeParams::default().fit(input.labeled_x, input.labeled_y, input.seed)?;
            let members = model.predict_members(input.candidates).unwrap_or_default();
            Ok(member_variance(&members, input.candidates.rows()))
        })())
    }
}

/// Query by committee over any ensemble: the members of `--model` when it
/// has them (a forest's trees), else a bootstrap committee of `--model`.
pub struct Qbc {
    pub members: usize,
}

impl Strategy for Qbc {
    fn name(&self) -> String {
        "qbc".into()
    }
    fn utilities(&self, input: &QueryInput) -> Option<Result<Vec<f64>, QueryError>> {
        Some((|| {
            let model = fit_model(input)?;
            let members = match model.predict_members(input.candidates) {
                Some(m) if m.len() > 1 => m,
                _ => bootstrap_predictions(&*input.model.build()?, input, self.members)?,
            };
            Ok(member_variance(&members, input.candidates.rows()))
        })())
    }
}

/// Expected model change maximisation (Cai, Zhang & Zhou 2013) for a linear
/// model: the mean over a bootstrap committee of the norm of the squared-loss
/// gradient a candidate would add, |f(x) - f_k(x)| * ||(1, x)||.
pub struct Emcm {
    pub members: usize,
}

impl Strategy for Emcm {
    fn name(&self) -> String {
        "emcm".into()
    }
    fn utilities(&self, input: &QueryInput) -> Option<Result<Vec<f64>, QueryError>> {
        Some((|| {
            let linear = LinearParams::ols();
            let main = linear
                .fit(input.labeled_x, input.labeled_y, input.seed)?
                .predict(input.candidates);
            let committee = bootstrap_predictions(&linear, input, self.members)?;
            Ok(input
                .candidates
                .iter_rows()
                .enumerate()
                .map(|(i, x)| {
                    let norm = (1.0 + x.iter().map(|v| v * v).sum::<f64>()).sqrt();
                    let change: f64 = committee.iter().map(|p| (main[i] - p[i]).abs()).sum();
                    change / committee.len().max(1) as f64 * norm
                })
                .collect())
        })())
    }
}

/// The article's expected model change: refit with the candidate added at its
/// predicted label and measure the mean change of predictions on a reference
/// sample. Bounded to `--candidates` candidates (a seeded sample); cheap
/// one-row refits where the model has them, full refits otherwise.
pub struct EmcRetrain {
    pub reference: usize,
}

impl Strategy for EmcRetrain {
    fn name(&self) -> String {
        "emc-retrain".into()
    }
    fn utilities(&self, input: &QueryInput) -> Option<Result<Vec<f64>, QueryError>> {
        Some(self.scores(input))
    }
}

/// A seeded sample of `k` of `0..n`, in increasing order.
fn sample_sorted(n: usize, k: usize, seed: u64) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut idx = rand::seq::index::sample(&mut rng, n, k.min(n)).into_vec();
    idx.sort_unstable();
    idx
}

impl EmcRetrain {
    fn scores(&self, input: &QueryInput) -> Result<Vec<f64>, QueryError> {
        let n = input.candidates.rows();
        let learner = input.model.build()?;
        let model = learner.fit(input.labeled_x, input.labeled_y, input.seed)?;
        let scored = sample_sorted(n, input.max_candidates.max(1), derive_seed(input.seed, 11));
        let reference = input.candidates.select(&sample_sorted(
            n,
            self.reference,
            derive_seed(input.seed, 12),
        ));
        let before = model.predict(&reference);
        let guesses = model.predict(&input.candidates.select(&scored));
        let changes: Vec<f64> = scored
            .par_iter()
            .zip(guesses.par_iter())
            .map(|(&c, &guess)| {
                let x = input.candidates.row(c);
                let refit = match model.refit_with(x, guess) {
                    Some(m) => m,
                    None => {
                        let mut xs = input.labeled_x.clone();
                        xs.push_row(x);
                        let mut ys = input.labeled_y.to_vec();
                        ys.push(guess);
                        learner.fit(&xs, &ys, input.seed)?
                    }
                };
                let after = refit.predict(&reference);
                Ok(before
                    .iter()
                    .zip(&after)
                    .map(|(a, b)| (a - b).abs())
                    .sum::<f64>()
                    / before.len().max(1) as f64)
            })
            .collect::<Result<_, QueryError>>()?;
        // Candidates left out of the sample rank below every scored one.
        let mut scores = vec![f64::NEG_INFINITY; n];
        for (&c, s) in scored.iter().zip(changes) {
            scores[c] = s;
        }
        Ok(scores)
    }
}

/// Which space greedy sampling measures distances in (Wu, Lin & Huang 2019).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GreedySpace {
    /// GSx: feature space only.
    Features,
    /// GSy: output space, predictions against known and already-picked targets.
    Outputs,
    /// iGS: the product of both distances.
    Both,
}

/// Greedy sampling: repeatedly pick the candidate farthest from everything
/// labeled or already picked in this batch (picked rows count with their
/// predicted target). Memory is linear in the pool: one running minimum per
/// candidate, never a pairwise matrix.
pub struct Greedy {
    pub space: GreedySpace,
}

impl Strategy for Greedy {
    fn name(&self) -> String {
        match self.space {
            GreedySpace::Features => "gsx",
            GreedySpace::Outputs => "gsy",
            GreedySpace::Both => "igs",
        }
        .into()
    }

    fn query(&self, input: &QueryInput) -> Result<Vec<Selection>, QueryError> {
        let c = input.candidates;
        if c.rows() == 0 {
            return Err(QueryError::NoCandidates);
        }
        let pred = if self.space == GreedySpace::Features {
            vec![0.0; c.rows()]
        } else {
            fit_model(input)?.predict(c)
        };
        // The distance of candidate `i` to a reference row (features, target):
        // for iGS the product per pair, minimised over pairs, as in Wu et al.
        let pair = |i: usize, row: &[f64], y: f64| match self.space {
            GreedySpace::Features => squared(c.row(i), row).sqrt(),
            GreedySpace::Outputs => (pred[i] - y).abs(),
            GreedySpace::Both => squared(c.row(i), row).sqrt() * (pred[i] - y).abs(),
        };
        let lx = input.labeled_x;
        let mut d: Vec<f64> = (0..c.rows())
            .into_par_iter()
            .map(|i| {
                (0..lx.rows())
                    .map(|j| pair(i, lx.row(j), input.labeled_y[j]))
                    .fold(f64::INFINITY, f64::min)
            })
            .collect();
        let mut picked = Vec::with_capacity(input.batch);
        let mut taken = vec![false; c.rows()];
        for _ in 0..input.batch.min(c.rows()) {
            // Highest distance; ties go to the lower index.
            let best = (0..c.rows())
                .filter(|&i| !taken[i])
                .fold(None::<usize>, |b, i| match b {
                    Some(j) if d[j] >= d[i] => Some(j),
                    _ => Some(i),
                });
            let Some(b) = best else { break };
            picked.push(Selection {
                index: b,
                score: d[b],
            });
            taken[b] = true;
            let (row, yb) = (c.row(b).to_vec(), pred[b]);
            d.par_iter_mut()
                .enumerate()
                .for_each(|(i, di)| *di = di.min(pair(i, &row, yb)));
        }
        Ok(picked)
    }
}

/// The article's density-weighted uncertainty: a base strategy's utility
/// times density = 1 / mean distance to the `k` nearest candidates (against a
/// seeded sample of at most `reference` candidates, to stay linear in the pool).
pub struct Density {
    pub base: Box<dyn Strategy>,
    pub k: usize,
    pub reference: usize,
}

impl Density {
    pub fn densities(&self, input: &QueryInput) -> Vec<f64> {
        let c = input.candidates;
        let (reference, same) = if c.rows() <= self.reference {
            (c.clone(), true)
        } else {
            let idx = sample_sorted(c.rows(), self.reference, derive_seed(input.seed, 13));
            (c.select(&idx), false)
        };
        mean_knn_distance(c, &reference, self.k.max(1), same)
            .into_iter()
            .map(|d| 1.0 / d.max(1e-12))
            .collect()
    }
}

impl Strategy for Density {
    fn name(&self) -> String {
        format!("density:base={}", self.base.name())
    }
    fn utilities(&self, input: &QueryInput) -> Option<Result<Vec<f64>, QueryError>> {
        let base = match self.base.utilities(input) {
            Some(Ok(u)) => u,
            Some(Err(e)) => return Some(Err(e)),
            None => {
                return Some(Err(QueryError::Spec(format!(
                    "density needs a base strategy with a per-row utility; {} has none",
                    self.base.name()
                ))))
            }
        };
        Some(Ok(base
            .into_iter()
            .zip(self.densities(input))
            .map(|(u, d)| u * d)
            .collect()))
    }
}

/// Batch diversity for any strategy: the top 10 x B candidates by utility,
/// then B of them spread apart by farthest-first traversal starting from the
/// best, so a batch is not ten near-copies.
pub struct Diverse {
    pub inner: Box<dyn Strategy>,
}

impl Strategy for Diverse {
    fn name(&self) -> String {
        self.inner.name()
    }

    fn query(&self, input: &QueryInput) -> Result<Vec<Selection>, QueryError> {
        let utilities = match self.inner.utilities(input) {
            Some(u) => u?,
            // Greedy strategies already spread their batch.
            None => return self.inner.query(input),
        };
        let pool = top_k(&utilities, 10 * input.batch);
        let rows: Vec<&[f64]> = pool.iter().map(|s| input.candidates.row(s.index)).collect();
        let mut dist = vec![f64::INFINITY; pool.len()];
        let mut chosen = Vec::with_capacity(input.batch);
        let mut next = 0;
        while chosen.len() < input.batch.min(pool.len()) {
            chosen.push(pool[next]);
            dist[next] = f64::NEG_INFINITY;
            for (j, r) in rows.iter().enumerate() {
                if dist[j] > f64::NEG_INFINITY {
                    dist[j] = dist[j].min(squared(r, rows[next]));
                }
            }
            // Farthest remaining; ties go to the higher utility (earlier in `pool`).
            next = (0..pool.len()).fold(0, |b, j| if dist[j] > dist[b] { j } else { b });
        }
        Ok(chosen)
    }
}

/// How `cover` weighs the pool rows it tries to cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoverWeight {
    /// Every row counts the same: pure representativeness.
    Uniform,
    /// Rows count by the variance of `--model`'s members there.
    Variance,
}

/// Representative sampling by greedy facility location (k-median): each pick
/// is the candidate that most reduces the summed distance from the pool to
/// its nearest labeled-or-picked row. Unlike GSx (k-center), which runs to
/// the outliers, this favours dense regions not yet covered, so a batch
/// mirrors where the test rows are. Candidates and the covered pool are
/// seeded samples of at most `sample` rows, so the cost is bounded whatever
/// the pool size.
pub struct Cover {
    pub weight: CoverWeight,
    pub sample: usize,
    pub metric: CoverMetric,
}

/// The distance `cover` measures coverage in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoverMetric {
    /// Euclidean on the (standardised) features.
    Features,
    /// Random-forest proximity: 1 - the share of trees in which two rows
    /// fall into the same leaf. Supervised: rows the target does not tell
    /// apart are close, whatever their raw features.
    Forest,
}

/// Pairwise distances between rows `a` and rows `b` (indices into `x`).
fn leaf_ids(forest: &Forest, x: &Matrix, rows: &[usize]) -> Vec<Vec<u32>> {
    rows.par_iter()
        .map(|&i| {
            forest
                .trees()
                .iter()
                .map(|t| t.leaf_index(x.row(i)) as u32)
                .collect()
        })
        .collect()
}

fn proximity_distance(a: &[u32], b: &[u32]) -> f64 {
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    1.0 - same as f64 / a.len().max(1) as f64
}

impl Strategy for Cover {
    fn name(&self) -> String {
        let weight = match self.weight {
            CoverWeight::Uniform => "uniform",
            CoverWeight::Variance => "variance",
        };
        let metric = match self.metric {
            CoverMetric::Features => "features",
            CoverMetric::Forest => "forest",
        };
        format!("cover:weight={weight},metric={metric}")
    }

    fn query(&self, input: &QueryInput) -> Result<Vec<Selection>, QueryError> {
        let c = input.candidates;
        if c.rows() == 0 {
            return Err(QueryError::NoCandidates);
        }
        let cand = sample_sorted(c.rows(), self.sample, derive_seed(input.seed, 21));
        let reference = sample_sorted(c.rows(), self.sample, derive_seed(input.seed, 22));
        let weights: Vec<f64> = match self.weight {
            CoverWeight::Uniform => vec![1.0; reference.len()],
            CoverWeight::Variance => {
                let model = fit_model(input)?;
                let x = c.select(&reference);
                match model.predict_members(&x) {
                    Some(m) if m.len() > 1 => member_variance(&m, x.rows()),
                    _ => member_variance(
                        &bootstrap_predictions(
                            &*input.model.build()?,
                            &QueryInput {
                                candidates: &x,
                                ..*input
                            },
                            10,
                        )?,
                        x.rows(),
                    ),
                }
            }
        };
        let lx = input.labeled_x;
        let (mut covered, dist): (Vec<f64>, Vec<Vec<f64>>) = match self.metric {
            CoverMetric::Features => {
                let covered = reference
                    .par_iter()
                    .map(|&r| {
                        lx.iter_rows()
                            .map(|l| squared(c.row(r), l).sqrt())
                            .fold(f64::INFINITY, f64::min)
                    })
                    .collect();
                // Candidate x reference distances, computed once (bounded by `sample`²).
                let dist = cand
                    .par_iter()
                    .map(|&i| {
                        reference
                            .iter()
                            .map(|&r| squared(c.row(i), c.row(r)).sqrt())
                            .collect()
                    })
                    .collect();
                (covered, dist)
            }
            CoverMetric::Forest => {
                let forest = ForestParams::default().trees(50).fit_forest(
                    lx,
                    input.labeled_y,
                    derive_seed(input.seed, 23),
                )?;
                let all_labeled: Vec<usize> = (0..lx.rows()).collect();
                let lab = leaf_ids(&forest, lx, &all_labeled);
                let refs = leaf_ids(&forest, c, &reference);
                let cands = leaf_ids(&forest, c, &cand);
                let covered = refs
                    .par_iter()
                    .map(|r| {
                        lab.iter()
                            .map(|l| proximity_distance(r, l))
                            .fold(f64::INFINITY, f64::min)
                    })
                    .collect();
                let dist = cands
                    .par_iter()
                    .map(|k| refs.iter().map(|r| proximity_distance(k, r)).collect())
                    .collect();
                (covered, dist)
            }
        };
        let mut taken = vec![false; cand.len()];
        let mut picked = Vec::with_capacity(input.batch);
        for _ in 0..input.batch.min(cand.len()) {
            let gains: Vec<f64> = (0..cand.len())
                .into_par_iter()
                .map(|k| {
                    if taken[k] {
                        return f64::NEG_INFINITY;
                    }
                    dist[k]
                        .iter()
                        .zip(&covered)
                        .zip(&weights)
                        .map(|((d, cov), w)| w * (cov - d).max(0.0))
                        .sum()
                })
                .collect();
            let Some(best) = top_k(&gains, 1).first().copied() else {
                break;
            };
            taken[best.index] = true;
            picked.push(Selection {
                index: cand[best.index],
                score: best.score,
            });
            for (cov, d) in covered.iter_mut().zip(&dist[best.index]) {
                *cov = cov.min(*d);
            }
        }
        Ok(picked)
    }
}

/// Shuffles `0..n` with a seed; for callers that need a random order.
pub fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    v.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use al_models::ModelSpec;

    fn run(
        s: &dyn Strategy,
        lx: &[Vec<f64>],
        ly: &[f64],
        c: &[Vec<f64>],
        batch: usize,
        model: &str,
    ) -> Vec<usize> {
        let spec = ModelSpec::parse(model).unwrap();
        let lx = Matrix::from_rows(lx);
        let c = Matrix::from_rows(c);
        let input = QueryInput {
            labeled_x: &lx,
            labeled_y: ly,
            candidates: &c,
            model: &spec,
            batch,
            seed: 0,
            max_candidates: 500,
        };
        s.query(&input).unwrap().iter().map(|s| s.index).collect()
    }

    #[test]
    fn gsx_picks_the_farthest_point_then_spreads() {
        let labeled = vec![vec![0.0, 0.0], vec![1.0, 0.0]];
        let cands = vec![
            vec![0.5, 0.1],
            vec![10.0, 0.0],
            vec![9.0, 0.0],
            vec![0.0, 5.0],
        ];
        let picked = run(
            &Greedy {
                space: GreedySpace::Features,
            },
            &labeled,
            &[1.0, 2.0],
            &cands,
            3,
            "linear",
        );
        // 10 is farthest; then (0,5) (distance 5) beats 9 (distance 1 to 10).
        assert_eq!(picked, vec![1, 3, 2]);
    }

    #[test]
    fn igs_multiplies_feature_and_output_distances() {
        // Linear model y = x exactly: predictions equal the candidate's x.
        let labeled = vec![vec![0.0], vec![1.0], vec![2.0]];
        let ly = [0.0, 1.0, 2.0];
        let cands = vec![vec![4.0], vec![-3.0], vec![2.5]];
        // Per-pair products |x - x_i| * |f(x) - y_i|, minimised over i:
        // 4 -> min(16, 9, 4) = 4; -3 -> min(9, 16, 25) = 9; 2.5 -> 0.25.
        // -3 first; then 4 keeps min(4, 7 * 7) = 4; 2.5 stays 0.25.
        let picked = run(
            &Greedy {
                space: GreedySpace::Both,
            },
            &labeled,
            &ly,
            &cands,
            3,
            "linear",
        );
        assert_eq!(picked, vec![1, 0, 2]);
    }

    #[test]
    fn gsy_uses_output_distance_only() {
        let labeled = vec![vec![0.0], vec![10.0]];
        let ly = [0.0, 10.0];
        // Predictions 5 (dy 5), 11 (dy 1), -4 (dy 4).
        let cands = vec![vec![5.0], vec![11.0], vec![-4.0]];
        let picked = run(
            &Greedy {
                space: GreedySpace::Outputs,
            },
            &labeled,
            &ly,
            &cands,
            2,
            "linear",
        );
        assert_eq!(picked, vec![0, 2]);
    }

    #[test]
    fn density_on_a_grid_prefers_the_crowded_middle() {
        // A 5x5 unit grid plus an outlier; with a constant base utility the
        // density alone ranks: interior points have 4 neighbours at distance 1.
        let mut cands: Vec<Vec<f64>> = (0..25)
            .map(|i| vec![(i % 5) as f64, (i / 5) as f64])
            .collect();
        cands.push(vec![50.0, 50.0]);
        let d = Density {
            base: Box::new(Random),
            k: 4,
            reference: 1000,
        };
        let c = Matrix::from_rows(&cands);
        let spec = ModelSpec::parse("linear").unwrap();
        let lx = Matrix::from_rows(&[vec![0.0, 0.0], vec![1.0, 1.0]]);
        let input = QueryInput {
            labeled_x: &lx,
            labeled_y: &[0.0, 1.0],
            candidates: &c,
            model: &spec,
            batch: 1,
            seed: 0,
            max_candidates: 500,
        };
        let dens = d.densities(&input);
        assert_eq!(dens[12], 1.0); // the centre: four neighbours at distance 1
        assert_eq!(dens[0], 1.0 / ((1.0 + 1.0 + 2f64.sqrt() + 2.0) / 4.0)); // corner
        assert!(dens[25] < 0.05); // the outlier
    }

    #[test]
    fn diversity_spreads_a_batch_of_near_copies() {
        // Variance-like utilities: three near-copies score highest.
        struct Fixed(Vec<f64>);
        impl Strategy for Fixed {
            fn name(&self) -> String {
                "fixed".into()
            }
            fn utilities(&self, _: &QueryInput) -> Option<Result<Vec<f64>, QueryError>> {
                Some(Ok(self.0.clone()))
            }
        }
        let cands = vec![vec![0.0], vec![0.01], vec![0.02], vec![5.0], vec![9.0]];
        let u = vec![1.0, 0.99, 0.98, 0.5, 0.4];
        let plain = run(
            &Fixed(u.clone()),
            &[vec![1.0], vec![2.0]],
            &[1.0, 2.0],
            &cands,
            2,
            "linear",
        );
        assert_eq!(plain, vec![0, 1]);
        let diverse = run(
            &Diverse {
                inner: Box::new(Fixed(u)),
            },
            &[vec![1.0], vec![2.0]],
            &[1.0, 2.0],
            &cands,
            2,
            "linear",
        );
        assert_eq!(diverse, vec![0, 4]);
    }

    #[test]
    fn every_variance_strategy_is_deterministic_for_a_seed() {
        let lx: Vec<Vec<f64>> = (0..40)
            .map(|i| vec![(i as f64 * 0.37).sin(), (i % 5) as f64])
            .collect();
        let ly: Vec<f64> = lx.iter().map(|r| r[0] * 3.0 + r[1]).collect();
        let c: Vec<Vec<f64>> = (0..60)
            .map(|i| vec![(i as f64 * 0.11).cos(), (i % 7) as f64])
            .collect();
        let strategies: Vec<Box<dyn Strategy>> = vec![
            Box::new(Random),
            Box::new(TreeVariance { depth: Some(5) }),
            Box::new(CommitteeVariance),
            Box::new(Qbc { members: 10 }),
            Box::new(Emcm { members: 8 }),
            Box::new(EmcRetrain { reference: 30 }),
        ];
        for s in &strategies {
            let a = run(&**s, &lx, &ly, &c, 5, "forest:trees=10");
            assert_eq!(a.len(), 5, "{}", s.name());
            assert_eq!(
                a,
                run(&**s, &lx, &ly, &c, 5, "forest:trees=10"),
                "{}",
                s.name()
            );
        }
    }
}
