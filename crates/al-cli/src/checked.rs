//! The numeric options, checked where clap parses them: a value outside its
//! range stops the command with a usage error (exit status 2) that names the
//! option, the value and what is allowed, before anything is read or
//! written. No command clamps a value afterwards.

/// A whole number of at least 1 (`--batch`, `--rounds`, `--n`, ...).
pub fn count(s: &str) -> Result<usize, String> {
    at_least(s, 1)
}

/// A whole number of at least 2 (`simulate --init`: a model needs two rows).
pub fn at_least_two(s: &str) -> Result<usize, String> {
    at_least(s, 2)
}

fn at_least(s: &str, min: usize) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n >= min => Ok(n),
        Ok(_) => Err(format!("expected a whole number >= {min}")),
        Err(_) => Err(format!("{s:?} is not a whole number >= {min}")),
    }
}

fn number(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("{s:?} is not a finite number")),
    }
}

/// Minutes from a few seconds to a day (`serve --lease`).
pub fn lease_minutes(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    (0.05..=1440.0)
        .contains(&v)
        .then_some(v)
        .ok_or_else(|| "expected minutes from 0.05 to 1440".into())
}

/// Any finite number (`--threshold`, `--min`, `--max`).
pub fn finite(s: &str) -> Result<f64, String> {
    number(s)
}

/// A share strictly between 0 and 1 (`simulate --test-frac`).
pub fn open_share(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    (v > 0.0 && v < 1.0)
        .then_some(v)
        .ok_or_else(|| "expected a share in (0, 1)".into())
}

/// A share in [0, 1) (`init --test-frac`: 0 holds nothing out).
pub fn held_out_share(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    (0.0..1.0)
        .contains(&v)
        .then_some(v)
        .ok_or_else(|| "expected a share in [0, 1)".into())
}

/// A share in (0, 1] (`--budget`).
pub fn share(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    (v > 0.0 && v <= 1.0)
        .then_some(v)
        .ok_or_else(|| "expected a share in (0, 1]".into())
}

/// A fraction in [0, 1] (`--numeric-threshold`).
pub fn fraction(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    (0.0..=1.0)
        .contains(&v)
        .then_some(v)
        .ok_or_else(|| "expected a fraction in [0, 1]".into())
}

/// A multiple from 1 to 100 (`simulate --random-budget`).
pub fn multiple(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    (1.0..=100.0)
        .contains(&v)
        .then_some(v)
        .ok_or_else(|| "expected a multiple from 1 to 100".into())
}

/// A coverage level in (0, 1), as `0.9` or `90%` (`--coverage`); the
/// rule is `al::Coverage`'s, shared with the workbench and Python.
pub fn coverage(s: &str) -> Result<al::Coverage, String> {
    al::Coverage::parse(s).map_err(|e| e.to_string())
}

/// A share in [0, 1), as `0.1` or `10%` (`query --audit`); the rule is
/// `al::AuditShare`'s, shared with Python.
pub fn audit(s: &str) -> Result<al::AuditShare, String> {
    al::AuditShare::parse(s).map_err(|e| e.to_string())
}

/// A share in (0, 1), as `0.01` or `1%` (`--stop-below`); the rule is
/// `al::StopBelow`'s.
pub fn stop_below(s: &str) -> Result<al::StopBelow, String> {
    al::StopBelow::parse(s).map_err(|e| e.to_string())
}

/// Seconds in (0, 86 400] (`--plugin-timeout`); the range is
/// `al::Settings::new`'s, shared with Python.
pub fn seconds(s: &str) -> Result<al::Settings, String> {
    al::Settings::new(number(s)?).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_checker_refuses_what_is_outside_its_range() {
        for bad in ["0", "-1", "NaN", "1e300", "x", "1.5", ""] {
            assert!(count(bad).is_err(), "{bad}");
        }
        assert_eq!(count("3"), Ok(3));
        assert!(at_least_two("1").is_err());
        for bad in ["0", "1", "1.5", "-0.1", "NaN", "inf"] {
            assert!(open_share(bad).is_err(), "{bad}");
        }
        assert_eq!(open_share("0.25"), Ok(0.25));
        assert_eq!(held_out_share("0"), Ok(0.0));
        assert!(held_out_share("1").is_err());
        assert_eq!(share("1"), Ok(1.0));
        assert!(share("0").is_err());
        assert!(finite("inf").is_err());
        assert_eq!(finite("-2.5"), Ok(-2.5));
        assert!(seconds("1e300").is_err());
        assert!(seconds("0").is_err());
        for bad in ["0.99", "0", "101", "NaN", "inf", "x"] {
            assert!(multiple(bad).is_err(), "{bad}");
        }
        assert_eq!(multiple("1"), Ok(1.0));
        assert_eq!(multiple("2.5"), Ok(2.5));
        for bad in ["1.5", "-0.1", "NaN", "1", "x"] {
            assert!(audit(bad).is_err(), "{bad}");
        }
        assert_eq!(audit("10%").map(|a| a.share()), Ok(0.1));
    }
}
