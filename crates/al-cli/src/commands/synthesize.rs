//! `synthesize`: membership query synthesis. New rows, decoded to raw values
//! through the stored recipe, go out as a batch; their labels come from an
//! annotator (never from the model itself).

use anyhow::{bail, Context, Result};
use serde_json::json;

use al_data::batch::{BatchFile, BatchRow, StagedBatch};
use al_data::{store, Project, RoundRecord, Subset};
use al_models::Matrix;
use al_query::synthesis::{synthesize, Space};
use al_query::{QueryError, QueryInput};

use crate::cli::{Global, SynthesizeArgs};
use crate::output::print_json;

pub fn run(global: &Global, args: SynthesizeArgs) -> Result<()> {
    let mut project = Project::open(&global.project)?;
    let recipe = project.recipe()?;
    let headers = project.headers()?;
    let registry = al::plugins::registry(&global.settings(), Some(&project))?;
    let strategy = registry.parse(&args.strategy)?;
    let spec = registry.model(&al::plugins::model_text(&project, args.model.as_deref())?)?;
    let train = project.load(Subset::Training, true)?;
    if train.len() < 2 {
        bail!("label at least 2 rows before synthesizing");
    }
    let (lx, ly) = (
        Matrix::new(train.features.clone(), train.width),
        train.targets(),
    );
    let fitted = spec.build()?.fit(&lx, &ly, args.seed)?;
    let space = Space::of(&recipe);
    let mut real = project.load_compact(Subset::Training)?;
    real.extend(project.load_compact(Subset::PoolWithPending)?);
    space.fill_missing(&mut real);
    let dense = |points: &[Vec<f64>]| {
        let mut data = Vec::with_capacity(points.len() * recipe.n_features());
        for p in points {
            let start = data.len();
            recipe.expand_into(p, &mut data);
            recipe.scale_dense(&mut data[start..]);
        }
        Matrix::new(data, recipe.n_features())
    };
    // The strategy's per-row utility of synthetic points, as if they were
    // the pool (the same seed each call, so the same fitted models).
    let utility = |points: &[Vec<f64>]| -> Result<Vec<f64>, QueryError> {
        let x = dense(points);
        let input = QueryInput {
            labeled_x: &lx,
            labeled_y: &ly,
            candidates: &x,
            model: &spec,
            batch: x.rows(),
            seed: args.seed,
            max_candidates: x.rows().max(1),
            fitted: None,
        };
        match strategy.utilities(&input) {
            Some(u) => u,
            None => Err(QueryError::NoUtilities(strategy.name())),
        }
    };
    let spinner = crate::output::spinner(
        global,
        &format!("searching for {} rows where the models disagree", args.n),
    );
    let points = synthesize(&space, &real, args.n, args.seed, &utility);
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    let points = points?;
    // Decode, then re-encode what was written: the stored features are
    // exactly what the written cells mean.
    let mut rows = Vec::with_capacity(points.len());
    for (p, _) in &points {
        let cells = recipe.decode(p, headers.len());
        let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
        let mut issues = vec![];
        let compact = recipe.encode(&refs, &mut issues);
        rows.push((cells, compact));
    }
    let x = dense(&rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>());
    let predictions = fitted.predict(&x)?;
    let intervals = al::intervals::for_rows(
        al::intervals::Labeled {
            learner: &*spec.build()?,
            fitted: &*fitted,
            x: &lx,
            y: &ly,
        },
        &x,
        &predictions,
        al::Coverage::default(),
        args.seed,
        false,
    )?;
    let utilities = utility(&rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>())?;
    let record = RoundRecord {
        strategy: format!("synthesize:{}", strategy.name()),
        model: spec.to_string(),
        seed: args.seed,
        batch: args.n,
        params: json!({"synthetic": true}).to_string(),
    };
    let file = BatchFile {
        out: args.out.as_deref(),
        headers: &headers,
        target: recipe.target_index(),
    };
    let made = Synthesized {
        rows: &rows,
        utilities: &utilities,
        predictions: &predictions,
        intervals: &intervals,
    };
    let (round, n, out) = record_and_write(&mut project, &record, file, &made)?;
    if global.json {
        print_json(&json!({"round": round, "rows": n, "file": out.display().to_string()}));
    } else if !global.quiet {
        println!("round {round}: {n} synthetic row(s) -> {}", out.display());
        println!(
            "their row_ids start at {}; label them like any batch: al-cli label {}",
            store::SYNTHETIC_BASE + 1,
            out.display()
        );
    }
    Ok(())
}

/// Synthetic rows ready to record: (decoded cells, compact features) with
/// their utilities and the model's guesses.
struct Synthesized<'a> {
    rows: &'a [(Vec<String>, Vec<f64>)],
    utilities: &'a [f64],
    predictions: &'a [f64],
    intervals: &'a al::Intervals,
}

/// Records the round, its synthetic rows and its batch file in one
/// transaction. Synthetic rows get their ids from the round, so the round
/// is recorded first and the batch staged after them.
fn record_and_write(
    project: &mut Project,
    record: &RoundRecord,
    file: BatchFile,
    made: &Synthesized,
) -> Result<(i64, usize, std::path::PathBuf)> {
    let mut staged: Option<StagedBatch> = None;
    let result = project.write(|tx| {
        let round = store::record_round(tx, record, &[])?;
        let mut batch = Vec::with_capacity(made.rows.len());
        for (k, (cells, compact)) in made.rows.iter().enumerate() {
            let id = store::insert_synthetic(tx, round, cells, compact, made.utilities[k])?;
            batch.push(BatchRow {
                row_id: id,
                rank: k + 1,
                score: made.utilities[k],
                prediction: Some(made.predictions[k]),
                interval: made.intervals.get(k),
                raw: cells.clone(),
            });
        }
        staged = Some(StagedBatch::stage(file, round, &batch)?);
        Ok((round, batch.len()))
    });
    let ((round, n), staged) = StagedBatch::settle(result, staged)?;
    let staged = staged.context("no batch was written")?;
    let out = staged.out.clone();
    staged.publish()?;
    Ok((round, n, out))
}
