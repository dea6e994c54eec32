//! `stream`: rows arrive one at a time; each is added to the project and
//! queried or let go on the spot (the flow is `al::stream`; this file
//! reads the input, asks the annotator in `--interactive` and prints).

use std::io::Read;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use serde_json::json;

use al::stream::{Arrivals, Reply, StreamOptions};
use al::{BatchOut, Project};

use crate::cli::{Global, StreamArgs};
use crate::output::{notice, print_json};
use crate::prompt::{ask, Answer, Question};

pub fn run(global: &Global, args: StreamArgs) -> Result<()> {
    if args.interactive && args.input.as_os_str() == "-" {
        bail!("--interactive reads answers from stdin, so the rows must come from a file");
    }
    let mut project = Project::open(&global.project, global.settings())?;
    let options = StreamOptions {
        strategy: args.strategy.clone(),
        model: args.model.clone(),
        rule: al::stream::rule(args.budget, args.threshold)?,
        seed: args.seed,
        candidates: args.candidates,
    };
    let input = Input::open(&args.input)?;
    let arrivals = project.arrivals(input.path())?;
    if args.interactive {
        return interactive(global, &mut project, &arrivals, &options, &args);
    }
    for issue in arrivals.rows.issues.iter().take(20) {
        notice(global.quiet, issue);
    }
    let spinner =
        crate::output::spinner(global, &format!("scoring {} arriving rows", arrivals.len()));
    let out = BatchOut::from_arg(args.out.as_deref());
    let outcome = project.stream(&arrivals, &options, out);
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    let outcome = outcome?;
    if global.json {
        print_json(&json!({
            "seen": outcome.seen,
            "queried": outcome.queried,
            "threshold": outcome.threshold,
            "added": outcome.added,
            "round": outcome.round,
            "file": outcome.file.as_ref().map(|f| f.display().to_string()),
        }));
    } else if !global.quiet && !outcome.to_stdout {
        println!(
            "streamed {} row(s): {} unlabeled seen, {} queried{}",
            outcome.added,
            outcome.seen,
            outcome.queried,
            outcome
                .file
                .map(|f| format!(" -> {} (round {})", f.display(), outcome.round.unwrap_or(0)))
                .unwrap_or_default()
        );
    }
    Ok(())
}

/// Rows one at a time ([`Project::stream_asking`]): each queried one is
/// put to the annotator in the terminal at once; stopping (q, or the end
/// of stdin) keeps everything entered so far.
fn interactive(
    global: &Global,
    project: &mut Project,
    arrivals: &Arrivals,
    options: &StreamOptions,
    args: &StreamArgs,
) -> Result<()> {
    let headers = project.file().headers()?;
    let target_name = project.file().recipe()?.target;
    let bounds = project.file().target_bounds()?;
    let mut lines = crate::prompt::stdin_lines();
    let outcome = project.stream_asking(arrivals, options, args.refit_every, |row| {
        let question = Question {
            row_id: row.row_id,
            context: format!("utility {:.4}", row.utility),
            headers: &headers,
            raw: &row.raw,
            target: &target_name,
            prediction: Some(row.prediction),
            bounds,
        };
        Ok(match ask(&mut lines, &question)? {
            Answer::Stop => Reply::Stop,
            Answer::Skip => Reply::Skip,
            Answer::Value(value) => Reply::Value(value),
        })
    })?;
    if global.json {
        print_json(&json!({
            "seen": outcome.seen,
            "queried": outcome.queried,
            "threshold": outcome.threshold,
            "added": outcome.added,
            "labeled": outcome.labeled,
        }));
    } else if !global.quiet {
        println!(
            "\nstreamed {} row(s): {} queried, {} labeled",
            outcome.added, outcome.queried, outcome.labeled
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
