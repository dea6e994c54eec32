//! A per-row strategy's utility as a value: fitted once on the labeled
//! rows, then applied to any chunk of candidates, here or on another
//! machine.
//!
//! The per-row strategies (`random`, `tree-variance`, `committee`, `qbc`,
//! `emcm`) build a [`RowScorer`] and score the pool a chunk at a time with
//! it; a distributed query (docs/scaling.md) ships the same scorer as bytes
//! ([`RowScorer::to_bytes`]) to workers that score their partitions with
//! [`RowScorer::score`], so a pool scored in pieces gets the utilities it
//! gets in one piece, bit for bit.

use al_models::fitted::{FittedModel, EXPORTABLE};
use al_models::tree::Tree;
use al_models::{derive_seed, Matrix, Predict};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::pool::{score_in_chunks, Pool};
use crate::strategies::{member_variance, predict_each, Fitted};
use crate::QueryError;

/// What a per-row strategy fitted, ready to score candidates.
pub struct RowScorer<'a> {
    kind: Kind<'a>,
}

enum Kind<'a> {
    /// Seeded uniform draws, one per position in the candidate order.
    Random { seed: u64 },
    /// The variance of the training targets in the candidate's leaf.
    LeafVariance(Tree),
    /// The square of the model's own spread (a forest's trees).
    SpreadSquared(Fitted<'a>),
    /// The variance of one model's members (the article's committee).
    MemberVariance(Box<dyn Predict>),
    /// The variance across separately fitted models (a bootstrap committee).
    FitVariance(Vec<Box<dyn Predict>>),
    /// Expected model change: |f(x) - f_k(x)| · ||(1, x)|| averaged over a
    /// bootstrap committee (Cai, Zhang & Zhou 2013).
    ModelChange {
        main: Box<dyn Predict>,
        committee: Vec<Box<dyn Predict>>,
    },
}

/// [`Kind`] as data: models in their exported form.
#[derive(Serialize, Deserialize)]
enum Data {
    Random {
        seed: u64,
    },
    LeafVariance(Tree),
    SpreadSquared(FittedModel),
    MemberVariance(FittedModel),
    FitVariance(Vec<FittedModel>),
    ModelChange {
        main: FittedModel,
        committee: Vec<FittedModel>,
    },
}

/// The seed of `random`'s draws from a query's seed.
fn random_seed(seed: u64) -> u64 {
    derive_seed(seed, 7)
}

