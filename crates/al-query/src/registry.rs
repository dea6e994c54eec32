//! The one registry of strategies: name, description, reference, parameters
//! and a builder. `al-cli strategies` prints it; `--strategy` parses against it.

use std::collections::BTreeMap;

use crate::strategies::{
    CommitteeVariance, Cover, CoverMetric, CoverWeight, Density, EmcRetrain, Emcm, Greedy,
    GreedySpace, Qbc, Random, TreeVariance,
};
use crate::{QueryError, Strategy};

/// What `query` uses without `--strategy`; see docs/strategies.md for why.
pub const DEFAULT_STRATEGY: &str = "cover";

pub struct StrategyInfo {
    pub name: &'static str,
    pub description: &'static str,
    pub reference: &'static str,
    /// `(key, default)` pairs accepted after `name:`.
    pub params: &'static [(&'static str, &'static str)],
    pub build: fn(&Args) -> Result<Box<dyn Strategy>, QueryError>,
}

/// Parameter values of one strategy spec.
pub struct Args {
    name: &'static str,
    values: BTreeMap<String, String>,
}

impl Args {
    /// The raw text of a parameter (its default when not given).
    pub fn get(&self, key: &str) -> &str {
        self.values.get(key).map(String::as_str).unwrap_or("")
    }

    pub fn usize(&self, key: &str) -> Result<usize, QueryError> {
        match self.get(key).parse::<usize>() {
            Ok(v) if v > 0 => Ok(v),
            _ => Err(QueryError::Spec(format!(
                "{}: {key}={:?} is not a positive whole number",
                self.name,
                self.get(key)
            ))),
        }
    }

    pub fn depth(&self, key: &str) -> Result<Option<usize>, QueryError> {
        match self.get(key) {
            "none" => Ok(None),
            _ => self.usize(key).map(Some),
        }
    }
}

pub static STRATEGIES: &[StrategyInfo] = &[
    StrategyInfo {
        name: "random",
        description: "uniform random batch: the baseline every strategy must beat",
        reference: "-",
        params: &[],
        build: |_| Ok(Box::new(Random)),
    },
    StrategyInfo {
        name: "tree-variance",
        description: "variance of the training targets in the candidate's leaf of a decision tree",
        reference: "the article (decision-tree uncertainty sampling)",
        params: &[("depth", "5")],
        build: |a| {
            Ok(Box::new(TreeVariance {
                depth: a.depth("depth")?,
            }))
        },
    },
    StrategyInfo {
        name: "committee",
        description: "variance of the article's committee: tree (depth 5) + forest (10) + linear",
        reference: "Seung, Opper & Sompolinsky 1992; the article",
        params: &[],
        build: |_| Ok(Box::new(CommitteeVariance)),
    },
    StrategyInfo {
        name: "qbc",
        description:
            "variance over the members of --model (a forest's trees), else of a bootstrap committee",
        reference: "Burbidge, Rowland & King 2007",
        params: &[("members", "10")],
        build: |a| {
            Ok(Box::new(Qbc {
                members: a.usize("members")?,
            }))
        },
    },
    StrategyInfo {
        name: "emcm",
        description: "expected model change of a linear model (bootstrap committee, gradient norm)",
        reference: "Cai, Zhang & Zhou 2013",
        params: &[("members", "8")],
        build: |a| {
            Ok(Box::new(Emcm {
                members: a.usize("members")?,
            }))
        },
    },
    StrategyInfo {
        name: "emc-retrain",
        description:
            "refit --model with each candidate at its predicted label; mean change of predictions",
        reference: "the article (expected model change)",
        params: &[("reference", "200")],
        build: |a| {
            Ok(Box::new(EmcRetrain {
                reference: a.usize("reference")?,
            }))
        },
    },
    StrategyInfo {
        name: "gsx",
        description: "greedy sampling in feature space: farthest from everything labeled or picked",
        reference: "Wu, Lin & Huang 2019 (GSx)",
        params: &[],
        build: |_| {
            Ok(Box::new(Greedy {
                space: GreedySpace::Features,
            }))
        },
    },
    StrategyInfo {
        name: "gsy",
        description: "greedy sampling in output space: predictions farthest from known targets",
        reference: "Wu, Lin & Huang 2019 (GSy)",
        params: &[],
        build: |_| {
            Ok(Box::new(Greedy {
                space: GreedySpace::Outputs,
            }))
        },
    },
    StrategyInfo {
        name: "igs",
        description: "greedy sampling in both spaces: product of feature and output distances",
        reference: "Wu, Lin & Huang 2019 (iGS)",
        params: &[],
        build: |_| {
            Ok(Box::new(Greedy {
                space: GreedySpace::Both,
            }))
        },
    },
    StrategyInfo {
        name: "cover",
        description: "representative batch: greedy k-median cover of the pool, weighted by --model's variance",
        reference: "Wu 2018 (representativeness); Nemhauser, Wolsey & Fisher 1978 (greedy facility location)",
        params: &[("weight", "variance"), ("metric", "features"), ("sample", "2000")],
        build: |a| {
            let weight = match a.get("weight") {
                "uniform" => CoverWeight::Uniform,
                "variance" => CoverWeight::Variance,
                other => {
                    return Err(QueryError::Spec(format!(
                        "cover: weight={other:?} is not uniform or variance"
                    )))
                }
            };
            let metric = match a.get("metric") {
                "features" => CoverMetric::Features,
                "forest" => CoverMetric::Forest,
                other => {
                    return Err(QueryError::Spec(format!(
                        "cover: metric={other:?} is not features or forest"
                    )))
                }
            };
            Ok(Box::new(Cover { weight, metric, sample: a.usize("sample")? }))
        },
    },
    StrategyInfo {
        name: "density",
        description:
            "a base strategy's utility times density (1 / mean distance to the k nearest rows)",
        reference: "Settles & Craven 2008; the article",
        params: &[("base", "qbc"), ("k", "5"), ("reference", "500")],
        build: |a| {
            let base = parse_strategy(a.get("base"))?;
            Ok(Box::new(Density {
                base,
                k: a.usize("k")?,
                reference: a.usize("reference")?,
            }))
        },
    },
];

