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

/// A pending row where its round put it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PendingPick {
    pub round: i64,
    pub row_id: i64,
    /// 1 for the round's first pick.
    pub rank: i64,
    /// The strategy's utility of the row when it was picked (none for a
    /// row drawn at random by `--audit`).
    pub score: Option<f64>,
    pub audit: bool,
    /// How many rows the round asked for.
    pub batch: i64,
}

/// The latest round and the strategy spec that chose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastRound {
    pub round: i64,
    pub strategy: String,
    /// The model spec it was made with.
    pub model: String,
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
    /// Drawn at random from the pool (`query --audit`), not picked.
    #[serde(default)]
    pub audit: bool,
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
    /// The interval of an estimated error (the pool estimate's); `None`
    /// for a measurement on held-out rows and for older reports.
    pub interval: Option<ErrorInterval>,
    /// Plain 5-fold cross-validation on the labeled rows, kept beside an
    /// estimate made from it (it measures the error on the rows that were
    /// picked, not on the pool).
    pub cross_validation: Option<ErrorFigures>,
    /// How an estimate was made (its parts, as JSON), for those who want to
    /// check it.
    pub detail: Option<serde_json::Value>,
}

/// The errors of one measurement.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct ErrorFigures {
    pub mae: f64,
    pub mse: f64,
    pub rmse: f64,
    pub r2: f64,
}

/// An estimated MAE's and RMSE's interval.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct ErrorInterval {
    /// Its coverage, as 0.8.
    pub level: f64,
    pub mae_low: f64,
    pub mae_high: f64,
    pub rmse_low: f64,
    pub rmse_high: f64,
}

/// How a report measured its errors.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EvalMethod {
    /// On the held-out test rows, never trained on.
    Holdout,
    /// By 5-fold cross-validation on the labeled rows (no held-out rows):
    /// what projects recorded before the pool estimate, and what is
    /// recorded when no unlabeled row is left to estimate on.
    Cv5,
    /// The error on the unlabeled rows, estimated from the labeled rows'
    /// cross-validated residuals corrected for how they were picked
    /// (no held-out rows).
    PoolEstimate,
}

