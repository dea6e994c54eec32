//! `query`: choose the next rows to label and write them for an annotator.

use anyhow::{bail, Context, Result};
use serde_json::json;

use al_data::batch::{stage_round, BatchFile, BatchRow, StagedBatch};
use al_data::{Project, QueriedRow, RoundRecord, Subset};
use al_models::metrics::member_spread;
use al_models::Matrix;
use al_query::strategies::Diverse;
use al_query::{QueryInput, DEFAULT_STRATEGY};

use crate::cli::{Global, QueryArgs};
use crate::output::print_json;

pub fn run(global: &Global, args: QueryArgs) -> Result<()> {
    let mut project = Project::open(&global.project)?;
    let strategy_name = args
        .strategy
        .clone()
        .unwrap_or_else(|| DEFAULT_STRATEGY.to_string());
    let registry = crate::plugins::registry(global, Some(&project))?;
    let mut strategy = registry.parse(&strategy_name)?;
    if args.diversity {
        strategy = Box::new(Diverse { inner: strategy });
    }
    let spec = registry.model(&args.model)?;
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
    let predictions = fitted.predict(&chosen)?;
    let members = fitted.predict_members(&chosen)?;
    let rows: Vec<QueriedRow> = picks
        .iter()
        .enumerate()
        .map(|(k, p)| QueriedRow {
            row_id: pool.row_ids[p.index],
            rank: k + 1,
            score: p.score,
            prediction: Some(predictions[k]),
            spread: members.as_ref().map(|m| member_spread(m, k).std),
        })
        .collect();
    let intervals: Vec<Option<(f64, f64)>> = (0..rows.len())
        .map(|k| {
            members.as_ref().map(|m| {
                let s = member_spread(m, k);
                (s.low, s.high)
            })
        })
        .collect();
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
    let file = BatchFile {
        out: args.out.as_deref(),
        headers: &headers,
        target: project.recipe()?.target_index(),
    };
    let mut staged: Option<StagedBatch> = None;
    let result = project.write(|tx| {
        let (round, batch) = stage_round(tx, &record, &rows, file, &batch_rows)?;
        staged = Some(batch);
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
