//! Fitted models as data, so a model fitted once on the labeled rows can be
//! shipped to machines that score a pool (Spark executors; docs/scaling.md)
//! and predict there exactly as it does here.
//!
//! The models written in this crate have a form here; a model from
//! another crate (Gaussian process, SVR, gradient boosting) or an external
//! plugin answers `None` from [`crate::Predict::export`], and callers say
//! which models can be shipped. A model fitted by a front end in its own
//! language (a Python user's estimator) travels as that front end's bytes,
//! [`FittedModel::External`], read back by the reader the front end
//! registers ([`set_external_reader`]) in the process that scores. The byte
//! format around it (a magic, a version, a checksum, what the model was
//! fitted on) is the caller's.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::committee::Committee;
use crate::elasticnet::LinearFunction;
use crate::forest::Forest;
use crate::glm::Glm;
use crate::knn::Knn;
use crate::linear::Linear;
use crate::tree::Tree;
use crate::{ModelError, Predict};

/// A fitted model's whole state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum FittedModel {
    Tree(Tree),
    Forest(Forest),
    Linear(Linear),
    Knn(Knn),
    /// Elastic net, lasso: a linear function of standardised features.
    LinearFunction(LinearFunction),
    Glm(LinearFunction),
    Committee(Vec<FittedModel>),
    /// A model fitted outside this crate's models, as the bytes its front
    /// end wrote (`format` names them: `python-pickle`).
    External {
        format: String,
        bytes: Vec<u8>,
    },
}

/// The models that have a [`FittedModel`] form, for messages.
pub const EXPORTABLE: &str = "tree, forest, linear, ridge, knn, committee, elasticnet, lasso, glm, and a Python estimator that pickles (model=est without raw=True)";

/// Turns a [`FittedModel::External`]'s format and bytes into a model.
pub type ExternalReader = fn(&str, &[u8]) -> Result<Box<dyn Predict>, ModelError>;

static EXTERNAL_READER: OnceLock<ExternalReader> = OnceLock::new();

/// Registers the reader of external models for this process (the first
/// registration holds: a front end registers once, when it loads).
pub fn set_external_reader(reader: ExternalReader) {
    let _ = EXTERNAL_READER.set(reader);
}

impl FittedModel {
    /// The model again, ready to predict; an external model needs its
    /// front end's reader in this process.
    pub fn into_predict(self) -> Result<Box<dyn Predict>, ModelError> {
        Ok(match self {
            FittedModel::Tree(m) => Box::new(m),
            FittedModel::Forest(m) => Box::new(m),
            FittedModel::Linear(m) => Box::new(m),
            FittedModel::Knn(m) => Box::new(m),
            FittedModel::LinearFunction(m) => Box::new(m),
            FittedModel::Glm(m) => Box::new(Glm(m)),
            FittedModel::Committee(members) => Box::new(Committee::from_members(
                members
                    .into_iter()
                    .map(FittedModel::into_predict)
                    .collect::<Result<_, _>>()?,
            )),
            FittedModel::External { format, bytes } => {
                let reader = EXTERNAL_READER.get().ok_or_else(|| {
                    ModelError::Plugin(format!(
                        "this model was fitted outside al's own models ({format}); score it where its front end runs (the al Python package reads python-pickle)"
                    ))
                })?;
                reader(&format, &bytes)?
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Matrix, ModelSpec};

    /// Every exportable model predicts the same bits after a round trip
    /// through bytes, members and spread included.
    #[test]
    fn exported_models_predict_the_same_bits_after_a_round_trip() {
        let rows: Vec<Vec<f64>> = (0..60)
            .map(|i| vec![i as f64, ((i * 7) % 11) as f64, (i as f64 * 0.3).sin()])
            .collect();
        let y: Vec<f64> = rows
            .iter()
            .map(|r| r[0] * 0.5 + r[1] * r[2] + 3.0)
            .collect();
        let x = Matrix::from_rows(&rows);
        let probe = Matrix::from_rows(&[vec![3.5, 2.0, 0.1], vec![70.0, -4.0, 0.9]]);
        for spec in [
            "tree",
            "forest:trees=7",
            "linear",
            "ridge",
            "knn",
            "committee",
            "elasticnet",
            "lasso",
            "glm",
        ] {
            let model = ModelSpec::parse(spec).unwrap().build().unwrap();
            let fitted = model
                .fit(
                    &x,
                    &(y.iter().map(|v| v.abs() + 1.0).collect::<Vec<_>>()),
                    5,
                )
                .unwrap();
            let exported = fitted
                .export()
                .unwrap_or_else(|| panic!("{spec} has no export"));
            let bytes = rmp_serde::to_vec(&exported).unwrap();
            let back: FittedModel = rmp_serde::from_slice(&bytes).unwrap();
            let back = back.into_predict().unwrap();
            assert_eq!(
                fitted.predict(&probe).unwrap(),
                back.predict(&probe).unwrap(),
                "{spec}"
            );
            assert_eq!(
                fitted.predict_std(&probe).unwrap(),
                back.predict_std(&probe).unwrap(),
                "{spec}"
            );
        }
    }

    #[test]
    fn models_of_other_crates_say_they_have_no_export() {
        let x = Matrix::from_rows(&(0..20).map(|i| vec![i as f64]).collect::<Vec<_>>());
        let y: Vec<f64> = (0..20).map(|i| i as f64 * 2.0).collect();
        let gp = ModelSpec::parse("gp")
            .unwrap()
            .build()
            .unwrap()
            .fit(&x, &y, 0)
            .unwrap();
        assert!(gp.export().is_none());
    }

    #[test]
    fn an_external_model_without_its_reader_is_refused_by_name() {
        // No reader is registered in this crate's tests.
        let external = FittedModel::External {
            format: "python-pickle".into(),
            bytes: vec![1, 2, 3],
        };
        let refused = external.into_predict().err().unwrap().to_string();
        assert!(refused.contains("python-pickle"), "{refused}");
    }
}