impl EvalMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            EvalMethod::Holdout => "holdout",
            EvalMethod::Cv5 => "cv5",
            EvalMethod::PoolEstimate => "pool_estimate",
        }
    }

    fn parse(text: &str) -> Option<EvalMethod> {
        [
            EvalMethod::Holdout,
            EvalMethod::Cv5,
            EvalMethod::PoolEstimate,
        ]
        .into_iter()
        .find(|m| m.as_str() == text)
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

    /// The round of every pending row, by row id.
    pub fn pending_rounds(&self) -> Result<std::collections::HashMap<i64, i64>> {
        Ok(self
            .pending()?
            .into_iter()
            .map(|p| (p.row_id, p.round))
            .collect())
    }

    /// Every pending row with its place in its round's batch and the
    /// strategy's score for it, in round and rank order.
    pub fn pending_picks(&self) -> Result<Vec<PendingPick>> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT q.round, q.row_id, q.rank, q.score, q.audit,
                        (SELECT count(*) FROM queries b WHERE b.round = q.round)
                 FROM queries q JOIN rows r USING (row_id)
                 WHERE r.label IS NULL ORDER BY q.round, q.rank",
            )
            .map_err(sql)?;
        let picks = stmt
            .query_map([], |r| {
                Ok(PendingPick {
                    round: r.get(0)?,
                    row_id: r.get(1)?,
                    rank: r.get(2)?,
                    score: r.get(3)?,
                    audit: r.get(4)?,
                    batch: r.get(5)?,
                })
            })
            .map_err(sql)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(sql)?;
        Ok(picks)
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
                "SELECT round, labels, mae, mse, rmse, r2, model, strategy, created_at, method,
                        level, mae_low, mae_high, rmse_low, rmse_high,
                        cv_mae, cv_mse, cv_rmse, cv_r2, detail
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
                    method: {
                        let text: String = r.get(9)?;
                        EvalMethod::parse(&text).ok_or_else(|| {
                            rusqlite::Error::FromSqlConversionFailure(
                                9,
                                rusqlite::types::Type::Text,
                                format!("unknown report method {text:?}; upgrade al-cli").into(),
                            )
                        })?
                    },
                    interval: match r.get::<_, Option<f64>>(10)? {
                        Some(level) => Some(ErrorInterval {
                            level,
                            mae_low: r.get(11)?,
                            mae_high: r.get(12)?,
                            rmse_low: r.get(13)?,
                            rmse_high: r.get(14)?,
                        }),
                        None => None,
                    },
                    cross_validation: match r.get::<_, Option<f64>>(15)? {
                        Some(mae) => Some(ErrorFigures {
                            mae,
                            mse: r.get(16)?,
                            rmse: r.get(17)?,
                            r2: r.get(18)?,
                        }),
                        None => None,
                    },
                    detail: r
                        .get::<_, Option<String>>(19)?
                        .and_then(|text| serde_json::from_str(&text).ok()),
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

    /// Every row ever drawn at random for an audit (`query --audit`).
    pub fn audit_row_ids(&self) -> Result<std::collections::HashSet<i64>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT DISTINCT row_id FROM queries WHERE audit = 1")
            .map_err(sql)?;
        let ids = stmt
            .query_map([], |r| r.get(0))
            .map_err(sql)?
            .collect::<rusqlite::Result<_>>()
            .map_err(sql);
        ids
    }

    /// The latest round, with its strategy.
    pub fn last_round(&self) -> Result<Option<LastRound>> {
        self.conn()
            .query_row(
                "SELECT round, strategy, model FROM rounds ORDER BY round DESC LIMIT 1",
                [],
                |r| {
                    Ok(LastRound {
                        round: r.get(0)?,
                        strategy: r.get(1)?,
                        model: r.get(2)?,
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
            "INSERT INTO queries(round, rank, row_id, score, prediction, spread, audit)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
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
            r.spread,
            r.audit
        ])
        .map_err(sql)?;
    }
    Ok(id)
}

pub fn insert_report(tx: &Transaction, report: &Report) -> Result<()> {
    // SQLite stores NaN as NULL, which no later read of the reports takes:
    // one such row made every command fail. Refused here, the transaction
    // keeps nothing of the command.
    let interval = report.interval.as_ref();
    let cv = report.cross_validation.as_ref();
    let optional = |v: Option<f64>| v.unwrap_or(0.0);
    for (name, value) in [
        ("mae", report.mae),
        ("mse", report.mse),
        ("rmse", report.rmse),
        ("r2", report.r2),
        (
            "mae interval",
            optional(interval.map(|i| i.mae_low + i.mae_high)),
        ),
        (
            "rmse interval",
            optional(interval.map(|i| i.rmse_low + i.rmse_high)),
        ),
        ("cross-validated mae", optional(cv.map(|c| c.mae))),
        ("cross-validated mse", optional(cv.map(|c| c.mse))),
        ("cross-validated r2", optional(cv.map(|c| c.r2))),
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
            "INSERT INTO reports(round, labels, model, strategy, mae, mse, rmse, r2, method,
                                 level, mae_low, mae_high, rmse_low, rmse_high,
                                 cv_mae, cv_mse, cv_rmse, cv_r2, detail, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
                     ?15, ?16, ?17, ?18, ?19, {NOW})"
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
            report.method.as_str(),
            interval.map(|i| i.level),
            interval.map(|i| i.mae_low),
            interval.map(|i| i.mae_high),
            interval.map(|i| i.rmse_low),
            interval.map(|i| i.rmse_high),
            cv.map(|c| c.mae),
            cv.map(|c| c.mse),
            cv.map(|c| c.rmse),
            cv.map(|c| c.r2),
            report.detail.as_ref().map(|d| d.to_string()),
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
