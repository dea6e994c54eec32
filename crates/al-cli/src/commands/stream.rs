//! `stream`: rows arrive one at a time; each is added to the project and
//! queried or let go on the spot.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use serde_json::json;

use al_data::{store, Project, QueriedRow, RoundRecord, Subset};
use al_models::{Matrix, ModelSpec};
use al_query::stream::{RowScorer, Rule, StreamSelector};

use crate::cli::{Global, StreamArgs};
use crate::commands::query::{spread, BatchRow, StagedBatch};
use crate::output::{notice, print_json};

/// Standard deviation of the members and their 10th/90th percentiles.
type Spread = (f64, (f64, f64));

pub fn run(global: &Global, args: StreamArgs) -> Result<()> {
    if args.interactive && args.input.as_os_str() == "-" {
        bail!("--interactive reads answers from stdin, so the rows must come from a file");
    }
    let mut project = Project::open(&global.project)?;
    let rule = match (args.threshold, args.budget) {
        (Some(t), _) => Rule::Threshold(t),
        (None, b) => {
            let b = b.unwrap_or(0.1);
            if !(b > 0.0 && b <= 1.0) {
                bail!("--budget must be a share in (0, 1], not {b}");
            }
            Rule::Budget(b)
        }
    };
    let mut scorer = RowScorer::new(&args.strategy, &ModelSpec::parse(&args.model)?, args.seed)?;
    // Stdin is read to the end first, then processed row by row.
    let mut _stdin_copy = None;
    let input: PathBuf = if args.input.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("cannot read stdin")?;
        let file = tempfile::NamedTempFile::new()?;
        std::fs::write(file.path(), bytes)?;
        let path = file.path().to_path_buf();
        _stdin_copy = Some(file);
        path
    } else {
        args.input.clone()
    };
    let prepared = project.prepare_rows(&input)?;
    if args.interactive {
        return interactive(global, &mut project, &prepared, scorer, rule, &args);
    }
    for issue in prepared.issues.iter().take(20) {
        notice(global.quiet, issue);
    }
    fit_on_training(&project, &mut scorer, args.seed)?;
    let mut selector = StreamSelector::new(rule, args.seed);
    let spinner =
        crate::output::spinner(global, &format!("scoring {} arriving rows", prepared.len()));
    // (row in the input, utility, prediction, member spread and interval)
    let mut queried: Vec<(usize, f64, f64, Option<Spread>)> = Vec::new();
    for (i, dense) in prepared.dense.iter().enumerate() {
        if prepared.labels[i].is_some() {
            continue; // arrived labeled: nothing to ask
        }
        let x = Matrix::new(dense.clone(), dense.len());
        let (prediction, members) = predict_one(&scorer, &x);
        let utility = scorer.score(&x);
        if selector.decide(utility) {
            queried.push((
                i,
                utility,
                prediction,
                members.as_ref().map(|m| spread(m, 0)),
            ));
        }
    }
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    crate::plugins::check_models()?;
    let headers = project.headers()?;
    let target = project.recipe()?.target_index();
    let spec_text = ModelSpec::parse(&args.model)?.to_string();
    let mut staged: Option<StagedBatch> = None;
    let round = project.write(|tx| {
        let first = store::insert_prepared(tx, &prepared, "stream")?;
        if queried.is_empty() {
            return Ok(None);
        }
        let rows: Vec<QueriedRow> = queried
            .iter()
            .enumerate()
            .map(|(k, (i, u, p, s))| QueriedRow {
                row_id: first + *i as i64,
                rank: k + 1,
                score: *u,
                prediction: Some(*p),
                spread: s.map(|s| s.0),
            })
            .collect();
        let record = RoundRecord {
            strategy: format!("stream:{}", args.strategy),
            model: spec_text.clone(),
            seed: args.seed,
            batch: rows.len(),
            params: json!({"rule": format!("{rule:?}")}).to_string(),
        };
        let round = store::record_round(tx, &record, &rows)?;
        let batch: Vec<BatchRow> = queried
            .iter()
            .zip(&rows)
            .map(|((i, _, _, s), r)| BatchRow {
                row_id: r.row_id,
                rank: r.rank,
                score: r.score,
                prediction: r.prediction,
                interval: s.map(|s| s.1),
                raw: serde_json::from_str(&prepared.raw[*i]).unwrap_or_default(),
            })
            .collect();
        staged = Some(StagedBatch::stage(
            args.out.as_deref(),
            &headers,
            target,
            round,
            &batch,
        )?);
        Ok(Some(round))
    });
    let (round, staged) = StagedBatch::settle(round, staged)?;
    let to_stdout = staged.as_ref().is_some_and(StagedBatch::to_stdout);
    let file = match staged {
        Some(b) => b.publish()?,
        None => None,
    };
    if global.json {
        print_json(&json!({
            "seen": selector.seen,
            "queried": selector.queried,
            "threshold": if selector.threshold.is_finite() { Some(selector.threshold) } else { None },
            "added": prepared.len(),
            "round": round,
            "file": file.as_ref().map(|f| f.display().to_string()),
        }));
    } else if !global.quiet && !to_stdout {
        println!(
            "streamed {} row(s): {} unlabeled seen, {} queried{}",
            prepared.len(),
            selector.seen,
            selector.queried,
            file.map(|f| format!(" -> {} (round {})", f.display(), round.unwrap_or(0)))
                .unwrap_or_default()
        );
    }
    Ok(())
}

