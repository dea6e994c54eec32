//! Command-line definitions (clap). Only parsing lives here; each command's
//! work is in `commands/`.

use std::path::PathBuf;

use crate::checked;
use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "al-cli",
    version,
    about = "Active learning for tabular regression: find the rows most worth labeling next.",
    long_about = "Active learning for tabular regression: find the rows most worth labeling next.\n\n\
A project file (SQLite, default ./al.db) holds your data, labels and history:\n  \
al-cli init data.csv --target price   # ingest a CSV with some targets filled in\n  \
al-cli status                         # what is in the project\n  \
al-cli demo                           # a complete example on built-in data",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// The project file to use.
    #[arg(
        short,
        long,
        global = true,
        env = "AL_PROJECT",
        default_value = "al.db"
    )]
    pub project: PathBuf,
    /// Print machine-readable JSON on stdout instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// Print nothing but errors (and JSON when --json is given).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Seconds an external plugin may take before it is stopped.
    #[arg(long = "plugin-timeout", global = true, default_value = "60", value_name = "SECONDS", value_parser = checked::seconds)]
    pub settings: al::Settings,
}

impl Global {
    /// What the library's flows share, from the global options.
    pub fn settings(&self) -> al::Settings {
        self.settings
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a project from a CSV/TSV file whose target is known for some rows.
    Init(Box<InitArgs>),
    /// Bring a project written by an older al-cli to this one's schema (one transaction).
    Upgrade,
    /// Show what the project holds: rows, labels, columns, rounds.
    Status,
    /// Run a complete example on built-in data (no arguments needed).
    Demo(DemoArgs),
    /// List the models and their parameters.
    Models,
    /// List the query strategies with a description and a paper reference.
    Strategies,
    /// Choose the rows most worth labeling next and write them for an annotator.
    Query(QueryArgs),
    /// Import labels: a filled-in batch CSV, or one row with --row/--value.
    Label(LabelArgs),
    /// Fit on all labeled rows and store MAE/MSE/RMSE/R² on the test rows.
    Evaluate(EvaluateArgs),
    /// Show stored evaluations (or a simulation) as a table, markdown, CSV or JSON, with the forecast of the next batches and the stop/continue advice.
    Report(ReportArgs),
    /// Compare strategies on labeled data, the known target playing the annotator.
    Simulate(SimulateArgs),
    /// Show every label event of one row.
    History(HistoryArgs),
    /// Append rows from another file with the same columns (labeled or not).
    Add(AddArgs),
    /// Write every row as it was read, with its current label and its source.
    Export(ExportArgs),
    /// Predict every row (or the pool) with a spread where the model has one.
    Predict(PredictArgs),
    /// List plugins, or register an external one in the project.
    Plugins(PluginsArgs),
    /// Read rows one at a time, add them, and decide for each: query or let go.
    Stream(StreamArgs),
    /// Generate new rows where the committee disagrees most, for an annotator to label.
    Synthesize(SynthesizeArgs),
    /// Open a labeling workbench in the browser: annotators answer pending rows, you watch the errors and query.
    Serve(ServeArgs),
}

#[derive(Args, Debug)]
#[command(
    after_help = "Annotators open http://127.0.0.1:8765/label, give their name once, and answer \
one row at a time (Enter saves, Esc skips, Ctrl+Z undoes). The project page (/) shows counts, \
errors per round with the learning curve, labels per annotator, a query form and downloads.\n\n\
On a network: `--host 0.0.0.0` prints an address ending in ?token=...; share it. Every request \
without the token is refused (401). Stop with Ctrl-C; answers in flight are saved first."
)]
pub struct ServeArgs {
    /// Address to listen on; anything but 127.0.0.1/::1 requires the access token.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
    /// Port to listen on (0: any free port; the address is printed).
    #[arg(long, default_value_t = 8765)]
    pub port: u16,
    /// Read the access token from this file instead of generating one (at least 16 characters).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Minutes a row shown to an annotator stays theirs before it is offered to others.
    #[arg(long, default_value_t = 5.0, value_name = "MINUTES", value_parser = checked::lease_minutes)]
    pub lease: f64,
}

#[derive(Args, Debug)]
pub struct PluginsArgs {
    #[command(subcommand)]
    pub command: PluginsCommand,
}

