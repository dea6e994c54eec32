//! Model plugins: fitting keeps the rows; each prediction sends them with
//! the rows to predict and checks the answer. A failing plugin fails the
//! call that asked ([`Predict`] returns a `Result`).

use al_models::{check_training, Fit, Matrix, ModelError, Predict};
use serde::Deserialize;

use crate::process::{check_numbers, write_matrix, PluginCommand, PROTOCOL};

/// A model run as an external program.
#[derive(Debug, Clone)]
pub struct ExternalModel {
    pub plugin: PluginCommand,
}

struct ExternalFitted {
    plugin: PluginCommand,
    x: Matrix,
    y: Vec<f64>,
    seed: u64,
}

#[derive(Deserialize)]
struct Predictions {
    predictions: Vec<Option<f64>>,
}

impl Fit for ExternalModel {
    fn fit(&self, x: &Matrix, y: &[f64], seed: u64) -> Result<Box<dyn Predict>, ModelError> {
        check_training(x, y)?;
        Ok(Box::new(ExternalFitted {
            plugin: self.plugin.clone(),
            x: x.clone(),
            y: y.to_vec(),
            seed,
        }))
    }
}

impl ExternalFitted {
    fn try_predict(&self, x: &Matrix) -> Result<Vec<f64>, String> {
        let dir = tempfile::tempdir()
            .map_err(|e| self.plugin.fail(format!("no temporary directory: {e}")))?;
        let (train, predict) = (dir.path().join("train.csv"), dir.path().join("predict.csv"));
        write_matrix(&train, &self.x, Some(&self.y))
            .and_then(|()| write_matrix(&predict, x, None))
            .map_err(|e| {
                self.plugin
                    .fail(format!("cannot write its input files: {e}"))
            })?;
        let request = serde_json::json!({
            "protocol": PROTOCOL, "kind": "model", "train": train, "predict": predict,
            "n_train": self.x.rows(), "n_predict": x.rows(), "n_features": x.cols(), "seed": self.seed,
        });
        let out = self.plugin.exchange(&format!("{request}\n"))?;
        let answer: Predictions = self.plugin.parse(&out)?;
        check_numbers(&self.plugin, "prediction(s)", &answer.predictions, x.rows())
    }
}

impl Predict for ExternalFitted {
    fn predict(&self, x: &Matrix) -> Result<Vec<f64>, ModelError> {
        self.try_predict(x).map_err(ModelError::Plugin)
    }
}
