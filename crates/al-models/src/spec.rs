//! Model spec strings (`forest:trees=100,max_features=0.33`) and the one
//! registry of models, which the CLI lists and the project stores by name.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use crate::committee::CommitteeParams;
use crate::forest::ForestParams;
use crate::knn::KnnParams;
use crate::linear::LinearParams;
use crate::plugin::{ExternalModel, PluginCommand};
use crate::tree::TreeParams;
use crate::{Fit, ModelError};

/// One parameter a model takes.
#[derive(Debug, Clone, Copy)]
pub struct ParamInfo {
    pub key: &'static str,
    pub default: &'static str,
    pub help: &'static str,
}

/// A registered model: how the CLI names, documents and builds it.
#[derive(Clone, Copy)]
pub struct ModelInfo {
    pub name: &'static str,
    pub description: &'static str,
    pub params: &'static [ParamInfo],
    pub build: fn(&Params) -> Result<Box<dyn Fit>, ModelError>,
}

const fn param(key: &'static str, default: &'static str, help: &'static str) -> ParamInfo {
    ParamInfo { key, default, help }
}

/// Every built-in model. Adding one is one entry here.
pub static MODELS: &[ModelInfo] = &[
    ModelInfo {
        name: "forest",
        description: "random forest of bootstrapped regression trees (per-tree predictions)",
        params: &[
            param("trees", "100", "number of trees"),
            param(
                "max_features",
                "1.0",
                "fraction of features tried per split",
            ),
            param("min_leaf", "1", "fewest training rows in a leaf"),
            param(
                "depth",
                "none",
                "levels of splits at most (none = grow fully)",
            ),
            param(
                "bootstrap",
                "true",
                "draw each tree's rows with replacement",
            ),
        ],
        build: |p| {
            Ok(Box::new(ForestParams {
                trees: p.usize("trees")?.max(1),
                bootstrap: p.bool("bootstrap")?,
                tree: TreeParams {
                    max_depth: p.depth("depth")?,
                    min_samples_leaf: p.usize("min_leaf")?.max(1),
                    max_features: p.fraction("max_features")?,
                },
            }))
        },
    },
    ModelInfo {
        name: "tree",
        description: "one regression tree (CART, squared error)",
        params: &[
            param(
                "depth",
                "none",
                "levels of splits at most, as in scikit-learn",
            ),
            param("min_leaf", "1", "fewest training rows in a leaf"),
        ],
        build: |p| {
            Ok(Box::new(TreeParams {
                max_depth: p.depth("depth")?,
                min_samples_leaf: p.usize("min_leaf")?.max(1),
                max_features: 1.0,
            }))
        },
    },
    ModelInfo {
        name: "linear",
        description: "ordinary least squares with intercept",
        params: &[],
        build: |_| Ok(Box::new(LinearParams::ols())),
    },
    ModelInfo {
        name: "ridge",
        description: "least squares with an L2 penalty on the coefficients",
        params: &[param("alpha", "1.0", "penalty strength")],
        build: |p| Ok(Box::new(LinearParams::ridge(p.non_negative("alpha")?))),
    },
    ModelInfo {
        name: "knn",
        description: "mean target of the k nearest rows on standardised features",
        params: &[param("k", "5", "neighbours")],
        build: |p| {
            Ok(Box::new(KnnParams {
                k: p.usize("k")?.max(1),
            }))
        },
    },
    ModelInfo {
        name: "committee",
        description:
            "the article's committee: tree (depth 5) + forest (10 trees) + linear, averaged",
        params: &[],
        build: |_| Ok(Box::new(CommitteeParams::default())),
    },
];

/// A parsed spec: a registered name and its parameters, defaults filled in;
/// or the name of an external model plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSpec {
    name: String,
    params: BTreeMap<String, String>,
    external: Option<PluginCommand>,
}

/// Finds external model plugins by name (set once, by the program).
pub type ModelResolver = dyn Fn(&str) -> Option<PluginCommand> + Send + Sync;

static EXTERNAL_MODELS: OnceLock<Box<ModelResolver>> = OnceLock::new();

/// Lets specs name external model plugins; the first call wins.
pub fn set_model_resolver(resolver: Box<ModelResolver>) {
    let _ = EXTERNAL_MODELS.set(resolver);
}

/// Parameter values of one spec, looked up by key.
pub struct Params<'a> {
    model: &'a str,
    values: &'a BTreeMap<String, String>,
}

