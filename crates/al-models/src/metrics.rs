//! Error metrics and learning-curve summaries.

pub fn mae(truth: &[f64], pred: &[f64]) -> f64 {
    mean(
        truth.iter().zip(pred).map(|(t, p)| (t - p).abs()),
        truth.len(),
    )
}

pub fn mse(truth: &[f64], pred: &[f64]) -> f64 {
    mean(
        truth.iter().zip(pred).map(|(t, p)| (t - p) * (t - p)),
        truth.len(),
    )
}

pub fn rmse(truth: &[f64], pred: &[f64]) -> f64 {
    mse(truth, pred).sqrt()
}

/// Coefficient of determination; 0 when the truth is constant and matched,
/// negative infinity never (a constant truth that is missed gives 0 too, as
/// scikit-learn's `force_finite`).
pub fn r2(truth: &[f64], pred: &[f64]) -> f64 {
    let m = mean(truth.iter().copied(), truth.len());
    let total: f64 = truth.iter().map(|t| (t - m) * (t - m)).sum();
    let residual: f64 = truth.iter().zip(pred).map(|(t, p)| (t - p) * (t - p)).sum();
    if total == 0.0 {
        if residual == 0.0 {
            1.0
        } else {
            0.0
        }
    } else {
        1.0 - residual / total
    }
}

/// Improvement from `before` to `after` in percent of `before` (positive = lower error).
pub fn relative_improvement(before: f64, after: f64) -> f64 {
    if before == 0.0 {
        0.0
    } else {
        (before - after) / before * 100.0
    }
}

/// Area under a learning curve by the trapezoid rule over label counts.
pub fn aulc(labels: &[f64], values: &[f64]) -> f64 {
    labels
        .windows(2)
        .zip(values.windows(2))
        .map(|(x, y)| (x[1] - x[0]) * (y[0] + y[1]) / 2.0)
        .sum()
}

/// A measured value for a table or a line people read: four decimals from
/// 0.001 to a million (as every table has shown them), four significant
/// digits in scientific notation beyond, so that an MAE of 3e-7 does not
/// read 0.0000 and one of 1e140 does not take 141 digits.
pub fn display(v: f64) -> String {
    let size = v.abs();
    if v.is_finite() && v != 0.0 && !(1e-3..1e6).contains(&size) {
        format!("{v:.4e}")
    } else {
        format!("{v:.4}")
    }
}

/// Mean and population standard deviation; NaN for no values. The plain
/// two-pass sums (the same bits as ever for ordinary data); where they
/// overflow (values past about 1e154 square past the largest f64, and sums
/// of values near it pass it), the same sums over the values divided by
/// the largest magnitude, scaled back, which are finite for finite values.
/// The project recipe's `al_data::recipe::mean_std` is the same rule
/// (neither crate depends on the other), so a project and its models scale
/// alike.
pub fn mean_std(values: &[f64]) -> MeanStd {
    if values.is_empty() {
        return MeanStd {
            mean: f64::NAN,
            std: f64::NAN,
        };
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    if mean.is_finite() && var.is_finite() || values.iter().any(|v| !v.is_finite()) {
        return MeanStd {
            mean,
            std: var.sqrt(),
        };
    }
    let scale = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let unit_mean = values.iter().map(|v| v / scale).sum::<f64>() / n;
    let unit_var = values
        .iter()
        .map(|v| (v / scale - unit_mean) * (v / scale - unit_mean))
        .sum::<f64>()
        / n;
    MeanStd {
        mean: unit_mean * scale,
        std: unit_var.sqrt() * scale,
    }
}

/// `(value − mean) / std`; where the difference overflows (values near the
/// largest f64), divided first.
pub fn z_score(value: f64, mean: f64, std: f64) -> f64 {
    let z = (value - mean) / std;
    if z.is_finite() || !value.is_finite() {
        z
    } else {
        value / std - mean / std
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanStd {
    pub mean: f64,
    pub std: f64,
}

/// How an ensemble's members disagree on one row: their standard deviation
/// and their 10th and 90th percentiles (the interval a batch file shows).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub std: f64,
    pub low: f64,
    pub high: f64,
}

/// The spread of `members[m][row]` over the members (at least one).
pub fn member_spread(members: &[Vec<f64>], row: usize) -> Spread {
    let mut v: Vec<f64> = members.iter().map(|m| m[row]).collect();
    let std = mean_std(&v).std;
    v.sort_by(f64::total_cmp);
    let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    Spread {
        std,
        low: q(0.1),
        high: q(0.9),
    }
}

fn mean(values: impl Iterator<Item = f64>, n: usize) -> f64 {
    if n == 0 {
        f64::NAN
    } else {
        values.sum::<f64>() / n as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displayed_values_keep_four_decimals_in_range_and_four_digits_beyond() {
        assert_eq!(display(12.345678), "12.3457");
        assert_eq!(display(0.0), "0.0000");
        assert_eq!(display(-0.5), "-0.5000");
        assert_eq!(display(999_999.0), "999999.0000");
        assert_eq!(display(3.2e-7), "3.2000e-7");
        assert_eq!(display(1.23456e140), "1.2346e140");
        assert_eq!(display(-2_500_000.0), "-2.5000e6");
        assert_eq!(display(f64::NAN), "NaN");
    }

    #[test]
    fn spread_of_members_is_their_std_and_deciles() {
        let members: Vec<Vec<f64>> = (0..11).map(|i| vec![i as f64]).collect();
        let s = member_spread(&members, 0);
        assert_eq!((s.low, s.high), (1.0, 9.0));
        assert!((s.std - 10f64.sqrt()).abs() < 1e-12);
        assert!(mean_std(&[]).mean.is_nan());
        assert_eq!(
            mean_std(&[1.0, 3.0]),
            MeanStd {
                mean: 2.0,
                std: 1.0
            }
        );
    }

    #[test]
    fn known_values() {
        let t = [3.0, -0.5, 2.0, 7.0];
        let p = [2.5, 0.0, 2.0, 8.0];
        assert_eq!(mae(&t, &p), 0.5);
        assert_eq!(mse(&t, &p), 0.375);
        assert!((rmse(&t, &p) - 0.375f64.sqrt()).abs() < 1e-15);
        // scikit-learn's r2_score example gives 0.9486081370449679.
        assert!((r2(&t, &p) - 0.948_608_137_044_967_9).abs() < 1e-12);
        assert_eq!(relative_improvement(200.0, 150.0), 25.0);
        assert_eq!(aulc(&[20.0, 30.0, 40.0], &[10.0, 8.0, 4.0]), 90.0 + 60.0);
    }
}
