//! The one parameter language of models, strategies and oracles:
//! `name` or `name:key=value,key=value`.
//!
//! In the manner of linfa's `ParamGuard`, text goes through [`Params::check`]
//! once: unknown keys, repeated keys, values that do not parse and values
//! outside their allowed range are refused there, with a message naming the
//! key, the value and what is allowed. What comes out is checked, so the
//! typed getters cannot fail and no algorithm ever sees an invalid value or
//! clamps one silently.

use std::collections::BTreeMap;
use std::fmt;

/// What values a parameter takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// A whole number in `min..=max`.
    Count { min: usize, max: usize },
    /// A whole number `>= min`, or `none` (no limit).
    CountOrNone { min: usize },
    /// A real number in `(0, 1]`.
    Fraction,
    /// A finite real number `>= 0`.
    NonNegative,
    /// A finite real number `> 0`.
    Positive,
    /// A finite real number `> 0`, or the given word (a default the
    /// algorithm derives from the data, such as `scale`).
    PositiveOr(&'static str),
    /// A real number in `min..=max`.
    Between { min: f64, max: f64 },
    /// `true` or `false` (also `yes`/`no`, `1`/`0`).
    Bool,
    /// One of the listed words.
    Choice(&'static [&'static str]),
    /// Free text checked by the one who reads it (another spec's name).
    Text,
}

/// The bounds in [`Kind::Between`] are finite constants, so equality is
/// total.
impl Eq for Kind {}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Count { min, max } if *max == usize::MAX => {
                write!(f, "a whole number >= {min}")
            }
            Kind::Count { min, max } => write!(f, "a whole number in {min}..={max}"),
            Kind::CountOrNone { min } => write!(f, "a whole number >= {min}, or none"),
            Kind::Fraction => write!(f, "a fraction in (0, 1]"),
            Kind::NonNegative => write!(f, "a finite number >= 0"),
            Kind::Positive => write!(f, "a finite number > 0"),
            Kind::PositiveOr(word) => write!(f, "a finite number > 0, or {word}"),
            Kind::Between { min, max } => write!(f, "a number in [{min}, {max}]"),
            Kind::Bool => write!(f, "true or false"),
            Kind::Choice(words) => write!(f, "one of {}", words.join(", ")),
            Kind::Text => write!(f, "text"),
        }
    }
}

/// One parameter a model, strategy or oracle takes.
#[derive(Debug, Clone, Copy)]
pub struct ParamInfo {
    pub key: &'static str,
    pub default: &'static str,
    pub help: &'static str,
    pub kind: Kind,
}

/// A parameter description, for registry tables.
pub const fn param(
    key: &'static str,
    default: &'static str,
    kind: Kind,
    help: &'static str,
) -> ParamInfo {
    ParamInfo {
        key,
        default,
        help,
        kind,
    }
}

/// A whole number of at least `min`.
pub const fn at_least(min: usize) -> Kind {
    Kind::Count {
        min,
        max: usize::MAX,
    }
}

/// Why a spec's parameters were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error("{owner}: {pair:?} is not key=value")]
    NotKeyValue { owner: String, pair: String },
    #[error("{owner} has no parameter {key:?}; its parameters are: {valid}")]
    UnknownKey {
        owner: String,
        key: String,
        valid: String,
    },
    #[error("{owner}: {key} is given twice")]
    Repeated { owner: String, key: String },
    #[error("{owner}: {key}={value:?} is not {expected}")]
    Invalid {
        owner: String,
        key: String,
        value: String,
        expected: String,
    },
}

/// Splits `name:key=value,...` into the name and the rest (`""` if none).
pub fn split_name(spec: &str) -> (&str, &str) {
    let spec = spec.trim();
    match spec.split_once(':') {
        Some((name, rest)) => (name.trim(), rest.trim()),
        None => (spec, ""),
    }
}

/// Checked parameter values of one spec, every parameter present (defaults
/// filled in), in the order the registry lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    owner: String,
    keys: Vec<&'static str>,
    kinds: Vec<Kind>,
    values: BTreeMap<&'static str, String>,
}