pub fn strategy_info(name: &str) -> Option<&'static StrategyInfo> {
    STRATEGIES.iter().find(|s| s.name == name)
}

/// Resolves names no registered strategy has (external plugins).
pub type Resolver = dyn Fn(&str) -> Option<Result<Box<dyn Strategy>, QueryError>> + Send + Sync;

/// The strategies a program knows: the built-in ones, those of plugin crates
/// added with [`Registry::with`], and external ones found by a resolver.
pub struct Registry {
    entries: Vec<&'static StrategyInfo>,
    external: Option<Box<Resolver>>,
}

impl Registry {
    pub fn builtin() -> Registry {
        Registry {
            entries: STRATEGIES.iter().collect(),
            external: None,
        }
    }

    /// Adds the strategies of a plugin crate (one line per crate).
    pub fn with(mut self, extra: &'static [StrategyInfo]) -> Registry {
        self.entries.extend(extra.iter());
        self
    }

    /// Consulted for names no entry has.
    pub fn with_external(mut self, resolver: Box<Resolver>) -> Registry {
        self.external = Some(resolver);
        self
    }

    pub fn entries(&self) -> &[&'static StrategyInfo] {
        &self.entries
    }

    /// Parses `name` or `name:key=value,...` into a strategy.
    pub fn parse(&self, spec: &str) -> Result<Box<dyn Strategy>, QueryError> {
        let spec = spec.trim();
        let name = spec.split_once(':').map_or(spec, |(n, _)| n);
        match self.entries.iter().find(|s| s.name == name) {
            Some(info) => build(info, spec),
            None => match self.external.as_ref().and_then(|r| r(spec)) {
                Some(found) => found,
                None => Err(QueryError::Spec(format!(
                    "unknown strategy {name:?}; the strategies are: {} (see `al-cli strategies`; external ones are executables named al-strategy-NAME on PATH)",
                    self.entries.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
                ))),
            },
        }
    }
}

/// Parses a built-in strategy spec: `name` or `name:key=value,...`.
pub fn parse_strategy(spec: &str) -> Result<Box<dyn Strategy>, QueryError> {
    Registry::builtin().parse(spec)
}

fn build(info: &'static StrategyInfo, spec: &str) -> Result<Box<dyn Strategy>, QueryError> {
    let name = info.name;
    let rest = spec.split_once(':').map_or("", |(_, r)| r);
    let mut values: BTreeMap<String, String> = info
        .params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    // `density:base=qbc:members=5,k=3` is not supported; keys are flat.
    for pair in rest.split(',').filter(|p| !p.trim().is_empty()) {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| QueryError::Spec(format!("{name}: {pair:?} is not key=value")))?;
        if !values.contains_key(k.trim()) {
            let keys: Vec<&str> = info.params.iter().map(|(k, _)| *k).collect();
            return Err(QueryError::Spec(format!(
                "{name} has no parameter {:?}; its parameters are: {}",
                k.trim(),
                if keys.is_empty() {
                    "none".into()
                } else {
                    keys.join(", ")
                }
            )));
        }
        values.insert(k.trim().to_string(), v.trim().to_string());
    }
    if name == "density" && values.get("base").is_some_and(|b| b.starts_with("density")) {
        return Err(QueryError::Spec(
            "density cannot take density as its base".into(),
        ));
    }
    (info.build)(&Args {
        name: info.name,
        values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_errors_list_the_valid_ones() {
        for s in STRATEGIES {
            assert!(parse_strategy(s.name).unwrap().name().starts_with(s.name));
        }
        assert_eq!(
            parse_strategy("density:base=committee").unwrap().name(),
            "density:base=committee"
        );
        let e = parse_strategy("uncertainty").err().unwrap().to_string();
        assert!(e.contains("random, tree-variance, committee, qbc"), "{e}");
        let e = parse_strategy("qbc:trees=3").err().unwrap().to_string();
        assert!(e.contains("its parameters are: members"), "{e}");
        assert!(parse_strategy("density:base=density").is_err());
        assert!(strategy_info(DEFAULT_STRATEGY).is_some());
    }
}
