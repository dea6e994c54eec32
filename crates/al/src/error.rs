//! What kind of failure an error is, for front-ends that map kinds to their
//! own (an exit status, an HTTP status, a Python exception class). The
//! messages stay the crates' own.

use al_data::DataError;

/// A parameter or value the caller gave that is outside what it allows;
/// the message names it.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct InvalidParameter {
    /// The parameter's name (`batch`, `row_id`, ...).
    pub key: String,
    pub message: String,
}

/// "`key`: `message`".
pub(crate) fn invalid(key: &str, message: &str) -> InvalidParameter {
    refused(key, &format!("{key}: {message}"))
}

/// Refuses a whole number below `least`, naming `key` (every flow's count
/// options: `batch`, `rounds`, `candidates`, ...).
pub(crate) fn at_least(key: &str, value: usize, least: usize) -> anyhow::Result<()> {
    if value < least {
        anyhow::bail!(invalid(key, &format!("expected a whole number >= {least}")));
    }
    Ok(())
}

/// A refusal of `key` whose message already names it.
pub(crate) fn refused(key: &str, message: &str) -> InvalidParameter {
    InvalidParameter {
        key: key.to_string(),
        message: message.to_string(),
    }
}

/// The kinds a front-end tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A bad parameter, spec, option or input cell: the caller's to fix.
    BadInput,
    /// A file that is not there.
    NotFound,
    /// Another process is writing to the project.
    Busy,
    /// Stopped on request (Ctrl-C) before anything was written.
    Interrupted,
    /// Anything else (a model that could not be fitted, a database error).
    Other,
}

/// The kind of `err`, from the first typed cause in its chain.
pub fn error_kind(err: &anyhow::Error) -> ErrorKind {
    for cause in err.chain() {
        if is_interruption(cause) {
            return ErrorKind::Interrupted;
        }
        if cause.is::<InvalidParameter>()
            || cause.is::<al_models::ParamError>()
            || is_spec_error(cause)
        {
            return ErrorKind::BadInput;
        }
        if let Some(data) = cause.downcast_ref::<DataError>() {
            return match data {
                DataError::Busy => ErrorKind::Busy,
                DataError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                    ErrorKind::NotFound
                }
                DataError::Io { .. } | DataError::Sql(_) => ErrorKind::Other,
                _ => ErrorKind::BadInput,
            };
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::NotFound {
                return ErrorKind::NotFound;
            }
        }
    }
    ErrorKind::Other
}

/// A stop asked for, as whichever layer noticed it says.
fn is_interruption(cause: &(dyn std::error::Error + 'static)) -> bool {
    use al_models::ModelError as M;
    use al_query::QueryError as Q;
    matches!(
        cause.downcast_ref::<DataError>(),
        Some(DataError::Interrupted)
    ) || matches!(
        cause.downcast_ref::<Q>(),
        Some(Q::Interrupted | Q::Model(M::Interrupted))
    ) || matches!(cause.downcast_ref::<M>(), Some(M::Interrupted))
        || cause.is::<crate::simulate::Interrupted>()
}

/// A strategy or model error about the spec or option the caller gave.
fn is_spec_error(cause: &(dyn std::error::Error + 'static)) -> bool {
    use al_models::ModelError as M;
    use al_query::QueryError as Q;
    let model = |m: &M| {
        matches!(
            m,
            M::Param(_)
                | M::UnknownModel { .. }
                | M::PluginParams(_)
                | M::ParamAboveRows { .. }
                | M::TooFewForCoverage { .. }
        )
    };
    match cause.downcast_ref::<Q>() {
        Some(
            Q::Param(_) | Q::UnknownStrategy { .. } | Q::BadOption { .. } | Q::DensityOfDensity,
        ) => true,
        Some(Q::NoUtilities(_)) => true,
        Some(Q::Model(m)) => model(m),
        _ => cause.downcast_ref::<M>().is_some_and(model),
    }
}

/// The error and its causes in one line, skipping a cause its parent
/// already quotes (an I/O error inside "cannot read FILE: ..." would read
/// twice). What every front-end shows.
pub fn error_message(err: &anyhow::Error) -> String {
    let mut text = err.to_string();
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_first_typed_cause() {
        let bad = anyhow::Error::new(invalid("batch", "expected a whole number >= 1"));
        assert_eq!(error_kind(&bad), ErrorKind::BadInput);
        assert_eq!(error_message(&bad), "batch: expected a whole number >= 1");
        let busy = anyhow::Error::new(DataError::Busy).context("cannot label");
        assert_eq!(error_kind(&busy), ErrorKind::Busy);
        let missing = anyhow::Error::new(DataError::Io {
            path: "x.csv".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
        assert_eq!(error_kind(&missing), ErrorKind::NotFound);
        let spec = anyhow::Error::new(al_query::QueryError::UnknownStrategy {
            name: "nope".into(),
            known: "qbc".into(),
        });
        assert_eq!(error_kind(&spec), ErrorKind::BadInput);
        let stopped = anyhow::Error::new(al_query::QueryError::Model(
            al_models::ModelError::Interrupted,
        ))
        .context("cannot query");
        assert_eq!(error_kind(&stopped), ErrorKind::Interrupted);
        let fit = anyhow::Error::new(al_models::ModelError::TooFewRows(1));
        assert_eq!(error_kind(&fit), ErrorKind::Other);
        assert_eq!(error_kind(&anyhow::anyhow!("plain")), ErrorKind::Other);
    }

    #[test]
    fn the_options_are_checked_in_one_place() {
        let query = crate::QueryOptions {
            batch: 0,
            ..crate::QueryOptions::default()
        };
        assert_eq!(
            query.check().unwrap_err().to_string(),
            "batch: expected a whole number >= 1"
        );
        let sim = crate::SimulateOptions {
            init: 1,
            ..crate::SimulateOptions::default()
        };
        assert_eq!(
            sim.check().unwrap_err().to_string(),
            "init: expected a whole number >= 2"
        );
        for budget in [0.5, 101.0, f64::NAN] {
            let sim = crate::SimulateOptions {
                random_budget: budget,
                ..crate::SimulateOptions::default()
            };
            assert_eq!(
                sim.check().unwrap_err().to_string(),
                "random_budget: expected a multiple from 1 to 100"
            );
        }
        let sim = crate::SimulateOptions {
            test_frac: Some(1.0),
            ..crate::SimulateOptions::default()
        };
        assert!(sim
            .check()
            .unwrap_err()
            .to_string()
            .starts_with("test_frac"));
        assert!(crate::SimulateOptions::default().check().is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 86_400.5] {
            let err = crate::Settings::new(bad).unwrap_err();
            assert_eq!(err.key, "plugin_timeout");
            assert_eq!(
                err.to_string(),
                "plugin_timeout: expected seconds in (0, 86400]"
            );
        }
        assert_eq!(
            crate::Settings::new(60.0).unwrap(),
            crate::Settings::default()
        );
        assert!(crate::QueryOptions::default().check().is_ok());
    }
}