impl Params {
    /// Parses and checks `rest` (the text after `name:`) against `infos`.
    pub fn check(
        owner: &str,
        infos: &'static [ParamInfo],
        rest: &str,
    ) -> Result<Params, ParamError> {
        let mut values: BTreeMap<&'static str, String> = BTreeMap::new();
        for pair in rest.split(',').filter(|p| !p.trim().is_empty()) {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| ParamError::NotKeyValue {
                    owner: owner.to_string(),
                    pair: pair.trim().to_string(),
                })?;
            let (key, value) = (key.trim(), value.trim());
            let info =
                infos
                    .iter()
                    .find(|p| p.key == key)
                    .ok_or_else(|| ParamError::UnknownKey {
                        owner: owner.to_string(),
                        key: key.to_string(),
                        valid: if infos.is_empty() {
                            "none".into()
                        } else {
                            infos.iter().map(|p| p.key).collect::<Vec<_>>().join(", ")
                        },
                    })?;
            if values.contains_key(info.key) {
                return Err(ParamError::Repeated {
                    owner: owner.to_string(),
                    key: key.to_string(),
                });
            }
            values.insert(info.key, value.to_string());
        }
        for info in infos {
            let value = values
                .entry(info.key)
                .or_insert_with(|| info.default.to_string());
            *value = normalise(info, value).map_err(|()| ParamError::Invalid {
                owner: owner.to_string(),
                key: info.key.to_string(),
                value: value.clone(),
                expected: info.kind.to_string(),
            })?;
        }
        Ok(Params {
            owner: owner.to_string(),
            keys: infos.iter().map(|p| p.key).collect(),
            kinds: infos.iter().map(|p| p.kind).collect(),
            values,
        })
    }

    /// Parses a whole spec `name:key=value,...` whose name is `owner`.
    pub fn parse_spec(spec: &str, infos: &'static [ParamInfo]) -> Result<Params, ParamError> {
        let (name, rest) = split_name(spec);
        Params::check(name, infos, rest)
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    fn raw(&self, key: &str) -> &str {
        match self.values.get(key) {
            Some(v) => v,
            None => panic!("{}: no parameter {key:?} was declared", self.owner),
        }
    }

    fn kind(&self, key: &str) -> Kind {
        let i = self.keys.iter().position(|k| *k == key);
        i.map(|i| self.kinds[i])
            .unwrap_or_else(|| panic!("{}: no parameter {key:?} was declared", self.owner))
    }

    /// A [`Kind::Count`] parameter.
    pub fn count(&self, key: &str) -> usize {
        debug_assert!(matches!(self.kind(key), Kind::Count { .. }));
        self.raw(key).parse().expect("checked")
    }

    /// A [`Kind::CountOrNone`] parameter: `None` means no limit.
    pub fn count_or_none(&self, key: &str) -> Option<usize> {
        debug_assert!(matches!(self.kind(key), Kind::CountOrNone { .. }));
        match self.raw(key) {
            "none" => None,
            v => Some(v.parse().expect("checked")),
        }
    }

    /// A [`Kind::Fraction`], [`Kind::NonNegative`], [`Kind::Positive`] or
    /// [`Kind::Between`] parameter.
    pub fn real(&self, key: &str) -> f64 {
        debug_assert!(matches!(
            self.kind(key),
            Kind::Fraction | Kind::NonNegative | Kind::Positive | Kind::Between { .. }
        ));
        self.raw(key).parse().expect("checked")
    }

    /// A [`Kind::PositiveOr`] parameter: `None` when it is the word.
    pub fn real_or_word(&self, key: &str) -> Option<f64> {
        debug_assert!(matches!(self.kind(key), Kind::PositiveOr(_)));
        self.raw(key).parse().ok()
    }

    /// A [`Kind::Bool`] parameter.
    pub fn flag(&self, key: &str) -> bool {
        debug_assert!(matches!(self.kind(key), Kind::Bool));
        self.raw(key) == "true"
    }

    /// A [`Kind::Choice`] or [`Kind::Text`] parameter.
    pub fn text(&self, key: &str) -> &str {
        debug_assert!(matches!(self.kind(key), Kind::Choice(_) | Kind::Text));
        self.raw(key)
    }

    /// Every parameter spelled out: `name:key=value,...` (or just `name`).
    /// Parsing it again gives the same parameters.
    pub fn canonical(&self) -> String {
        let mut out = self.owner.clone();
        for (i, key) in self.keys.iter().enumerate() {
            out.push(if i == 0 { ':' } else { ',' });
            out.push_str(key);
            out.push('=');
            out.push_str(&self.values[key]);
        }
        out
    }
}

