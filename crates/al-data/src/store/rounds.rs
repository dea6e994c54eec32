//! Query rounds, their pending rows, reports and stored simulations.

use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};

use crate::error::{sql, DataError, Result};
use crate::project::{Project, NOW};

/// A queried row that has no label yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    pub round: i64,
    pub row_id: i64,
}

/// The latest round and the strategy spec that chose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastRound {
    pub round: i64,
    pub strategy: String,
}

/// A stored simulation, as JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSimulation {
    pub config_json: String,
    pub results_json: String,
}

/// A row chosen in a query round.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct QueriedRow {
    pub row_id: i64,
    pub rank: usize,
    pub score: f64,
    pub prediction: Option<f64>,
    pub spread: Option<f64>,
}

/// A query round as recorded.
#[derive(Debug, Clone, Serialize)]
pub struct RoundRecord {
    pub strategy: String,
    pub model: String,
    pub seed: u64,
    pub batch: usize,
    pub params: String,
}

/// One stored evaluation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub round: Option<i64>,
    pub labels: u64,
    pub mae: f64,
    pub mse: f64,
    pub rmse: f64,
    pub r2: f64,
    pub model: String,
    pub strategy: Option<String>,
    pub created_at: String,
    /// How the errors were measured.
    pub method: EvalMethod,
}

/// How a report measured its errors.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EvalMethod {
    /// On the held-out test rows, never trained on.
    Holdout,
    /// By 5-fold cross-validation on the labeled rows (no held-out rows).
    Cv5,
}

impl EvalMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            EvalMethod::Holdout => "holdout",
            EvalMethod::Cv5 => "cv5",
        }
    }
}

impl Project {
    /// Every queried row that has no label yet, in round and rank order.
    pub fn pending(&self) -> Result<Vec<Pending>> {
        self.with_pending(|rows| rows.collect())
    }

    /// Calls `f` with the pending rows in round and rank order, read as `f`
    /// pulls them: stopping early reads no more (the label page looks for
    /// the first row nobody holds, not at all of a large batch).
    pub fn with_pending<T>(
        &self,
        f: impl FnOnce(&mut dyn Iterator<Item = Pending>) -> T,
    ) -> Result<T> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT q.round, q.row_id FROM queries q JOIN rows r USING (row_id)
                 WHERE r.label IS NULL ORDER BY q.round, q.rank",
            )
            .map_err(sql)?;
        let mut rows = stmt
            .query_map([], |r| {
                Ok(Pending {
                    round: r.get(0)?,
                    row_id: r.get(1)?,
                })
            })
            .map_err(sql)?;
        let mut failed = None;
        let mut pulled = std::iter::from_fn(|| match rows.next()? {
            Ok(p) => Some(p),
            Err(e) => {
                failed = Some(e);
                None
            }
        });
        let out = f(&mut pulled);
        match failed {
            Some(e) => Err(sql(e)),
            None => Ok(out),
        }
    }

    /// Whether any queried row has no label yet (stops at the first).
    pub fn has_pending(&self) -> Result<bool> {
        self.conn()
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM queries q JOIN rows r USING (row_id) WHERE r.label IS NULL)",
                [],
                |r| r.get(0),
            )
            .map_err(sql)
    }

    /// How many queried rows have no label yet.
    pub fn pending_count(&self) -> Result<u64> {
        self.conn()
            .query_row(
                "SELECT count(*) FROM queries q JOIN rows r USING (row_id) WHERE r.label IS NULL",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(sql)
    }

    pub fn reports(&self) -> Result<Vec<Report>> {
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT round, labels, mae, mse, rmse, r2, model, strategy, created_at, method
                 FROM reports ORDER BY report_id",
            )
            .map_err(sql)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Report {
                    round: r.get(0)?,
                    labels: r.get::<_, i64>(1)? as u64,
                    mae: r.get(2)?,
                    mse: r.get(3)?,
                    rmse: r.get(4)?,
                    r2: r.get(5)?,
                    model: r.get(6)?,
                    strategy: r.get(7)?,
                    created_at: r.get(8)?,
                    method: match r.get::<_, String>(9)?.as_str() {
                        "cv5" => EvalMethod::Cv5,
                        _ => EvalMethod::Holdout,
                    },
                })
            })
            .map_err(sql)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(sql)?;
        Ok(rows)
    }

    /// The numbers of every recorded round.
    pub fn round_numbers(&self) -> Result<std::collections::HashSet<i64>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT round FROM rounds")
            .map_err(sql)?;
        let rounds = stmt
            .query_map([], |r| r.get(0))
            .map_err(sql)?
            .collect::<rusqlite::Result<_>>()
            .map_err(sql)?;
        Ok(rounds)
    }

    /// The latest round, with its strategy.
    pub fn last_round(&self) -> Result<Option<LastRound>> {
        self.conn()
            .query_row(
                "SELECT round, strategy FROM rounds ORDER BY round DESC LIMIT 1",
                [],
                |r| {
                    Ok(LastRound {
                        round: r.get(0)?,
                        strategy: r.get(1)?,
                    })
                },
            )
            .optional()
            .map_err(sql)
    }

    /// A stored simulation: its settings and its results, as JSON.
    pub fn simulation(&self, id: i64) -> Result<Option<StoredSimulation>> {
        self.conn()
            .query_row(
                "SELECT params, results FROM simulations WHERE simulation_id = ?1",
                [id],
                |r| {
                    Ok(StoredSimulation {
                        config_json: r.get(0)?,
                        results_json: r.get(1)?,
                    })
                },
            )
            .optional()
            .map_err(sql)
    }

    pub fn last_simulation_id(&self) -> Result<Option<i64>> {
        self.conn()
            .query_row("SELECT max(simulation_id) FROM simulations", [], |r| {
                r.get(0)
            })
            .map_err(sql)
    }
}

