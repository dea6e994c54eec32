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
    /// The row `annotator` should answer next: the one they hold while
    /// `is_pending` says it still is, else the first of `pending` (rows in
    /// the order they should be answered, read only as far as needed) that
    /// nobody else holds and they did not skip, else the first free one
    /// they skipped. The row is leased to them until `now + lease_for`.
    pub fn offer(
        &mut self,
        annotator: &str,
        pending: impl IntoIterator<Item = i64>,
        is_pending: impl FnOnce(i64) -> bool,
        now: Instant,
        lease_for: Duration,
    ) -> Offer {
        self.by_row.retain(|_, lease| lease.until > now);
        let with_others = self
            .by_row
            .values()
            .filter(|l| l.annotator != annotator)
            .count();
        let held = self
            .by_row
            .iter()
            .find(|(_, lease)| lease.annotator == annotator)
            .map(|(row, _)| *row);
        let choice = match held {
            Some(row) if is_pending(row) => Some(row),
            _ => self.first_free(annotator, pending),
        };
        // One row per annotator at a time: whatever else they held (a row
        // answered elsewhere) is let go.
        self.by_row.retain(|_, lease| lease.annotator != annotator);
        if let Some(row) = choice {
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

    /// The first row of `pending` nobody else holds, preferring those
    /// `annotator` did not skip.
    fn first_free(&self, annotator: &str, pending: impl IntoIterator<Item = i64>) -> Option<i64> {
        let skipped = self.skipped.get(annotator);
        let mut first_skipped = None;
        for row in pending {
            if self
                .by_row
                .get(&row)
                .is_some_and(|lease| lease.annotator != annotator)
            {
                continue;
            }
            if skipped.is_some_and(|s| s.contains(&row)) {
                first_skipped.get_or_insert(row);
                continue;
            }
            return Some(row);
        }
        first_skipped
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

    /// An offer from a pending list held in memory.
    fn offer(leases: &mut Leases, who: &str, pending: &[i64], now: Instant) -> Offer {
        leases.offer(
            who,
            pending.iter().copied(),
            |r| pending.contains(&r),
            now,
            LEASE,
        )
    }

    #[test]
    fn annotators_at_once_get_different_rows() {
        let mut leases = Leases::default();
        let now = Instant::now();
        let pending = [10, 11, 12];
        let a = offer(&mut leases, "a", &pending, now);
        let b = offer(&mut leases, "b", &pending, now);
        let c = offer(&mut leases, "c", &pending, now);
        let d = offer(&mut leases, "d", &pending, now);
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
        assert_eq!(offer(&mut leases, "a", &pending, now).row_id, Some(10));
        assert_eq!(offer(&mut leases, "a", &pending, now).row_id, Some(10));
        assert_eq!(offer(&mut leases, "b", &pending, now).row_id, Some(11));
        let later = now + LEASE + Duration::from_secs(1);
        // a's and b's leases ran out: c is offered the first row.
        assert_eq!(offer(&mut leases, "c", &pending, later).row_id, Some(10));
    }

    #[test]
    fn a_skipped_row_goes_to_others_and_comes_back_last() {
        let mut leases = Leases::default();
        let now = Instant::now();
        let pending = [10, 11];
        assert_eq!(offer(&mut leases, "a", &pending, now).row_id, Some(10));
        leases.skip("a", 10);
        assert_eq!(offer(&mut leases, "a", &pending, now).row_id, Some(11));
        assert_eq!(offer(&mut leases, "b", &pending, now).row_id, Some(10));
        // Only 11 is left once 10 is answered; a skipped nothing else.
        leases.release(10);
        assert_eq!(offer(&mut leases, "a", &[11], now).row_id, Some(11));
        // When every free row was skipped, the skipped ones come back.
        leases.skip("a", 11);
        assert_eq!(offer(&mut leases, "a", &[11], now).row_id, Some(11));
    }

    #[test]
    fn the_pending_rows_are_read_only_as_far_as_needed() {
        let mut leases = Leases::default();
        let now = Instant::now();
        let mut read = 0;
        let endless = (10..).inspect(|_| read += 1);
        let a = leases.offer("a", endless, |_| true, now, LEASE);
        assert_eq!((a.row_id, read), (Some(10), 1));
        let mut read = 0;
        let endless = (10..).inspect(|_| read += 1);
        let b = leases.offer("b", endless, |_| true, now, LEASE);
        assert_eq!((b.row_id, read), (Some(11), 2));
    }

    #[test]
    fn answered_rows_leave_the_leases() {
        let mut leases = Leases::default();
        let now = Instant::now();
        assert_eq!(offer(&mut leases, "a", &[10, 11], now).row_id, Some(10));
        // 10 was answered elsewhere: it is no longer pending.
        assert_eq!(offer(&mut leases, "a", &[11], now).row_id, Some(11));
        assert_eq!(offer(&mut leases, "b", &[11], now).row_id, None);
    }
}