/// The value in its one spelling, or `Err` when it is not of the kind.
fn normalise(info: &ParamInfo, value: &str) -> Result<String, ()> {
    let whole = |v: &str| v.parse::<usize>().map_err(|_| ());
    match info.kind {
        Kind::Count { min, max } => {
            let n = whole(value)?;
            (min..=max).contains(&n).then(|| n.to_string()).ok_or(())
        }
        Kind::CountOrNone { min } => match value {
            "none" => Ok("none".into()),
            v => {
                let n = whole(v)?;
                (n >= min).then(|| n.to_string()).ok_or(())
            }
        },
        Kind::Fraction => {
            let v: f64 = value.parse().map_err(|_| ())?;
            (v > 0.0 && v <= 1.0).then(|| v.to_string()).ok_or(())
        }
        Kind::NonNegative => {
            let v: f64 = value.parse().map_err(|_| ())?;
            (v >= 0.0 && v.is_finite()).then(|| v.to_string()).ok_or(())
        }
        Kind::Positive => positive(value),
        Kind::PositiveOr(word) if value == word => Ok(word.to_string()),
        Kind::PositiveOr(_) => positive(value),
        Kind::Between { min, max } => {
            let v: f64 = value.parse().map_err(|_| ())?;
            (min..=max).contains(&v).then(|| v.to_string()).ok_or(())
        }
        Kind::Bool => match value {
            "true" | "yes" | "1" => Ok("true".into()),
            "false" | "no" | "0" => Ok("false".into()),
            _ => Err(()),
        },
        Kind::Choice(words) => words.contains(&value).then(|| value.to_string()).ok_or(()),
        Kind::Text => (!value.is_empty()).then(|| value.to_string()).ok_or(()),
    }
}

fn positive(value: &str) -> Result<String, ()> {
    let v: f64 = value.parse().map_err(|_| ())?;
    (v > 0.0 && v.is_finite()).then(|| v.to_string()).ok_or(())
}

#[cfg(test)]
mod tests {
    use super::*;

    static INFOS: &[ParamInfo] = &[
        param("trees", "100", at_least(1), "trees"),
        param("depth", "none", Kind::CountOrNone { min: 1 }, "depth"),
        param("share", "1.0", Kind::Fraction, "share"),
        param("alpha", "1", Kind::NonNegative, "alpha"),
        param("c", "1", Kind::Positive, "c"),
        param("gamma", "scale", Kind::PositiveOr("scale"), "gamma"),
        param("power", "2", Kind::Between { min: 1.0, max: 3.0 }, "power"),
        param("boot", "yes", Kind::Bool, "bootstrap"),
        param(
            "metric",
            "features",
            Kind::Choice(&["features", "forest"]),
            "metric",
        ),
    ];

    #[test]
    fn defaults_fill_in_and_the_canonical_form_round_trips() {
        let p = Params::parse_spec("m:depth=3, trees=7", INFOS).unwrap();
        assert_eq!(p.count("trees"), 7);
        assert_eq!(p.count_or_none("depth"), Some(3));
        assert_eq!(p.real("share"), 1.0);
        assert!(p.flag("boot"));
        assert_eq!(p.text("metric"), "features");
        let canonical = p.canonical();
        assert_eq!(
            canonical,
            "m:trees=7,depth=3,share=1,alpha=1,c=1,gamma=scale,power=2,boot=true,metric=features"
        );
        assert_eq!(Params::parse_spec(&canonical, INFOS).unwrap(), p);
        assert_eq!(p.real_or_word("gamma"), None);
        let p = Params::parse_spec("m:gamma=0.5,power=1.5", INFOS).unwrap();
        assert_eq!((p.real_or_word("gamma"), p.real("power")), (Some(0.5), 1.5));
    }

    #[test]
    fn every_bad_value_names_its_key_value_and_range() {
        let err = |s: &str| Params::parse_spec(s, INFOS).unwrap_err().to_string();
        assert_eq!(
            err("m:trees=0"),
            "m: trees=\"0\" is not a whole number >= 1"
        );
        assert_eq!(
            err("m:depth=0"),
            "m: depth=\"0\" is not a whole number >= 1, or none"
        );
        assert_eq!(
            err("m:share=1.5"),
            "m: share=\"1.5\" is not a fraction in (0, 1]"
        );
        assert_eq!(
            err("m:share=NaN"),
            "m: share=\"NaN\" is not a fraction in (0, 1]"
        );
        assert_eq!(
            err("m:alpha=-1"),
            "m: alpha=\"-1\" is not a finite number >= 0"
        );
        assert_eq!(
            err("m:alpha=inf"),
            "m: alpha=\"inf\" is not a finite number >= 0"
        );
        assert_eq!(err("m:c=0"), "m: c=\"0\" is not a finite number > 0");
        assert_eq!(
            err("m:gamma=auto"),
            "m: gamma=\"auto\" is not a finite number > 0, or scale"
        );
        assert_eq!(
            err("m:power=0.5"),
            "m: power=\"0.5\" is not a number in [1, 3]"
        );
        assert_eq!(
            err("m:metric=cosine"),
            "m: metric=\"cosine\" is not one of features, forest"
        );
        assert!(err("m:leaves=3").contains("its parameters are: trees, depth"));
        assert_eq!(err("m:trees"), "m: \"trees\" is not key=value");
        assert_eq!(err("m:trees=1,trees=2"), "m: trees is given twice");
        assert_eq!(
            Params::check("n", &[], "k=1").unwrap_err().to_string(),
            "n has no parameter \"k\"; its parameters are: none"
        );
    }
}