/// Records a query round and its rows; returns the round number.
pub fn record_round(tx: &Transaction, round: &RoundRecord, rows: &[QueriedRow]) -> Result<i64> {
    tx.execute(
        &format!(
            "INSERT INTO rounds(strategy, model, seed, batch, params, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, {NOW})"
        ),
        params![
            round.strategy,
            round.model,
            round.seed as i64,
            round.batch as i64,
            round.params
        ],
    )
    .map_err(sql)?;
    let id = tx.last_insert_rowid();
    let mut stmt = tx
        .prepare(
            "INSERT INTO queries(round, rank, row_id, score, prediction, spread)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(sql)?;
    for r in rows {
        let score = if r.score.is_finite() {
            Some(r.score)
        } else {
            None
        };
        stmt.execute(params![
            id,
            r.rank as i64,
            r.row_id,
            score,
            r.prediction,
            r.spread
        ])
        .map_err(sql)?;
    }
    Ok(id)
}

pub fn insert_report(tx: &Transaction, report: &Report) -> Result<()> {
    // SQLite stores NaN as NULL, which no later read of the reports takes:
    // one such row made every command fail. Refused here, the transaction
    // keeps nothing of the command.
    for (name, value) in [
        ("mae", report.mae),
        ("mse", report.mse),
        ("rmse", report.rmse),
        ("r2", report.r2),
    ] {
        if !value.is_finite() {
            return Err(DataError::Usage(format!(
                "the model {:?} measured a {name} that is not a finite number ({value}); nothing was stored: its predictions overflowed or failed",
                report.model
            )));
        }
    }
    tx.execute(
        &format!(
            "INSERT INTO reports(round, labels, model, strategy, mae, mse, rmse, r2, method, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, {NOW})"
        ),
        params![
            report.round,
            report.labels as i64,
            report.model,
            report.strategy,
            report.mae,
            report.mse,
            report.rmse,
            report.r2,
            report.method.as_str()
        ],
    )
    .map_err(sql)?;
    Ok(())
}

pub fn insert_simulation(tx: &Transaction, params_json: &str, results_json: &str) -> Result<i64> {
    tx.execute(
        &format!("INSERT INTO simulations(params, results, created_at) VALUES (?1, ?2, {NOW})"),
        params![params_json, results_json],
    )
    .map_err(sql)?;
    Ok(tx.last_insert_rowid())
}