impl<'a> RowScorer<'a> {
    pub fn random(seed: u64) -> RowScorer<'static> {
        RowScorer {
            kind: Kind::Random {
                seed: random_seed(seed),
            },
        }
    }

    pub fn leaf_variance(tree: Tree) -> RowScorer<'static> {
        RowScorer {
            kind: Kind::LeafVariance(tree),
        }
    }

    pub(crate) fn spread_squared(model: Fitted<'a>) -> RowScorer<'a> {
        RowScorer {
            kind: Kind::SpreadSquared(model),
        }
    }

    pub fn member_variance(model: Box<dyn Predict>) -> RowScorer<'static> {
        RowScorer {
            kind: Kind::MemberVariance(model),
        }
    }

    pub fn fit_variance(fits: Vec<Box<dyn Predict>>) -> RowScorer<'static> {
        RowScorer {
            kind: Kind::FitVariance(fits),
        }
    }

    pub fn model_change(
        main: Box<dyn Predict>,
        committee: Vec<Box<dyn Predict>>,
    ) -> RowScorer<'static> {
        RowScorer {
            kind: Kind::ModelChange { main, committee },
        }
    }

    /// Utilities of the rows of `x`, which sit at positions `first..` of
    /// the candidate order (only `random` looks at positions: its draws
    /// are a stream read at the row's place in it).
    pub fn score(&self, x: &Matrix, first: usize) -> Result<Vec<f64>, QueryError> {
        Ok(match &self.kind {
            Kind::Random { seed } => {
                let mut rng = ChaCha8Rng::seed_from_u64(*seed);
                // One f64 draw reads one u64: two 32-bit words of the stream.
                rng.set_word_pos(2 * first as u128);
                (0..x.rows()).map(|_| rng.gen::<f64>()).collect()
            }
            Kind::LeafVariance(tree) => x.iter_rows().map(|r| tree.leaf_variance(r)).collect(),
            Kind::SpreadSquared(model) => match model.predict_std(x)? {
                Some(std) => std.iter().map(|s| s * s).collect(),
                None => vec![0.0; x.rows()],
            },
            Kind::MemberVariance(model) => {
                let members = model.predict_members(x)?.unwrap_or_default();
                member_variance(&members, x.rows())
            }
            Kind::FitVariance(fits) => member_variance(&predict_each(fits, x)?, x.rows()),
            Kind::ModelChange { main, committee } => {
                let main = main.predict(x)?;
                let committee = predict_each(committee, x)?;
                x.iter_rows()
                    .enumerate()
                    .map(|(i, row)| {
                        let norm = (1.0 + row.iter().map(|v| v * v).sum::<f64>()).sqrt();
                        let change: f64 = committee.iter().map(|p| (main[i] - p[i]).abs()).sum();
                        change / committee.len() as f64 * norm
                    })
                    .collect()
            }
        })
    }

    /// Utilities of every row of `pool`, a chunk at a time.
    pub fn score_pool(&self, pool: &dyn Pool) -> Result<Vec<f64>, QueryError> {
        let mut first = 0;
        score_in_chunks(pool, |x| {
            let scores = self.score(x, first)?;
            first += x.rows();
            Ok(scores)
        })
    }

    /// The scorer as bytes (MessagePack of its fitted state); refused for
    /// models that have no exported form.
    pub fn to_bytes(&self) -> Result<Vec<u8>, QueryError> {
        let export = |m: &dyn Predict| {
            m.export()
                .ok_or_else(|| QueryError::NotShippable(EXPORTABLE.to_string()))
        };
        let data = match &self.kind {
            Kind::Random { seed } => Data::Random { seed: *seed },
            Kind::LeafVariance(tree) => Data::LeafVariance(tree.clone()),
            Kind::SpreadSquared(model) => Data::SpreadSquared(export(&**model)?),
            Kind::MemberVariance(model) => Data::MemberVariance(export(&**model)?),
            Kind::FitVariance(fits) => Data::FitVariance(
                fits.iter()
                    .map(|f| export(&**f))
                    .collect::<Result<_, _>>()?,
            ),
            Kind::ModelChange { main, committee } => Data::ModelChange {
                main: export(&**main)?,
                committee: committee
                    .iter()
                    .map(|f| export(&**f))
                    .collect::<Result<_, _>>()?,
            },
        };
        rmp_serde::to_vec(&data)
            .map_err(|e| QueryError::Plugin(format!("cannot encode the scorer: {e}")))
    }

    /// A scorer from [`RowScorer::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<RowScorer<'static>, QueryError> {
        let data: Data = rmp_serde::from_slice(bytes)
            .map_err(|e| QueryError::Plugin(format!("not a scorer of this al version: {e}")))?;
        let live = FittedModel::into_predict;
        let all = |models: Vec<FittedModel>| models.into_iter().map(live).collect::<Result<_, _>>();
        Ok(RowScorer {
            kind: match data {
                Data::Random { seed } => Kind::Random { seed },
                Data::LeafVariance(tree) => Kind::LeafVariance(tree),
                Data::SpreadSquared(model) => Kind::SpreadSquared(Fitted::Own(live(model)?)),
                Data::MemberVariance(model) => Kind::MemberVariance(live(model)?),
                Data::FitVariance(fits) => Kind::FitVariance(all(fits)?),
                Data::ModelChange { main, committee } => Kind::ModelChange {
                    main: live(main)?,
                    committee: all(committee)?,
                },
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse_strategy, QueryInput};
    use al_models::ModelSpec;

    fn input<'a>(
        lx: &'a Matrix,
        ly: &'a [f64],
        pool: &'a Matrix,
        spec: &'a ModelSpec,
    ) -> QueryInput<'a> {
        QueryInput {
            labeled_x: lx,
            labeled_y: ly,
            candidates: pool,
            model: spec,
            batch: 5,
            seed: 3,
            max_candidates: 500,
            fitted: None,
        }
    }

    fn data() -> (Matrix, Vec<f64>, Matrix) {
        let rows: Vec<Vec<f64>> = (0..40)
            .map(|i| vec![i as f64 / 4.0, ((i * 7) % 5) as f64])
            .collect();
        let y = rows
            .iter()
            .map(|r| (r[0] * 1.3).sin() * 4.0 + r[1])
            .collect();
        let pool = Matrix::from_rows(
            &(0..300)
                .map(|i| vec![(i % 50) as f64 / 5.0, (i % 7) as f64])
                .collect::<Vec<_>>(),
        );
        (Matrix::from_rows(&rows), y, pool)
    }

    /// A pool scored in uneven pieces, by a scorer that went through bytes,
    /// gets the utilities the whole pool gets here: what a distributed
    /// query relies on.
    #[test]
    fn every_per_row_strategy_scores_pieces_through_bytes_as_the_whole() {
        let (lx, ly, pool) = data();
        for (strategy, model) in [
            ("random", "forest"),
            ("tree-variance", "forest"),
            ("committee", "forest"),
            ("qbc", "forest:trees=20"),
            ("qbc", "linear"),
            ("emcm", "forest"),
        ] {
            let spec = ModelSpec::parse(model).unwrap();
            let input = input(&lx, &ly, &pool, &spec);
            let s = parse_strategy(strategy).unwrap();
            let whole = s.utilities(&input).unwrap().unwrap();
            let bytes = s.row_scorer(&input).unwrap().unwrap().to_bytes().unwrap();
            let shipped = RowScorer::from_bytes(&bytes).unwrap();
            let mut pieces = vec![];
            for (start, end) in [(0, 7), (7, 150), (150, 151), (151, 300)] {
                let x = pool.select(&(start..end).collect::<Vec<_>>());
                pieces.extend(shipped.score(&x, start).unwrap());
            }
            assert_eq!(whole, pieces, "{strategy} with {model}");
            assert!(whole.iter().any(|&u| u > 0.0), "{strategy}: {whole:?}");
        }
    }

    #[test]
    fn a_model_without_a_byte_form_is_refused_by_name() {
        let (lx, ly, pool) = data();
        let spec = ModelSpec::parse("gp").unwrap();
        let input = input(&lx, &ly, &pool, &spec);
        let scorer = parse_strategy("qbc")
            .unwrap()
            .row_scorer(&input)
            .unwrap()
            .unwrap();
        let err = scorer.to_bytes().err().unwrap().to_string();
        assert!(
            err.contains("no byte form") && err.contains("forest"),
            "{err}"
        );
        assert!(RowScorer::from_bytes(b"not a scorer").is_err());
    }
}