#[derive(Subcommand, Debug)]
pub enum PluginsCommand {
    /// Built-in, crate, PATH and project plugins, with where each comes from.
    List,
    /// Register an external program under NAME in this project.
    Add {
        name: String,
        /// strategy, model or oracle.
        #[arg(long, default_value = "strategy")]
        kind: String,
        /// The command line, run with `sh -c` (e.g. "python3 my_strategy.py").
        #[arg(long)]
        cmd: String,
    },
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// A CSV/TSV with the project's columns (any order); an empty target means unlabeled.
    pub file: PathBuf,
    /// What the rows become: train (labeled rows train, unlabeled join the
    /// pool), pool (unlabeled rows; the target column may be missing) or
    /// test (labeled rows held out to measure, never queried or trained on).
    #[arg(long = "as", value_enum, default_value_t = RoleArg::Train)]
    pub role: RoleArg,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleArg {
    Train,
    Pool,
    Test,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Where to write the table ("-" for stdout, CSV only).
    #[arg(short, long, default_value = "-")]
    pub out: PathBuf,
    /// Write every unlabeled row as Label Studio tasks instead (JSON: the
    /// row's cells, `row_id`, al's guess as a prediction; rows of the open
    /// batch scored first, in al's order). For the next picks only: `al-cli
    /// query --batch N --label-studio TASKS.json`.
    #[arg(long, value_name = "TASKS.json", conflicts_with = "format")]
    pub label_studio: Option<PathBuf>,
    /// Write al's Label Studio labeling interface (XML: the cells in a
    /// table, a Number control for the target within the project's bounds),
    /// to paste into the project's Labeling Setup → Code.
    #[arg(long, value_name = "CONFIG.xml")]
    pub label_studio_config: Option<PathBuf>,
    /// File format: CSV, or Parquet (numeric columns as floats; needs a
    /// binary built with `--features parquet`).
    #[arg(long, value_enum, default_value_t = TableFormatArg::Csv)]
    pub format: TableFormatArg,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormatArg {
    Csv,
    Parquet,
}

#[derive(Args, Debug)]
pub struct PredictArgs {
    /// Only the unlabeled rows.
    #[arg(long)]
    pub pool: bool,
    /// Model to fit on the labeled training rows.
    /// (Default: the project's model, set by `evaluate --models ... --set-default`; else forest.)
    #[arg(short, long)]
    pub model: Option<String>,
    /// Seed for every random choice: the same seed gives the same result.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Coverage of the `lower`-`upper` intervals (conformal: a forest's
    /// out-of-bag trees, CV+ on the labeled rows for other models;
    /// normalised by the model's spread where it has one), as 0.9 or 90%. Asked for with too few labels, it is an error; by
    /// default (0.9) the bounds are left empty with a note.
    #[arg(long, value_name = "LEVEL", value_parser = checked::coverage)]
    pub coverage: Option<al::Coverage>,
    /// Where to write the table ("-" for stdout, CSV only).
    #[arg(short, long, default_value = "-")]
    pub out: PathBuf,
    /// File format: CSV, or Parquet (needs a binary built with
    /// `--features parquet`).
    #[arg(long, value_enum, default_value_t = TableFormatArg::Csv)]
    pub format: TableFormatArg,
}

#[derive(Args, Debug)]
pub struct QueryArgs {
    /// Query strategy (see `al-cli strategies`) [default: the recommended one].
    #[arg(short, long)]
    pub strategy: Option<String>,
    /// How many rows to ask for.
    #[arg(short, long, default_value_t = 10, value_parser = checked::count)]
    pub batch: usize,
    /// Model the strategy fits (see `al-cli models`).
    /// (Default: the project's model, set by `evaluate --models ... --set-default`; else forest.)
    #[arg(short, long)]
    pub model: Option<String>,
    /// Seed for every random choice: the same seed gives the same result.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Score at most this many candidates in the expensive strategies (emc-retrain).
    #[arg(long, default_value_t = 500, value_parser = checked::count)]
    pub candidates: usize,
    /// Spread the batch out: top 10×batch by utility, then far-apart picks.
    #[arg(long)]
    pub diversity: bool,
    /// Also offer rows already sent out in an unanswered batch.
    #[arg(long)]
    pub include_pending: bool,
    /// Coverage of the `lower`-`upper` interval written beside each guess
    /// (conformal, calibrated on the labeled rows), as 0.9 or 90% [default: 0.9].
    #[arg(long, value_name = "LEVEL", value_parser = checked::coverage)]
    pub coverage: Option<al::Coverage>,
    /// Draw this share of the batch at random from the pool instead of
    /// picking it, as 0.1 or 10%: the audit rows let `report` check the
    /// error it estimates without a test set (they come after the picks,
    /// with no score; a fraction of a row is drawn on that chance)
    /// [default: 0, none].
    #[arg(long, value_name = "SHARE", value_parser = checked::audit)]
    pub audit: Option<al::AuditShare>,
    /// Where to write the batch CSV ("-" for stdout) [default: batch-ROUND.csv].
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// Write the batch as Label Studio tasks instead of a CSV (JSON; al's
    /// guess and interval as each task's prediction, scored so that Label
    /// Studio's Data Manager sorted by prediction score shows al's order).
    #[arg(long, value_name = "TASKS.json", conflicts_with = "out")]
    pub label_studio: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct LabelArgs {
    /// A batch CSV written by `query`, with the target column filled in;
    /// or an answers file: two columns, `row_id` (or the project's id
    /// column, `init --id-col`) and the target, in any order, optionally a
    /// `note` (the shape a lab or a spreadsheet sends back); or a Label
    /// Studio JSON export (`.json`: tasks with `data.row_id`, the label in a
    /// `number` result).
    pub file: Option<PathBuf>,
    /// Ask for each pending row in the terminal (s skips, q quits keeping what was entered).
    #[arg(short, long, conflicts_with_all = ["file", "row"])]
    pub interactive: bool,
    /// Label one row: its row_id ...
    #[arg(long, requires = "value", conflicts_with = "file")]
    pub row: Option<i64>,
    /// ... and its value.
    #[arg(long, requires = "row")]
    pub value: Option<f64>,
    /// Who labeled (stored with each label).
    #[arg(long)]
    pub annotator: Option<String>,
    /// Do not evaluate after importing.
    #[arg(long)]
    pub no_eval: bool,
    /// Model for the evaluation after the import.
    /// (Default: the project's model, set by `evaluate --models ... --set-default`; else forest.)
    #[arg(short, long)]
    pub model: Option<String>,
}

#[derive(Args, Debug)]
pub struct EvaluateArgs {
    /// Model to fit (see `al-cli models`).
    /// (Default: the project's model, set by `evaluate --models ... --set-default`; else forest.)
    #[arg(short, long, conflicts_with = "models")]
    pub model: Option<String>,
    /// Compare models instead: a comma-separated list of model specs
    /// (`forest,gbm:budget=2,members=3,gp`) or `all`. Each is measured by
    /// 5-fold cross-validation on the labeled training rows, the same folds
    /// for all (never on the held-out rows, which stay for honest reports);
    /// nothing is stored unless --set-default.
    #[arg(long, value_parser = parse_spec_list)]
    pub models: Option<SpecList>,
    /// With --models: store the model with the lowest MAE as the project's
    /// model, used by later commands that are not given --model.
    #[arg(long, requires = "models")]
    pub set_default: bool,
    /// Seed for every random choice: the same seed gives the same result.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Markdown,
    Csv,
    Json,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    #[arg(short, long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write an SVG learning curve (MAE against labels).
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Show a stored simulation instead of the labeling reports.
    #[arg(long, value_name = "ID")]
    pub simulation: Option<i64>,
    /// Advise "stop" once the next batch is forecast to cut the MAE by less
    /// than this share of it, as 0.01 or 1%; stored in the project for
    /// `status`, `query` and later reports [default: 1%].
    #[arg(long, value_name = "SHARE", value_parser = checked::stop_below)]
    pub stop_below: Option<al::StopBelow>,
}

#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// Strategies to compare, comma-separated (e.g. qbc,cover:weight=variance,metric=forest); random is always included.
    #[arg(long, default_value = "committee,qbc,gsx,gsy,igs", value_parser = parse_spec_list)]
    pub strategies: SpecList,
    /// Model the strategies use and the curves evaluate.
    /// (Default: the project's model, set by `evaluate --models ... --set-default`; else forest.)
    #[arg(short, long, conflicts_with = "models")]
    pub model: Option<String>,
    /// Run the same strategies under each of these models (comma-separated
    /// specs), on the same initial rows and test splits, one stored
    /// simulation per model: the model and the strategy effects side by side.
    #[arg(long, value_parser = parse_spec_list)]
    pub models: Option<SpecList>,
    /// Rows labeled at the start of each repeat (at least 2).
    #[arg(long, default_value_t = 20, value_parser = checked::at_least_two)]
    pub init: usize,
    /// Rows queried per round.
    #[arg(short, long, default_value_t = 10, value_parser = checked::count)]
    pub batch: usize,
    /// Query rounds per repeat.
    #[arg(long, default_value_t = 20, value_parser = checked::count)]
    pub rounds: usize,
    /// Repeats with different test splits and initial rows (results are mean ± std).
    #[arg(long, default_value_t = 3, value_parser = checked::count)]
    pub repeats: usize,
    /// Seed for every random choice: the same seed gives the same result.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Score at most this many candidates in the expensive strategies.
    #[arg(long, default_value_t = 500, value_parser = checked::count)]
    pub candidates: usize,
    /// Use at most this many pool rows per repeat (a seeded subsample).
    #[arg(long, value_parser = checked::count)]
    pub pool_max: Option<usize>,
    /// Spread each batch out (see `query --diversity`).
    #[arg(long)]
    pub diversity: bool,
    /// Hold out this share of rows per repeat [default: the project's test rows, or 0.25 if it has none].
    #[arg(long, value_parser = checked::open_share)]
    pub test_frac: Option<f64>,
    /// Also write the learning curves as SVG.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// pool: query batches from the pool; stream: rows arrive one by one and
    /// are queried or let go (strategies with a per-row utility); synthesis:
    /// synthetic rows labeled by a kNN oracle against pool mode.
    #[arg(long, value_enum, default_value_t = SimMode::Pool)]
    pub mode: SimMode,
    /// The error whose learning-curve area the ratios compare (both are stored).
    #[arg(long, value_enum, default_value_t = MetricArg::Mae)]
    pub metric: MetricArg,
    /// Every strategy but random also chooses the first --init rows, from
    /// zero labels, with the cold-start strategy (a k-median of the pool).
    #[arg(long)]
    pub cold_start: bool,
    /// Random runs on to this multiple of the rounds (pool mode), so the
    /// labels it needs to catch up with each strategy can be counted: the
    /// "labels saved" columns. 1 stops it at the budget.
    #[arg(long, value_name = "MULTIPLE", default_value_t = al_query::simulate::DEFAULT_RANDOM_BUDGET, value_parser = checked::multiple)]
    pub random_budget: f64,
    /// Who labels synthetic rows in synthesis mode: knn (the mean target of
    /// the k nearest known rows, an approximation of an annotator), knn:k=N,
    /// or the name of an oracle plugin (al-oracle-NAME on PATH, or registered).
    #[arg(long, default_value = "knn")]
    pub oracle: String,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricArg {
    Mae,
    Rmse,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimMode {
    Pool,
    Stream,
    Synthesis,
}

#[derive(Args, Debug)]
pub struct SynthesizeArgs {
    /// How many rows to generate.
    #[arg(short, long, default_value_t = 10, value_parser = checked::count)]
    pub n: usize,
    /// Utility to maximise: any strategy with a per-row utility (committee, the article's; qbc, --model's members; tree-variance; ...).
    #[arg(short, long, default_value = "committee")]
    pub strategy: String,
    /// (Default: the project's model, set by `evaluate --models ... --set-default`; else forest.)
    #[arg(short, long)]
    pub model: Option<String>,
    /// Seed for every random choice: the same seed gives the same result.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where to write them for the annotator [default: batch-ROUND.csv].
    #[arg(short, long)]
    pub out: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct StreamArgs {
    /// Rows to read one by one (a CSV with the project's columns), or - for stdin.
    pub input: PathBuf,
    /// Any strategy with a per-row utility, with its parameters (qbc, committee, tree-variance:depth=3, emcm, density, random, ...; see `al-cli strategies`).
    #[arg(short, long, default_value = "qbc")]
    pub strategy: String,
    /// (Default: the project's model, set by `evaluate --models ... --set-default`; else forest.)
    #[arg(short, long)]
    pub model: Option<String>,
    /// Query a row when its utility exceeds this.
    #[arg(long, conflicts_with = "budget", allow_negative_numbers = true, value_parser = checked::finite)]
    pub threshold: Option<f64>,
    /// Query about this share of rows, with a threshold adapted to recent utilities [default: 0.1].
    #[arg(long, value_parser = checked::share)]
    pub budget: Option<f64>,
    /// Seed for every random choice: the same seed gives the same result.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where to write the queried rows for the annotator [default: batch-ROUND.csv].
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// Ask for each queried row at once in the terminal (s skips, q stops the stream).
    #[arg(short, long, conflicts_with = "out")]
    pub interactive: bool,
    /// With --interactive: refit the model after this many new labels.
    #[arg(long, default_value_t = 10, requires = "interactive", value_parser = checked::count)]
    pub refit_every: usize,
    /// Score at most this many candidates per chunk of arriving rows in the expensive strategies (emc-retrain).
    #[arg(long, default_value_t = 500, value_parser = checked::count)]
    pub candidates: usize,
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// The row_id to show.
    pub row: i64,
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// The data file (CSV or TSV, header row required).
    pub data: PathBuf,
    /// The numeric column to predict; empty cells mark rows still to label.
    #[arg(short, long)]
    pub target: String,
    /// Field delimiter: a character, or "tab"; sniffed from the header when omitted.
    #[arg(long, value_parser = al::parse_delimiter)]
    pub delimiter: Option<u8>,
    /// A column is numeric when at least this fraction of its non-empty cells are numbers.
    #[arg(long, default_value_t = 0.9, value_parser = checked::fraction)]
    pub numeric_threshold: f64,
    /// Treat COL as categorical whatever its cells look like (repeatable).
    #[arg(long, value_name = "COL")]
    pub categorical: Vec<String>,
    /// Treat COL as numeric; cells that are not numbers become missing (repeatable).
    #[arg(long, value_name = "COL")]
    pub numeric: Vec<String>,
    /// Leave COL out entirely (repeatable).
    #[arg(long, value_name = "COL")]
    pub drop: Vec<String>,
    /// COL identifies rows: kept in the raw rows, not used as a feature (repeatable).
    #[arg(long, value_name = "COL")]
    pub id_col: Vec<String>,
    /// Fill missing numbers: mean, median or a number; COL=HOW for one column (repeatable).
    #[arg(long, value_name = "HOW|COL=HOW")]
    pub impute: Vec<String>,
    /// Add a 0/1 feature per numeric column that had missing cells.
    #[arg(long)]
    pub missing_indicators: bool,
    /// Keep at most this many levels per categorical column; the rarest are pooled into __other__.
    #[arg(long, default_value_t = 50, value_parser = checked::count)]
    pub max_levels: usize,
    /// What to do with a target cell that is not a number.
    #[arg(long, value_enum, default_value_t = BadTargetArg::Error)]
    pub bad_target: BadTargetArg,
    /// Share of labeled rows held out to measure MAE/MSE [default: 0.2 with >= 50 labels, else 0].
    #[arg(long, value_parser = checked::held_out_share)]
    pub test_frac: Option<f64>,
    /// Unlabeled rows for the pool from a file of their own (same columns; the target may be missing).
    #[arg(long, value_name = "FILE")]
    pub pool: Option<PathBuf>,
    /// The held-out rows from a file of their own (same columns, every row labeled); replaces --test-frac.
    #[arg(long, value_name = "FILE", conflicts_with = "test_frac")]
    pub test: Option<PathBuf>,
    /// Seed for the test split.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Smallest valid target value (labels below are rejected).
    #[arg(long, allow_negative_numbers = true, value_parser = checked::finite)]
    pub min: Option<f64>,
    /// Largest valid target value (labels above are rejected).
    #[arg(long, allow_negative_numbers = true, value_parser = checked::finite)]
    pub max: Option<f64>,
    /// Replace an existing project file.
    #[arg(long)]
    pub force: bool,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadTargetArg {
    /// Stop with an error naming the line.
    Error,
    /// Leave such rows unlabeled.
    Skip,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Where to put the demo's files [default: a new temporary directory].
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// Strategy or model specs from one comma-separated list.
#[derive(Debug, Clone)]
pub struct SpecList(pub Vec<String>);

/// Splits on commas, except that a `key=value` piece without a strategy name
/// continues the previous spec: `qbc,density:base=qbc,k=3` is two strategies.
fn parse_spec_list(s: &str) -> Result<SpecList, String> {
    let mut specs: Vec<String> = Vec::new();
    for piece in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match specs.last_mut() {
            Some(last) if piece.contains('=') && !piece.contains(':') && last.contains(':') => {
                last.push(',');
                last.push_str(piece);
            }
            _ => specs.push(piece.to_string()),
        }
    }
    if specs.is_empty() {
        return Err("name at least one".into());
    }
    Ok(SpecList(specs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_is_global_before_or_after_the_subcommand() {
        let a = Cli::try_parse_from(["al-cli", "-p", "x.db", "status"]).unwrap();
        let b = Cli::try_parse_from(["al-cli", "status", "--project", "x.db"]).unwrap();
        assert_eq!(a.global.project, PathBuf::from("x.db"));
        assert_eq!(b.global.project, PathBuf::from("x.db"));
    }

    #[test]
    fn strategy_lists_keep_multi_parameter_specs_together() {
        let l = parse_spec_list("qbc,density:base=qbc,k=3, gsx").unwrap();
        assert_eq!(l.0, vec!["qbc", "density:base=qbc,k=3", "gsx"]);
    }
}
