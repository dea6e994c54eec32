//! `--diversity`: spreads the batch of any strategy with per-row utilities.

use crate::distance::squared;
use crate::{top_k, QueryError, QueryInput, Selection, Strategy};

/// Batch diversity for any strategy: the top 10 x B candidates by utility,
/// then B of them spread apart by farthest-first traversal starting from the
/// best, so a batch is not ten near-copies.
pub struct Diverse {
    pub inner: Box<dyn Strategy>,
}

impl Strategy for Diverse {
    fn name(&self) -> String {
        self.inner.name()
    }

    fn query(&self, input: &QueryInput) -> Result<Vec<Selection>, QueryError> {
        let utilities = match self.inner.utilities(input) {
            Some(u) => u?,
            // Greedy strategies already spread their batch.
            None => return self.inner.query(input),
        };
        let pool = top_k(&utilities, 10 * input.batch);
        let top = input
            .candidates
            .select(&pool.iter().map(|s| s.index).collect::<Vec<_>>());
        let rows: Vec<&[f64]> = top.iter_rows().collect();
        let mut dist = vec![f64::INFINITY; pool.len()];
        let mut chosen = Vec::with_capacity(input.batch);
        let mut next = 0;
        while chosen.len() < input.batch.min(pool.len()) {
            chosen.push(pool[next]);
            dist[next] = f64::NEG_INFINITY;
            for (j, r) in rows.iter().enumerate() {
                if dist[j] > f64::NEG_INFINITY {
                    dist[j] = dist[j].min(squared(r, rows[next]));
                }
            }
            // Farthest remaining; ties go to the higher utility (earlier in `pool`).
            next = (0..pool.len()).fold(0, |b, j| if dist[j] > dist[b] { j } else { b });
        }
        Ok(chosen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::test_support::run;

    #[test]
    fn diversity_spreads_a_batch_of_near_copies() {
        // Variance-like utilities: three near-copies score highest.
        struct Fixed(Vec<f64>);
        impl Strategy for Fixed {
            fn name(&self) -> String {
                "fixed".into()
            }
            fn utilities(&self, _: &QueryInput) -> Option<Result<Vec<f64>, QueryError>> {
                Some(Ok(self.0.clone()))
            }
        }
        let cands = vec![vec![0.0], vec![0.01], vec![0.02], vec![5.0], vec![9.0]];
        let u = vec![1.0, 0.99, 0.98, 0.5, 0.4];
        let plain = run(
            &Fixed(u.clone()),
            &[vec![1.0], vec![2.0]],
            &[1.0, 2.0],
            &cands,
            2,
            "linear",
        );
        assert_eq!(plain, vec![0, 1]);
        let diverse = run(
            &Diverse {
                inner: Box::new(Fixed(u)),
            },
            &[vec![1.0], vec![2.0]],
            &[1.0, 2.0],
            &cands,
            2,
            "linear",
        );
        assert_eq!(diverse, vec![0, 4]);
    }
}
