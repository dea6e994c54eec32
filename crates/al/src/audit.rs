//! A random audit share of each batch (`query --audit 0.1`): rows drawn
//! uniformly from the pool beside the strategy's picks and marked as such,
//! so that the error a project without held-out rows reports can be checked
//! without assuming anything about how the picks were made
//! ([`al_models::pool_error`] pools the estimate with their verdict).

use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::error::refused;
use crate::InvalidParameter;

/// The share of a batch drawn at random, in [0, 1): 0 draws none; 1 would
/// leave nothing to the strategy (that is `--strategy random`).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct AuditShare(f64);

impl AuditShare {
    const EXPECTED: &'static str =
        "audit: expected a share of the batch in [0, 1), such as 0.1 or 10% (0: no audit rows)";

    /// Refuses anything outside [0, 1) and NaN.
    pub fn new(share: f64) -> Result<AuditShare, InvalidParameter> {
        if (0.0..1.0).contains(&share) {
            Ok(AuditShare(share))
        } else {
            Err(refused("audit", Self::EXPECTED))
        }
    }

    /// `0.1` or `10%`.
    pub fn parse(text: &str) -> Result<AuditShare, InvalidParameter> {
        crate::parse_share(text)
            .ok_or_else(|| refused("audit", Self::EXPECTED))
            .and_then(AuditShare::new)
    }

    pub fn share(self) -> f64 {
        self.0
    }

    /// How many of a `batch` are audit rows: `share × batch` rounded down,
    /// plus one more with the probability of the fraction left (seeded), so
    /// that over rounds the audit is the asked share of the labels even when
    /// a batch is small (0.1 of a batch of 5 draws one row every other round
    /// on average).
    pub fn rows(self, batch: usize, seed: u64) -> usize {
        let exact = self.0 * batch as f64;
        let whole = exact.floor();
        let mut rng = ChaCha8Rng::seed_from_u64(al_models::derive_seed(seed, AUDIT_SEED));
        let extra = rng.gen::<f64>() < exact - whole;
        (whole as usize + usize::from(extra)).min(batch)
    }

    /// Which of `pool` candidate rows (indexes) are drawn for a batch of
    /// `batch`, uniformly at random, in draw order.
    pub fn draw(self, pool: usize, batch: usize, seed: u64) -> Vec<usize> {
        let count = self.rows(batch, seed).min(pool);
        if count == 0 {
            return Vec::new();
        }
        let mut rng = ChaCha8Rng::seed_from_u64(al_models::derive_seed(seed, AUDIT_SEED + 1));
        sample(&mut rng, pool, count).into_vec()
    }
}

/// Tags the audit's random streams apart from the strategy's.
const AUDIT_SEED: u64 = 0xa0d1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_outside_zero_to_one_are_refused_by_name() {
        for bad in [-0.1, 1.0, 1.5, f64::NAN, f64::INFINITY] {
            let e = AuditShare::new(bad).unwrap_err();
            assert!(e.to_string().contains("audit"), "{e}");
        }
        assert_eq!(AuditShare::parse("10%").unwrap().share(), 0.1);
        assert_eq!(AuditShare::parse("0").unwrap().share(), 0.0);
        assert!(AuditShare::parse("x").is_err());
    }

    #[test]
    fn whole_shares_draw_exactly_and_fractions_on_average() {
        let tenth = AuditShare::new(0.1).unwrap();
        assert_eq!(tenth.rows(20, 3), 2);
        assert_eq!(AuditShare::default().rows(20, 3), 0);
        // 0.1 of 5 is 0.5: one row in about half the rounds.
        let drawn: usize = (0..1000).map(|seed| tenth.rows(5, seed)).sum();
        assert!((450..=550).contains(&drawn), "{drawn}");
    }

    #[test]
    fn the_draw_is_seeded_distinct_and_inside_the_pool() {
        let share = AuditShare::new(0.25).unwrap();
        let rows = share.draw(100, 20, 9);
        assert_eq!(rows.len(), 5);
        assert_eq!(rows, share.draw(100, 20, 9));
        assert_ne!(rows, share.draw(100, 20, 10));
        let mut sorted = rows.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 5);
        assert!(rows.iter().all(|&r| r < 100));
        // A pool smaller than the draw gives all of it.
        assert_eq!(share.draw(3, 20, 9).len(), 3);
    }
}
