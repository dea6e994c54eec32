//! Which annotator is looking at which pending row.
//!
//! A row shown to an annotator is leased to them for a few minutes, so
//! several annotators at once each get a different row; a lease that runs
//! out (a closed tab, a lunch break) puts the row back on offer. Leases live
//! in the server's memory only: they decide who is *shown* what, never what
//! is written. Two answers for one row meet in the project file, where the
//! first is kept and a different second one is refused
//! (`al_data::store::answer`).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
struct Lease {
    annotator: String,
    until: Instant,
}

/// The leases of one server, and the rows each annotator skipped.
#[derive(Debug, Default)]
pub struct Leases {
    by_row: HashMap<i64, Lease>,
    skipped: HashMap<String, HashSet<i64>>,
}

/// The row offered to an annotator, and how many pending rows are with
/// others right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer {
    pub row_id: Option<i64>,
    pub with_others: usize,
}

impl Leases {
    /// The row `annotator` should answer next among `pending` (in the
    /// order rows should be answered): the one they already hold, else the
    /// first that nobody holds and they did not skip, else (when they
    /// skipped all that is free) the first free one they skipped. The row
    /// is leased to them until `now + lease_for`.
    pub fn offer(
        &mut self,
        annotator: &str,
        pending: &[i64],
        now: Instant,
        lease_for: Duration,
    ) -> Offer {
        self.by_row.retain(|_, lease| lease.until > now);
        let pending_set: HashSet<i64> = pending.iter().copied().collect();
        self.by_row.retain(|row, _| pending_set.contains(row));
        let with_others = self
            .by_row
            .values()
            .filter(|l| l.annotator != annotator)
            .count();
        let free = |row: &i64| {
            self.by_row
                .get(row)
                .is_none_or(|lease| lease.annotator == annotator)
        };
        let held = pending.iter().copied().find(|row| {
            self.by_row
                .get(row)
                .is_some_and(|lease| lease.annotator == annotator)
        });
        let skipped = self.skipped.get(annotator);
        let was_skipped = |row: &i64| skipped.is_some_and(|s| s.contains(row));
        let choice = held
            .or_else(|| {
                pending
                    .iter()
                    .copied()
                    .find(|row| free(row) && !was_skipped(row))
            })
            .or_else(|| pending.iter().copied().find(free));
        if let Some(row) = choice {
            // Any other row this annotator held goes back on offer: one
            // row per annotator at a time.
            self.by_row
                .retain(|r, lease| *r == row || lease.annotator != annotator);
            self.by_row.insert(
                row,
                Lease {
                    annotator: annotator.to_string(),
                    until: now + lease_for,
                },
            );
            if let Some(s) = self.skipped.get_mut(annotator) {
                s.remove(&row);
            }
        }
        Offer {
            row_id: choice,
            with_others,
        }
    }

    /// `annotator` passes on `row`: it goes back on offer to others and
    /// comes to them again only when nothing else is left.
    pub fn skip(&mut self, annotator: &str, row: i64) {
        if self
            .by_row
            .get(&row)
            .is_some_and(|lease| lease.annotator == annotator)
        {
            self.by_row.remove(&row);
        }
        self.skipped
            .entry(annotator.to_string())
            .or_default()
            .insert(row);
    }

    /// The row is answered (or taken back): whoever held it, holds it no more.
    pub fn release(&mut self, row: i64) {
        self.by_row.remove(&row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEASE: Duration = Duration::from_secs(300);

    #[test]
    fn annotators_at_once_get_different_rows() {
        let mut leases = Leases::default();
        let now = Instant::now();
        let pending = [10, 11, 12];
        let a = leases.offer("a", &pending, now, LEASE);
        let b = leases.offer("b", &pending, now, LEASE);
        let c = leases.offer("c", &pending, now, LEASE);
        let d = leases.offer("d", &pending, now, LEASE);
        assert_eq!(
            [a.row_id, b.row_id, c.row_id, d.row_id],
            [Some(10), Some(11), Some(12), None]
        );
        assert_eq!(d.with_others, 3);
    }

    #[test]
    fn a_reload_shows_the_same_row_and_an_expired_lease_is_offered_again() {
        let mut leases = Leases::default();
        let now = Instant::now();
        let pending = [10, 11];
        assert_eq!(leases.offer("a", &pending, now, LEASE).row_id, Some(10));
        assert_eq!(leases.offer("a", &pending, now, LEASE).row_id, Some(10));
        assert_eq!(leases.offer("b", &pending, now, LEASE).row_id, Some(11));
        let later = now + LEASE + Duration::from_secs(1);
        // a's and b's leases ran out: c is offered the first row.
        assert_eq!(leases.offer("c", &pending, later, LEASE).row_id, Some(10));
    }

    #[test]
    fn a_skipped_row_goes_to_others_and_comes_back_last() {
        let mut leases = Leases::default();
        let now = Instant::now();
        let pending = [10, 11];
        assert_eq!(leases.offer("a", &pending, now, LEASE).row_id, Some(10));
        leases.skip("a", 10);
        assert_eq!(leases.offer("a", &pending, now, LEASE).row_id, Some(11));
        assert_eq!(leases.offer("b", &pending, now, LEASE).row_id, Some(10));
        // Only 11 is left once 10 is answered; a skipped nothing else.
        leases.release(10);
        assert_eq!(leases.offer("a", &[11], now, LEASE).row_id, Some(11));
        // When every free row was skipped, the skipped ones come back.
        leases.skip("a", 11);
        assert_eq!(leases.offer("a", &[11], now, LEASE).row_id, Some(11));
    }

    #[test]
    fn answered_rows_leave_the_leases() {
        let mut leases = Leases::default();
        let now = Instant::now();
        assert_eq!(leases.offer("a", &[10, 11], now, LEASE).row_id, Some(10));
        // 10 was answered elsewhere: it is no longer pending.
        assert_eq!(leases.offer("a", &[11], now, LEASE).row_id, Some(11));
        assert_eq!(leases.offer("b", &[11], now, LEASE).row_id, None);
    }
}
