//! Model spec strings (`forest:trees=100,max_features=0.33`) and the one
//! registry of models, which the CLI lists and the project stores by name.

use std::fmt;
use std::sync::Arc;

use crate::params::{split_name, ParamInfo, Params};
use crate::{Fit, ModelError};

/// A registered model: how the CLI names, documents and builds it. Each
/// model's entry lives in its own file beside the algorithm.
#[derive(Clone, Copy)]
pub struct ModelInfo {
    pub name: &'static str,
    pub description: &'static str,
    /// Where the algorithm comes from: `al` for the hand-written ones, else
    /// the crate.
    pub library: &'static str,
    pub params: &'static [ParamInfo],
    /// Builds the learner from checked parameters.
    pub build: fn(&Params) -> Box<dyn Fit>,
}

/// Every built-in model. Adding one is its file and one line here.
pub static MODELS: &[&ModelInfo] = &[
    &crate::forest::INFO,
    &crate::tree::INFO,
    &crate::linear::LINEAR,
    &crate::linear::RIDGE,
    &crate::knn::INFO,
    &crate::committee::INFO,
    &crate::gbm::INFO,
    &crate::gp::INFO,
    &crate::elasticnet::ELASTICNET,
    &crate::elasticnet::LASSO,
    &crate::svr::INFO,
    &crate::glm::INFO,
];

/// A parsed spec: a registered name and its checked parameters, defaults
/// filled in; or the name of a model found by a [`ModelResolver`] (an
/// external model plugin).
#[derive(Clone)]
pub struct ModelSpec {
    name: String,
    params: Params,
    external: Option<Arc<dyn Fit>>,
}

/// Finds models no registry entry has, by name (the program's plugins).
/// Passed to [`ModelSpec::parse_with`]; there is no global one.
pub type ModelResolver = dyn Fn(&str) -> Option<Arc<dyn Fit>> + Send + Sync;

impl fmt::Debug for ModelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ModelSpec({self})")
    }
}

/// Two specs are equal when they print alike: the same built-in model with
/// the same parameters, or the same external name.
impl PartialEq for ModelSpec {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string() && self.is_external() == other.is_external()
    }
}

impl Eq for ModelSpec {}

pub fn model_info(name: &str) -> Option<&'static ModelInfo> {
    MODELS.iter().copied().find(|m| m.name == name)
}

impl ModelSpec {
    /// Parses and checks a built-in model's spec: `name` or
    /// `name:key=value,key=value`.
    pub fn parse(spec: &str) -> Result<ModelSpec, ModelError> {
        ModelSpec::parse_with(spec, &|_| None)
    }

    /// As [`ModelSpec::parse`], with names no registry entry has looked up
    /// by `external`.
    pub fn parse_with(spec: &str, external: &ModelResolver) -> Result<ModelSpec, ModelError> {
        let (name, rest) = split_name(spec);
        let Some(info) = model_info(name) else {
            if let Some(model) = external(name) {
                if !rest.is_empty() {
                    return Err(ModelError::PluginParams(name.to_string()));
                }
                return Ok(ModelSpec {
                    name: name.to_string(),
                    params: Params::check(name, &[], "")?,
                    external: Some(model),
                });
            }
            return Err(ModelError::UnknownModel {
                name: name.to_string(),
                known: MODELS.iter().map(|m| m.name).collect::<Vec<_>>().join(", "),
            });
        };
        Ok(ModelSpec {
            name: name.to_string(),
            params: Params::check(name, info.params, rest)?,
            external: None,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The checked parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Whether this spec names an external model plugin.
    pub fn is_external(&self) -> bool {
        self.external.is_some()
    }

    /// The learner this spec describes.
    pub fn build(&self) -> Result<Box<dyn Fit>, ModelError> {
        if let Some(model) = &self.external {
            return Ok(Box::new(Shared(model.clone())));
        }
        let info = model_info(&self.name).ok_or_else(|| ModelError::UnknownModel {
            name: self.name.clone(),
            known: MODELS.iter().map(|m| m.name).collect::<Vec<_>>().join(", "),
        })?;
        Ok((info.build)(&self.params))
    }
}

/// A resolved external model, shared by every build of its spec.
struct Shared(Arc<dyn Fit>);

impl Fit for Shared {
    fn fit(
        &self,
        x: &crate::Matrix,
        y: &[f64],
        seed: u64,
    ) -> Result<Box<dyn crate::Predict>, ModelError> {
        self.0.fit(x, y, seed)
    }

    fn describe(&self) -> Option<serde_json::Value> {
        self.0.describe()
    }
}

/// Canonical form, every parameter spelled out in the registry's order: what
/// the project stores.
impl fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.external.is_some() {
            return write!(f, "{}", self.name);
        }
        write!(f, "{}", self.params.canonical())
    }
}

impl std::str::FromStr for ModelSpec {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, ModelError> {
        ModelSpec::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_canonically() {
        let s = ModelSpec::parse("forest:trees=50,max_features=0.33").unwrap();
        assert_eq!(
            s.to_string(),
            "forest:trees=50,max_features=0.33,min_leaf=1,depth=none,bootstrap=true"
        );
        assert_eq!(ModelSpec::parse(&s.to_string()).unwrap(), s);
        assert_eq!(ModelSpec::parse("linear").unwrap().to_string(), "linear");
        assert_eq!(
            ModelSpec::parse("tree:depth=5").unwrap().to_string(),
            "tree:depth=5,min_leaf=1"
        );
    }

    #[test]
    fn errors_list_what_is_valid() {
        let e = ModelSpec::parse("svm").unwrap_err().to_string();
        assert!(
            e.contains("forest, tree, linear, ridge, knn, committee, gbm, gp"),
            "{e}"
        );
        let e = ModelSpec::parse("forest:leaves=3").unwrap_err().to_string();
        assert!(
            e.contains("trees, max_features, min_leaf, depth, bootstrap"),
            "{e}"
        );
        let e = ModelSpec::parse("forest:max_features=2")
            .unwrap_err()
            .to_string();
        assert!(e.contains("fraction"), "{e}");
        assert!(ModelSpec::parse("linear:alpha=1").is_err());
        // Values a model cannot use are refused once, here, never clamped.
        for bad in [
            "forest:trees=0",
            "forest:min_leaf=0",
            "tree:depth=0",
            "knn:k=0",
            "ridge:alpha=-1",
            "ridge:alpha=NaN",
        ] {
            assert!(ModelSpec::parse(bad).is_err(), "{bad}");
        }
    }
}