impl Params<'_> {
    fn raw(&self, key: &str) -> &str {
        self.values.get(key).map(String::as_str).unwrap_or("")
    }

    fn bad(&self, key: &str, what: &str) -> ModelError {
        ModelError::Spec(format!(
            "{}: {key}={:?} is not {what}",
            self.model,
            self.raw(key)
        ))
    }

    pub fn usize(&self, key: &str) -> Result<usize, ModelError> {
        self.raw(key)
            .parse()
            .map_err(|_| self.bad(key, "a whole number"))
    }

    pub fn fraction(&self, key: &str) -> Result<f64, ModelError> {
        match self.raw(key).parse::<f64>() {
            Ok(v) if v > 0.0 && v <= 1.0 => Ok(v),
            _ => Err(self.bad(key, "a fraction in (0, 1]")),
        }
    }

    pub fn non_negative(&self, key: &str) -> Result<f64, ModelError> {
        match self.raw(key).parse::<f64>() {
            Ok(v) if v >= 0.0 && v.is_finite() => Ok(v),
            _ => Err(self.bad(key, "a non-negative number")),
        }
    }

    pub fn bool(&self, key: &str) -> Result<bool, ModelError> {
        match self.raw(key) {
            "true" | "yes" | "1" => Ok(true),
            "false" | "no" | "0" => Ok(false),
            _ => Err(self.bad(key, "true or false")),
        }
    }

    pub fn depth(&self, key: &str) -> Result<Option<usize>, ModelError> {
        match self.raw(key) {
            "none" | "" => Ok(None),
            v => v
                .parse()
                .map(Some)
                .map_err(|_| self.bad(key, "a whole number or none")),
        }
    }
}

pub fn model_info(name: &str) -> Option<&'static ModelInfo> {
    MODELS.iter().find(|m| m.name == name)
}

impl ModelSpec {
    /// Parses `name` or `name:key=value,key=value`.
    pub fn parse(spec: &str) -> Result<ModelSpec, ModelError> {
        let spec = spec.trim();
        let (name, rest) = spec.split_once(':').unwrap_or((spec, ""));
        let Some(info) = model_info(name) else {
            if let Some(plugin) = EXTERNAL_MODELS.get().and_then(|r| r(name)) {
                if !rest.is_empty() {
                    return Err(ModelError::Spec(format!(
                        "model plugin {name:?} takes no parameters in its spec"
                    )));
                }
                return Ok(ModelSpec {
                    name: name.to_string(),
                    params: BTreeMap::new(),
                    external: Some(plugin),
                });
            }
            return Err(ModelError::Spec(format!(
                "unknown model {name:?}; the models are: {} (see `al-cli models`; external ones are executables named al-model-NAME on PATH)",
                MODELS.iter().map(|m| m.name).collect::<Vec<_>>().join(", ")
            )));
        };
        let mut params: BTreeMap<String, String> = info
            .params
            .iter()
            .map(|p| (p.key.to_string(), p.default.to_string()))
            .collect();
        for pair in rest.split(',').filter(|s| !s.trim().is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| ModelError::Spec(format!("{name}: {pair:?} is not key=value")))?;
            let k = k.trim();
            if !params.contains_key(k) {
                let valid: Vec<&str> = info.params.iter().map(|p| p.key).collect();
                return Err(ModelError::Spec(format!(
                    "{name} has no parameter {k:?}; its parameters are: {}",
                    if valid.is_empty() {
                        "none".to_string()
                    } else {
                        valid.join(", ")
                    }
                )));
            }
            params.insert(k.to_string(), v.trim().to_string());
        }
        let parsed = ModelSpec {
            name: name.to_string(),
            params,
            external: None,
        };
        parsed.build()?;
        Ok(parsed)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn info(&self) -> &'static ModelInfo {
        model_info(&self.name).unwrap_or(&MODELS[0])
    }

    /// The learner this spec describes.
    pub fn build(&self) -> Result<Box<dyn Fit>, ModelError> {
        if let Some(plugin) = &self.external {
            return Ok(Box::new(ExternalModel {
                plugin: plugin.clone(),
            }));
        }
        (self.info().build)(&Params {
            model: &self.name,
            values: &self.params,
        })
    }
}

/// Canonical form, every parameter spelled out in the registry's order: what
/// the project stores.
impl fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name)?;
        if self.external.is_some() {
            return Ok(());
        }
        let info = self.info();
        for (i, p) in info.params.iter().enumerate() {
            let sep = if i == 0 { ':' } else { ',' };
            write!(f, "{sep}{}={}", p.key, self.params[p.key])?;
        }
        Ok(())
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
            e.contains("forest, tree, linear, ridge, knn, committee"),
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
    }
}
