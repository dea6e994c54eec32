//! `stream`: rows arrive one at a time; each is added to the project and
//! queried or let go on the spot.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use serde_json::json;

use al::intervals::Calibration;
use al::Coverage;
use al_data::{store, Project, QueriedRow, RoundRecord, Subset};
use al_models::{Fit, Predict};
use al_models::{Matrix, ModelSpec};
use al_query::stream::{Rule, StreamScorer, StreamSelector};
use al_query::Strategy;

use crate::prompt::{ask, Answer, Question};

use crate::cli::{Global, StreamArgs};
use crate::output::{notice, print_json};
use al_data::batch::{stage_round, BatchFile, BatchRow, StagedBatch};

/// An arriving row the stream chose to ask about.
struct Queried {
    /// Its index among the arriving rows.
    index: usize,
    utility: f64,
    prediction: f64,
    /// The model's own spread, where it has one.
    spread: Option<f64>,
    interval: Option<(f64, f64)>,
}

pub fn run(global: &Global, args: StreamArgs) -> Result<()> {
    if args.interactive && args.input.as_os_str() == "-" {
        bail!("--interactive reads answers from stdin, so the rows must come from a file");
    }
    let mut project = Project::open(&global.project)?;
    let rule = match args.threshold {
        Some(t) => Rule::Threshold(t),
        None => Rule::Budget(args.budget.unwrap_or(0.1)),
    };
    let registry = al::plugins::registry(&global.settings(), Some(&project))?;
    let spec = registry.model(&al::plugins::model_text(&project, args.model.as_deref())?)?;
    let strategy = registry.parse(&args.strategy)?;
    let input = Input::open(&args.input)?;
    let prepared = project.prepare_rows(input.path())?;
    let arriving = Matrix::new(prepared.dense.concat(), project.recipe()?.n_features());
    let mut fitted = Fitted::new(&spec, &*strategy, args.seed, args.candidates);
    if args.interactive {
        return interactive(
            global,
            &mut project,
            &prepared,
            &arriving,
            fitted,
            rule,
            &args,
        );
    }
    for issue in prepared.issues.iter().take(20) {
        notice(global.quiet, issue);
    }
    fitted.fit_on_training(&project)?;
    let mut selector = StreamSelector::new(rule, args.seed);
    let spinner =
        crate::output::spinner(global, &format!("scoring {} arriving rows", prepared.len()));
    let mut queried: Vec<Queried> = Vec::new();
    for i in 0..prepared.len() {
        if prepared.labels[i].is_some() {
            continue; // arrived labeled: nothing to ask
        }
        let utility = fitted.scorer.score(&arriving, i)?;
        if selector.decide(utility) {
            let guess = fitted.predict_one(&arriving, i)?;
            queried.push(Queried {
                index: i,
                utility,
                prediction: guess.prediction,
                spread: guess.spread,
                interval: guess.interval,
            });
        }
    }
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    let record = RoundRecord {
        strategy: format!("stream:{}", strategy.name()),
        model: spec.to_string(),
        seed: args.seed,
        batch: queried.len(),
        params: json!({"rule": format!("{rule:?}")}).to_string(),
    };
    let (round, staged) = add_and_stage(&mut project, &args, &prepared, &queried, &record)?;
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

/// Adds every arriving row and, when some were queried, records their round
/// and stages its batch file, all in one transaction.
fn add_and_stage(
    project: &mut Project,
    args: &StreamArgs,
    prepared: &al_data::store::PreparedRows,
    queried: &[Queried],
    record: &RoundRecord,
) -> Result<(Option<i64>, Option<StagedBatch>)> {
    let headers = project.headers()?;
    let file = BatchFile {
        out: args.out.as_deref(),
        headers: &headers,
        target: project.recipe()?.target_index(),
    };
    let raws = queried
        .iter()
        .map(|q| raw_cells(&prepared.raw[q.index]))
        .collect::<Result<Vec<_>>>()?;
    let mut staged: Option<StagedBatch> = None;
    let round = project.write(|tx| {
        let first = store::insert_prepared(tx, prepared, "stream")?;
        if queried.is_empty() {
            return Ok(None);
        }
        let rows: Vec<QueriedRow> = queried
            .iter()
            .enumerate()
            .map(|(k, q)| QueriedRow {
                row_id: first + q.index as i64,
                rank: k + 1,
                score: q.utility,
                prediction: Some(q.prediction),
                spread: q.spread,
            })
            .collect();
        let batch: Vec<BatchRow> = queried
            .iter()
            .zip(&rows)
            .zip(raws)
            .map(|((q, r), raw)| BatchRow {
                row_id: r.row_id,
                rank: r.rank,
                score: r.score,
                prediction: r.prediction,
                interval: q.interval,
                raw,
            })
            .collect();
        let (round, batch) = stage_round(tx, record, &rows, file, &batch)?;
        staged = Some(batch);
        Ok(Some(round))
    });
    Ok(StagedBatch::settle(round, staged)?)
}

/// Rows one at a time: each is added in its own transaction, a queried one
/// is asked at once, and the model refits every `--refit-every` labels;
/// stopping (q, or the end of stdin) keeps everything entered so far.
fn interactive(
    global: &Global,
    project: &mut Project,
    prepared: &al_data::store::PreparedRows,
    arriving: &Matrix,
    mut fitted: Fitted,
    rule: Rule,
    args: &StreamArgs,
) -> Result<()> {
    let headers = project.headers()?;
    let target_name = project.recipe()?.target;
    let bounds = project.target_bounds()?;
    fitted.fit_on_training(project)?;
    let mut selector = StreamSelector::new(rule, args.seed);
    let mut lines = crate::prompt::stdin_lines();
    let (mut added, mut labeled, mut since_refit) = (0usize, 0usize, 0usize);
    for i in 0..prepared.len() {
        // Scored before the row is added: a strategy that cannot score
        // stops the stream with the project as it was.
        let utility = match prepared.labels[i] {
            Some(_) => None,
            None => Some(fitted.scorer.score(arriving, i)?),
        };
        let one = prepared.one(i);
        let row_id = project.write(|tx| store::insert_prepared(tx, &one, "stream"))?;
        added += 1;
        let Some(utility) = utility else {
            continue;
        };
        if !selector.decide(utility) {
            continue;
        }
        let raw = raw_cells(&prepared.raw[i])?;
        let question = Question {
            row_id,
            context: format!("utility {utility:.4}"),
            headers: &headers,
            raw: &raw,
            target: &target_name,
            prediction: Some(fitted.predict_one(arriving, i)?.prediction),
            bounds,
        };
        match ask(&mut lines, &question)? {
            Answer::Stop => break,
            Answer::Skip => continue,
            Answer::Value(value) => {
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
                if since_refit >= args.refit_every {
                    fitted.fit_on_training(project)?;
                    selector.reset_window();
                    since_refit = 0;
                }
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

/// The rows' file: the one named, or stdin read to the end into a
/// temporary file (kept until the command ends).
enum Input {
    File(PathBuf),
    Stdin(tempfile::NamedTempFile),
}

impl Input {
    fn open(path: &std::path::Path) -> Result<Input> {
        if path.as_os_str() != "-" {
            return Ok(Input::File(path.to_path_buf()));
        }
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("cannot read stdin")?;
        let file = tempfile::NamedTempFile::new()?;
        std::fs::write(file.path(), bytes)?;
        Ok(Input::Stdin(file))
    }

    fn path(&self) -> &std::path::Path {
        match self {
            Input::File(p) => p,
            Input::Stdin(f) => f.path(),
        }
    }
}

/// A prepared row's raw cells, stored as a JSON list of strings.
fn raw_cells(json: &str) -> Result<Vec<String>> {
    serde_json::from_str(json).context("a prepared row's raw cells are not a JSON list of strings")
}

/// What a stream scores and predicts with, refitted on the project's
/// labeled training rows together.
struct Fitted<'a> {
    scorer: StreamScorer<'a>,
    learner: Box<dyn Fit>,
    model: Option<Box<dyn Predict>>,
    /// Intervals calibrated on the same rows, once there are labels enough
    /// for 90 %.
    calibration: Option<Calibration>,
    seed: u64,
}

impl<'a> Fitted<'a> {
    fn new(spec: &'a ModelSpec, strategy: &'a dyn Strategy, seed: u64, candidates: usize) -> Self {
        Fitted {
            scorer: StreamScorer::new(strategy, spec, seed, candidates),
            learner: spec.build().expect("a parsed spec builds"),
            model: None,
            calibration: None,
            seed,
        }
    }

    fn fit_on_training(&mut self, project: &Project) -> Result<()> {
        let train = project.load(Subset::Training, true)?;
        let y = train.targets();
        let x = Matrix::new(train.features, train.width);
        let model = self.learner.fit(&x, &y, self.seed)?;
        // Too few labels for a 90 % interval: the batch file leaves the
        // bounds empty, as `query` does.
        self.calibration =
            if y.len() >= al_models::conformal::min_labels(Coverage::default().level()) {
                let labeled = al::intervals::Labeled {
                    learner: &*self.learner,
                    fitted: &*model,
                    x: &x,
                    y: &y,
                };
                Some(Calibration::fit(labeled, self.seed)?)
            } else {
                None
            };
        self.model = Some(model);
        self.scorer.fit(x, y, self.seed);
        Ok(())
    }

    /// The model's prediction for arriving row `i`, its spread and its
    /// 90 % conformal interval.
    fn predict_one(&self, arriving: &Matrix, i: usize) -> Result<Guess> {
        let model = self
            .model
            .as_ref()
            .context("the stream's model was not fitted")?;
        let x = arriving.select(&[i]);
        let prediction = model.predict(&x)?[0];
        let interval = match &self.calibration {
            Some(c) => c
                .intervals(&**model, &x, &[prediction], Coverage::default(), false)?
                .get(0),
            None => None,
        };
        Ok(Guess {
            prediction,
            spread: model.predict_std(&x)?.map(|s| s[0]),
            interval,
        })
    }
}

/// The model's guess for one arriving row.
struct Guess {
    prediction: f64,
    spread: Option<f64>,
    interval: Option<(f64, f64)>,
}
