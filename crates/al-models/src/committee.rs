//! The article's committee: a decision tree of depth 5, a random forest of
//! 10 trees and a linear regression. Its prediction is the mean of the three
//! and the spread of the three is its uncertainty.

use rayon::prelude::*;

use crate::forest::ForestParams;
use crate::linear::LinearParams;
use crate::matrix::Matrix;
use crate::spec::ModelInfo;
use crate::tree::{Binned, Tree, TreeParams};
use crate::{check_training, derive_seed, Fit, ModelError, Predict};

/// The registry entry of `committee`.
pub static INFO: ModelInfo = ModelInfo {
    name: "committee",
    description: "the article's committee: tree (depth 5) + forest (10 trees) + linear, averaged",
    library: "al",
    params: &[],
    build: |_| Box::new(CommitteeParams::default()),
};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CommitteeParams {
    pub tree_depth: usize,
    pub forest_trees: usize,
}

impl Default for CommitteeParams {
    fn default() -> Self {
        CommitteeParams {
            tree_depth: 5,
            forest_trees: 10,
        }
    }
}

impl Fit for CommitteeParams {
    fn fit(&self, x: &Matrix, y: &[f64], seed: u64) -> Result<Box<dyn Predict>, ModelError> {
        check_training(x, y)?;
        // One binning serves both tree members: expected model change fits
        // a committee per candidate, hundreds of times per query.
        let binned = Binned::new(x);
        let tree_params = TreeParams::default().depth(Some(self.tree_depth));
        let tree = Tree::fit(
            &binned,
            y,
            &vec![1.0; y.len()],
            &tree_params,
            derive_seed(seed, 0),
        );
        let forest = ForestParams::default()
            .trees(self.forest_trees)
            .fit_binned(&binned, y, derive_seed(seed, 1))?;
        let linear = LinearParams::ols().fit_linear(x, y)?;
        Ok(Box::new(Committee {
            members: vec![Box::new(tree), Box::new(forest), Box::new(linear)],
        }))
    }
}

/// A fitted committee.
pub struct Committee {
    members: Vec<Box<dyn Predict>>,
}

impl Committee {
    pub(crate) fn from_members(members: Vec<Box<dyn Predict>>) -> Committee {
        Committee { members }
    }
}

impl Predict for Committee {
    fn predict(&self, x: &Matrix) -> Result<Vec<f64>, ModelError> {
        let all: Vec<Vec<f64>> = self
            .members
            .par_iter()
            .map(|m| m.predict(x))
            .collect::<Result<_, _>>()?;
        Ok((0..x.rows())
            .map(|i| all.iter().map(|p| p[i]).sum::<f64>() / all.len() as f64)
            .collect())
    }

    fn predict_members(&self, x: &Matrix) -> Result<Option<Vec<Vec<f64>>>, ModelError> {
        self.members
            .par_iter()
            .map(|m| m.predict(x))
            .collect::<Result<_, _>>()
            .map(Some)
    }

    fn export(&self) -> Option<crate::fitted::FittedModel> {
        let members = self
            .members
            .iter()
            .map(|m| m.export())
            .collect::<Option<_>>()?;
        Some(crate::fitted::FittedModel::Committee(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_members_whose_mean_is_the_prediction() {
        let rows: Vec<Vec<f64>> = (0..200).map(|i| vec![i as f64, (i % 9) as f64]).collect();
        let y: Vec<f64> = rows.iter().map(|r| r[0] * 0.5 + r[1] * r[1]).collect();
        let x = Matrix::from_rows(&rows);
        let c = CommitteeParams::default().fit(&x, &y, 3).unwrap();
        let members = c.predict_members(&x).unwrap().unwrap();
        assert_eq!(members.len(), 3);
        let p = c.predict(&x).unwrap();
        for i in 0..x.rows() {
            let m = (members[0][i] + members[1][i] + members[2][i]) / 3.0;
            assert!((m - p[i]).abs() < 1e-9);
        }
    }
}
