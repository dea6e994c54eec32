//! Membership query synthesis: new points, generated where the committee
//! disagrees most, that stay inside the data's support.
//!
//! Points live in the compact space of the recipe (a number per numeric
//! column, a level index per categorical column), so every one-hot group
//! keeps exactly one level and every number stays within its column's
//! observed range and precision. Candidates start from real rows
//! (interpolation between two rows plus a small perturbation), then a short
//! local search keeps the perturbations that raise the utility. The labels
//! never come from the model itself: an annotator or an oracle gives them.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One compact column: the recipe's own description (one type for the
/// data layer and synthesis).
pub use al_data::recipe::SynthDim as Dim;

/// The shape of the compact space.
#[derive(Debug, Clone)]
pub struct Space {
    pub dims: Vec<Dim>,
}

impl Space {
    /// The compact space of a project's recipe.
    pub fn of(recipe: &al_data::Recipe) -> Space {
        Space {
            dims: recipe.synthesis_dims(),
        }
    }

    /// Missing numbers and unseen levels of real rows take the column's
    /// fill value (a numeric column's imputation, a categorical column's
    /// first allowed level), so interpolation starts from real values.
    pub fn fill_missing(&self, rows: &mut [Vec<f64>]) {
        for row in rows {
            for (v, d) in row.iter_mut().zip(&self.dims) {
                match d {
                    Dim::Numeric { fill, .. } if v.is_nan() => *v = *fill,
                    Dim::Categorical { allowed } if *v < 0.0 || v.is_nan() => {
                        *v = allowed.first().copied().unwrap_or(0) as f64
                    }
                    _ => {}
                }
            }
        }
    }
}

/// Utility of a batch of compact points (higher is more worth labeling),
/// or why the model behind it could not score them.
pub type Utility<'a> = &'a dyn Fn(&[Vec<f64>]) -> Result<Vec<f64>, crate::QueryError>;

impl Space {
    /// Snaps a point into the space: numbers into range and onto the grid,
    /// categories onto an allowed level.
    pub fn clamp(&self, point: &mut [f64]) {
        for (v, d) in point.iter_mut().zip(&self.dims) {
            match d {
                Dim::Numeric { min, max, step, .. } => {
                    let snapped = if *step > 0.0 {
                        (*v / step).round() * step
                    } else {
                        *v
                    };
                    *v = snapped.clamp(*min, *max);
                }
                Dim::Categorical { allowed } => {
                    let level = *v as usize;
                    if !allowed.contains(&level) {
                        *v = allowed.first().copied().unwrap_or(0) as f64;
                    }
                }
            }
        }
    }

    fn perturb(&self, point: &[f64], scale: f64, flip: f64, rng: &mut ChaCha8Rng) -> Vec<f64> {
        let mut p = point.to_vec();
        for (v, d) in p.iter_mut().zip(&self.dims) {
            match d {
                Dim::Numeric { std, .. } => *v += scale * std * (rng.gen::<f64>() * 2.0 - 1.0),
                Dim::Categorical { allowed } => {
                    if rng.gen::<f64>() < flip {
                        if let Some(l) = allowed.choose(rng) {
                            *v = *l as f64;
                        }
                    }
                }
            }
        }
        self.clamp(&mut p);
        p
    }

    fn interpolate(&self, a: &[f64], b: &[f64], rng: &mut ChaCha8Rng) -> Vec<f64> {
        let t: f64 = rng.gen();
        let mut p: Vec<f64> = a
            .iter()
            .zip(b)
            .zip(&self.dims)
            .map(|((x, y), d)| match d {
                Dim::Numeric { .. } => x + t * (y - x),
                Dim::Categorical { .. } => {
                    if rng.gen::<bool>() {
                        *x
                    } else {
                        *y
                    }
                }
            })
            .collect();
        self.clamp(&mut p);
        p
    }
}

/// `n` distinct synthetic points with their utilities, best first.
pub fn synthesize(
    space: &Space,
    real: &[Vec<f64>],
    n: usize,
    seed: u64,
    utility: Utility,
) -> Result<Vec<(Vec<f64>, f64)>, crate::QueryError> {
    if real.is_empty() || n == 0 {
        return Ok(vec![]);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let start = (40 * n).max(200);
    let mut points: Vec<Vec<f64>> = (0..start)
        .map(|_| {
            let a = &real[rng.gen_range(0..real.len())];
            let b = &real[rng.gen_range(0..real.len())];
            let p = space.interpolate(a, b, &mut rng);
            space.perturb(&p, 0.05, 0.05, &mut rng)
        })
        .collect();
    let mut scores = utility(&points)?;
    // Keep the best 4n and refine each by a short local search.
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&i, &j| scores[j].total_cmp(&scores[i]).then(i.cmp(&j)));
    order.truncate(4 * n);
    points = order.iter().map(|&i| points[i].clone()).collect();
    scores = order.iter().map(|&i| scores[i]).collect();
    for step in 0..5 {
        let scale = 0.2 / (1.0 + step as f64);
        let proposals: Vec<Vec<f64>> = points
            .iter()
            .map(|p| space.perturb(p, scale, 0.1, &mut rng))
            .collect();
        let proposal_scores = utility(&proposals)?;
        for (k, (p, s)) in proposals.into_iter().zip(proposal_scores).enumerate() {
            if s > scores[k] {
                points[k] = p;
                scores[k] = s;
            }
        }
    }
    let mut ranked: Vec<(Vec<f64>, f64)> = points.into_iter().zip(scores).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranked.dedup_by(|a, b| a.0 == b.0);
    ranked.truncate(n);
    Ok(ranked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space() -> Space {
        Space {
            dims: vec![
                Dim::Numeric {
                    min: 0.0,
                    max: 10.0,
                    std: 3.0,
                    step: 0.5,
                    fill: 5.0,
                },
                Dim::Categorical {
                    allowed: vec![0, 2],
                },
            ],
        }
    }

    #[test]
    fn points_stay_in_range_on_the_grid_with_allowed_levels() {
        let real = vec![vec![1.0, 0.0], vec![9.0, 2.0], vec![4.5, 2.0]];
        // Utility: distance from 5, so the search runs to the edges.
        let u = |ps: &[Vec<f64>]| Ok(ps.iter().map(|p| (p[0] - 5.0).abs()).collect());
        let out = synthesize(&space(), &real, 5, 1, &u).unwrap();
        assert_eq!(out.len(), 5);
        for (p, _) in &out {
            assert!((0.0..=10.0).contains(&p[0]));
            assert_eq!((p[0] / 0.5).fract(), 0.0);
            assert!(p[1] == 0.0 || p[1] == 2.0);
        }
        assert!(
            out[0].1 >= 4.5,
            "the search should reach an edge: {:?}",
            out[0]
        );
        assert_eq!(
            out,
            synthesize(&space(), &real, 5, 1, &u).unwrap(),
            "seeded"
        );
    }
}
