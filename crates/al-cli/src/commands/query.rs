//! `query`: choose the next rows to label and write them for an annotator.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::json;

use al_data::{store, Project, QueriedRow, RoundRecord, Subset};
use al_models::{Matrix, ModelSpec};
use al_query::strategies::Diverse;
use al_query::{QueryInput, DEFAULT_STRATEGY};

use crate::cli::{Global, QueryArgs};
use crate::output::print_json;

/// The columns a batch file starts with, before the source columns; `note` ends it.
pub const LEAD: [&str; 7] = [
    "row_id",
    "round",
    "rank",
    "score",
    "prediction",
    "prediction_low",
    "prediction_high",
];

pub fn run(global: &Global, args: QueryArgs) -> Result<()> {
    let mut project = Project::open(&global.project)?;
    let strategy_name = args
        .strategy
        .clone()
        .unwrap_or_else(|| DEFAULT_STRATEGY.to_string());
    let mut strategy = crate::plugins::registry(global, Some(&project))?.parse(&strategy_name)?;
    if args.diversity {
        strategy = Box::new(Diverse { inner: strategy });
    }
    let spec = ModelSpec::parse(&args.model)?;
    let train = project.load(Subset::Training, true)?;
    if train.len() < 2 {
        bail!(
            "only {} labeled training row(s); label at least 2 before querying",
            train.len()
        );
    }
    let subset = if args.include_pending {
        Subset::PoolWithPending
    } else {
        Subset::Pool
    };
    let pool = project.load(subset, true)?;
    if pool.is_empty() {
        bail!("no unlabeled rows left to offer (pending batches are held back unless --include-pending)");
    }
    let lx = Matrix::new(train.features.clone(), train.width);
    let ly = train.targets();
    let candidates = Matrix::new(pool.features.clone(), pool.width);
    let input = QueryInput {
        labeled_x: &lx,
        labeled_y: &ly,
        candidates: &candidates,
        model: &spec,
        batch: args.batch,
        seed: args.seed,
        max_candidates: args.candidates,
    };
    let spinner = crate::output::spinner(
        global,
        &format!("{} over {} candidates", strategy.name(), pool.len()),
    );
    let picks = strategy.query(&input);
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    let picks = picks?;
    let chosen = candidates.select(&picks.iter().map(|p| p.index).collect::<Vec<_>>());
    let fitted = spec.build()?.fit(&lx, &ly, args.seed)?;
    let predictions = fitted.predict(&chosen);
    let members = fitted.predict_members(&chosen);
    let rows: Vec<QueriedRow> = picks
        .iter()
        .enumerate()
        .map(|(k, p)| QueriedRow {
            row_id: pool.row_ids[p.index],
            rank: k + 1,
            score: p.score,
            prediction: Some(predictions[k]),
            spread: members.as_ref().map(|m| spread(m, k).0),
        })
        .collect();
    let intervals: Vec<Option<(f64, f64)>> = (0..rows.len())
        .map(|k| members.as_ref().map(|m| spread(m, k).1))
        .collect();
    crate::plugins::check_models()?;
    let record = RoundRecord {
        strategy: strategy.name(),
        model: spec.to_string(),
        seed: args.seed,
        batch: args.batch,
        params: json!({"diversity": args.diversity, "include_pending": args.include_pending, "candidates": args.candidates}).to_string(),
    };
    let batch_rows = rows
        .iter()
        .zip(&intervals)
        .map(|(r, interval)| {
            Ok(BatchRow {
                row_id: r.row_id,
                rank: r.rank,
                score: r.score,
                prediction: r.prediction,
                interval: *interval,
                raw: project.raw_row(r.row_id)?.unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let headers = project.headers()?;
    let target = project.recipe()?.target_index();
    let mut staged: Option<StagedBatch> = None;
    let result = project.write(|tx| {
        let round = store::record_round(tx, &record, &rows)?;
        staged = Some(StagedBatch::stage(
            args.out.as_deref(),
            &headers,
            target,
            round,
            &batch_rows,
        )?);
        Ok(round)
    });
    let (round, staged) = StagedBatch::settle(result, staged)?;
    let staged = staged.context("no batch was written")?;
    let to_stdout = staged.to_stdout();
    let out = staged.out.clone();
    staged.publish()?;
    if global.json && !to_stdout {
        let list: Vec<_> = rows
            .iter()
            .map(|r| json!({"row_id": r.row_id, "rank": r.rank, "score": r.score, "prediction": r.prediction, "spread": r.spread}))
            .collect();
        print_json(
            &json!({"round": round, "strategy": record.strategy, "model": record.model, "file": out.display().to_string(), "rows": list}),
        );
    } else if !global.quiet && !to_stdout {
        println!(
            "round {round}: {} row(s) chosen by {} from a pool of {} -> {}",
            rows.len(),
            record.strategy,
            pool.len(),
            out.display()
        );
        println!(
            "fill in the `{}` column, then: al-cli label {}",
            project.recipe()?.target,
            out.display()
        );
    }
    Ok(())
}

/// Standard deviation across members, and their 10th/90th percentiles.
pub fn spread(members: &[Vec<f64>], k: usize) -> (f64, (f64, f64)) {
    let mut v: Vec<f64> = members.iter().map(|m| m[k]).collect();
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let sd = (v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / v.len() as f64).sqrt();
    v.sort_by(f64::total_cmp);
    let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    (sd, (q(0.1), q(0.9)))
}

pub fn temp_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// One row of a batch file.
pub struct BatchRow {
    pub row_id: i64,
    pub rank: usize,
    pub score: f64,
    pub prediction: Option<f64>,
    pub interval: Option<(f64, f64)>,
    /// Raw cells in source order.
    pub raw: Vec<String>,
}

/// The batch CSV an annotator fills in: the lead columns, the raw source
/// columns with the target emptied, and `note`.
pub fn batch_csv(
    headers: &[String],
    target: usize,
    round: i64,
    rows: &[BatchRow],
) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = LEAD.iter().map(|s| s.to_string()).collect();
    header.extend(headers.iter().cloned());
    header.push("note".into());
    w.write_record(&header)?;
    let num = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v}"));
    for r in rows {
        let mut raw = r.raw.clone();
        if let Some(t) = raw.get_mut(target) {
            t.clear();
        }
        let mut record = vec![
            r.row_id.to_string(),
            round.to_string(),
            r.rank.to_string(),
            num(Some(r.score).filter(|s| s.is_finite())),
            num(r.prediction),
            num(r.interval.map(|i| i.0)),
            num(r.interval.map(|i| i.1)),
        ];
        record.extend(raw);
        record.push(String::new());
        w.write_record(&record)?;
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

/// A batch file written under a temporary name inside the transaction that
/// records its round (whose number is only known there), and put in place,
/// or printed, only after the commit: a failure leaves neither round nor file.
pub struct StagedBatch {
    temp: Option<PathBuf>,
    pub out: PathBuf,
    bytes: Vec<u8>,
}

impl StagedBatch {
    /// Writes the batch beside `out` (default `batch-ROUND.csv`; "-" is stdout).
    pub fn stage(
        out: Option<&Path>,
        headers: &[String],
        target: usize,
        round: i64,
        rows: &[BatchRow],
    ) -> Result<StagedBatch, al_data::DataError> {
        let bytes = batch_csv(headers, target, round, rows)
            .map_err(|e| al_data::DataError::Usage(e.to_string()))?;
        let out = out.map_or_else(
            || PathBuf::from(format!("batch-{round}.csv")),
            Path::to_path_buf,
        );
        let temp = (out.as_os_str() != "-").then(|| temp_beside(&out));
        if let Some(t) = &temp {
            std::fs::write(t, &bytes).map_err(|source| al_data::DataError::Io {
                path: t.clone(),
                source,
            })?;
        }
        Ok(StagedBatch { temp, out, bytes })
    }

    pub fn to_stdout(&self) -> bool {
        self.temp.is_none()
    }

    /// After the round's transaction: passes the batch on, or removes the
    /// staged file when the transaction failed.
    pub fn settle<T>(
        result: al_data::Result<T>,
        staged: Option<StagedBatch>,
    ) -> Result<(T, Option<StagedBatch>)> {
        match result {
            Ok(v) => Ok((v, staged)),
            Err(e) => {
                if let Some(b) = &staged {
                    b.discard();
                }
                Err(e.into())
            }
        }
    }

    fn discard(&self) {
        if let Some(t) = &self.temp {
            let _ = std::fs::remove_file(t);
        }
    }

    /// After the commit: the file's final path, or `None` when printed.
    pub fn publish(self) -> Result<Option<PathBuf>> {
        match &self.temp {
            Some(t) => {
                std::fs::rename(t, &self.out)
                    .with_context(|| format!("cannot write {}", self.out.display()))?;
                Ok(Some(self.out))
            }
            None => {
                std::io::stdout().write_all(&self.bytes)?;
                Ok(None)
            }
        }
    }
}
