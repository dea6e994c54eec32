//! `query`: choose the next rows to label and write them for an annotator.

use anyhow::{bail, Context, Result};
use serde_json::json;

use al_data::batch::{stage_round, BatchFile, BatchRow, StagedBatch};
use al_data::{Project, QueriedRow, RoundRecord, Subset};
use al_models::metrics::Spread;
use al_models::{Matrix, Predict};
use al_query::simulate::COLD_START;
use al_query::strategies::Diverse;
use al_query::{CompactPool, Pool, QueryInput, DEFAULT_STRATEGY};

use crate::cli::{Global, QueryArgs};
use crate::output::{notice, print_json};

pub fn run(global: &Global, args: QueryArgs) -> Result<()> {
    let mut project = Project::open(&global.project)?;
    let planned = plan(global, &project, &args)?;
    let (round, out) = record_and_write(
        &mut project,
        &args,
        &planned.record,
        &planned.rows,
        &planned.batch,
    )?;
    if let Some(out) = out {
        print_outcome(
            global,
            &project,
            round,
            &planned.record,
            &planned.rows,
            planned.pool,
            planned.cold,
            &out,
        )?;
    }
    Ok(())
}

/// A round chosen, not yet recorded.
struct Planned {
    record: RoundRecord,
    rows: Vec<QueriedRow>,
    batch: Vec<BatchRow>,
    pool: usize,
    cold: bool,
}

/// Fits the model, runs the strategy and prepares the round's rows.
fn plan(global: &Global, project: &Project, args: &QueryArgs) -> Result<Planned> {
    let registry = crate::plugins::registry(global, Some(project))?;
    let spec = registry.model(&crate::plugins::model_text(project, args.model.as_deref())?)?;
    let labeled = project.counts()?.labeled;
    let asked = args.strategy.as_deref().unwrap_or(DEFAULT_STRATEGY);
    // A model needs two labeled rows: before that, the cold-start strategy.
    let cold = labeled < 2;
    let mut strategy = registry.parse(if cold { COLD_START } else { asked })?;
    if cold {
        notice(
            global.quiet,
            &format!(
                "{labeled} labeled row(s), too few for a model: this batch is chosen by {COLD_START} (the rows that best represent the pool; no model needed) instead of {asked}"
            ),
        );
    }
    if args.diversity {
        strategy = Box::new(Diverse { inner: strategy });
    }
    // One pass over the feature chunks for both. The pool stays in its
    // compact encoding; strategies expand the chunks and rows they look at
    // (al_query::pool).
    let recipe = project.recipe()?;
    let [train, pool] = project.load_compact_subsets([
        Subset::Training,
        if args.include_pending {
            Subset::PoolWithPending
        } else {
            Subset::Pool
        },
    ])?;
    if pool.is_empty() {
        bail!("no unlabeled rows left to offer (pending batches are held back unless --include-pending)");
    }
    let train = train.expand(&recipe, true);
    let ly = train.targets();
    let lx = Matrix::new(train.features, train.width);
    let candidates = CompactPool::new(&pool, &recipe);
    // Fitted once: for the batch file's predictions and for the strategy.
    let fitted = if cold {
        None
    } else {
        Some(spec.build()?.fit(&lx, &ly, args.seed)?)
    };
    let input = QueryInput {
        labeled_x: &lx,
        labeled_y: &ly,
        candidates: &candidates,
        model: &spec,
        batch: args.batch,
        seed: args.seed,
        max_candidates: args.candidates,
        fitted: fitted.as_deref(),
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
    let guesses = guesses(fitted.as_deref(), &chosen)?;
    let rows: Vec<QueriedRow> = picks
        .iter()
        .zip(&guesses)
        .enumerate()
        .map(|(k, (p, g))| QueriedRow {
            row_id: pool.row_ids[p.index],
            rank: k + 1,
            score: p.score,
            prediction: g.map(|g| g.prediction),
            spread: g.and_then(|g| g.spread.map(|s| s.std)),
        })
        .collect();
    let record = RoundRecord {
        strategy: strategy.name(),
        model: spec.to_string(),
        seed: args.seed,
        batch: args.batch,
        params: json!({"diversity": args.diversity, "include_pending": args.include_pending, "candidates": args.candidates, "cold_start": cold}).to_string(),
    };
    let batch = batch_rows(project, &rows, &guesses)?;
    Ok(Planned {
        record,
        rows,
        batch,
        pool: pool.len(),
        cold,
    })
}

/// The batch file's rows: each queried row with its raw cells and interval.
fn batch_rows(
    project: &Project,
    rows: &[QueriedRow],
    guesses: &[Option<Guess>],
) -> Result<Vec<BatchRow>> {
    rows.iter()
        .zip(guesses)
        .map(|(r, g)| {
            Ok(BatchRow {
                row_id: r.row_id,
                rank: r.rank,
                score: r.score,
                prediction: r.prediction,
                interval: g.and_then(|g| g.spread.map(|s| (s.low, s.high))),
                raw: project.raw_row(r.row_id)?.unwrap_or_default(),
            })
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn print_outcome(
    global: &Global,
    project: &Project,
    round: i64,
    record: &RoundRecord,
    rows: &[QueriedRow],
    pool: usize,
    cold: bool,
    out: &std::path::Path,
) -> Result<()> {
    if global.json {
        let list: Vec<_> = rows
            .iter()
            .map(|r| json!({"row_id": r.row_id, "rank": r.rank, "score": r.score, "prediction": r.prediction, "spread": r.spread}))
            .collect();
        print_json(
            &json!({"round": round, "strategy": record.strategy, "model": record.model, "cold_start": cold, "file": out.display().to_string(), "rows": list}),
        );
    } else if !global.quiet {
        println!(
            "round {round}: {} row(s) chosen by {} from a pool of {pool} -> {}",
            rows.len(),
            record.strategy,
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

/// The model's guess for a chosen row, with its members' spread.
#[derive(Clone, Copy)]
struct Guess {
    prediction: f64,
    spread: Option<Spread>,
}

/// `--model`'s guesses for the chosen rows; none before it can be fitted.
fn guesses(fitted: Option<&dyn Predict>, chosen: &Matrix) -> Result<Vec<Option<Guess>>> {
    let Some(fitted) = fitted else {
        return Ok(vec![None; chosen.rows()]);
    };
    let predictions = fitted.predict(chosen)?;
    let spreads = fitted.predict_spread(chosen)?;
    Ok(predictions
        .iter()
        .enumerate()
        .map(|(k, &prediction)| {
            Some(Guess {
                prediction,
                spread: spreads.as_ref().map(|s| s[k]),
            })
        })
        .collect())
}

/// Records the round and writes its batch file in one transaction; the
/// file's path, or `None` when it went to standard output.
fn record_and_write(
    project: &mut Project,
    args: &QueryArgs,
    record: &RoundRecord,
    rows: &[QueriedRow],
    batch: &[BatchRow],
) -> Result<(i64, Option<std::path::PathBuf>)> {
    let headers = project.headers()?;
    let file = BatchFile {
        out: args.out.as_deref(),
        headers: &headers,
        target: project.recipe()?.target_index(),
    };
    let mut staged: Option<StagedBatch> = None;
    let result = project.write(|tx| {
        let (round, batch) = stage_round(tx, record, rows, file, batch)?;
        staged = Some(batch);
        Ok(round)
    });
    let (round, staged) = StagedBatch::settle(result, staged)?;
    let staged = staged.context("no batch was written")?;
    Ok((round, staged.publish()?))
}