/// Rows one at a time: each is added in its own transaction, a queried one
/// is asked at once, and the model refits every `--refit-every` labels;
/// stopping (q, or the end of stdin) keeps everything entered so far.
fn interactive(
    global: &Global,
    project: &mut Project,
    prepared: &al_data::store::PreparedRows,
    mut scorer: RowScorer,
    rule: Rule,
    args: &StreamArgs,
) -> Result<()> {
    use std::io::{BufRead, Write};
    let headers = project.headers()?;
    let target_name = project.recipe()?.target;
    fit_on_training(project, &mut scorer, args.seed)?;
    let mut selector = StreamSelector::new(rule, args.seed);
    let stdin = std::io::stdin();
    let mut answers = stdin.lock().lines();
    let (mut added, mut labeled, mut since_refit) = (0usize, 0usize, 0usize);
    'rows: for i in 0..prepared.len() {
        let one = prepared.one(i);
        let row_id = project.write(|tx| store::insert_prepared(tx, &one, "stream"))?;
        added += 1;
        if prepared.labels[i].is_some() {
            continue;
        }
        let x = Matrix::new(prepared.dense[i].clone(), prepared.dense[i].len());
        let (prediction, _) = predict_one(&scorer, &x);
        let utility = scorer.score(&x);
        crate::plugins::check_models()?;
        if !selector.decide(utility) {
            continue;
        }
        let raw: Vec<String> = serde_json::from_str(&prepared.raw[i]).unwrap_or_default();
        println!("\nrow {row_id} (utility {utility:.4}):");
        for (h, v) in headers.iter().zip(&raw) {
            if *h != target_name {
                println!("  {h:>16}: {v}");
            }
        }
        println!("  model's guess for {target_name}: {prediction:.4}");
        loop {
            print!("{target_name} for row {row_id} (number, s = skip, q = stop): ");
            std::io::stdout().flush()?;
            let Some(line) = answers.next() else {
                break 'rows;
            };
            match line?.trim() {
                "q" => break 'rows,
                "s" | "" => continue 'rows,
                text => match text.parse::<f64>() {
                    Ok(value) if value.is_finite() => {
                        let event = al_data::LabelEvent {
                            row_id,
                            value,
                            round: None,
                            annotator: None,
                            note: None,
                        };
                        project.write(|tx| store::apply_labels(tx, &[event], "annotator"))?;
                        labeled += 1;
                        since_refit += 1;
                        if since_refit >= args.refit_every.max(1) {
                            fit_on_training(project, &mut scorer, args.seed)?;
                            selector.reset_window();
                            since_refit = 0;
                        }
                        continue 'rows;
                    }
                    _ => println!("  {text:?} is not a number; try again"),
                },
            }
        }
    }
    if global.json {
        print_json(&json!({
            "seen": selector.seen,
            "queried": selector.queried,
            "threshold": if selector.threshold.is_finite() { Some(selector.threshold) } else { None },
            "added": added,
            "labeled": labeled,
        }));
    } else if !global.quiet {
        println!(
            "\nstreamed {added} row(s): {} queried, {labeled} labeled",
            selector.queried
        );
    }
    Ok(())
}

fn fit_on_training(project: &Project, scorer: &mut RowScorer, seed: u64) -> Result<()> {
    let train = project.load(Subset::Training, true)?;
    let y = train.targets();
    scorer.fit(&Matrix::new(train.features, train.width), &y, seed)?;
    Ok(())
}

/// The scorer model's prediction for a one-row matrix, and its members'.
fn predict_one(scorer: &RowScorer, x: &Matrix) -> (f64, Option<Vec<Vec<f64>>>) {
    match scorer.fitted() {
        Some(m) => (m.predict(x)[0], m.predict_members(x)),
        None => (f64::NAN, None),
    }
}
