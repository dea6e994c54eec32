//! The HTML of every page, rendered with maud: every value and column name
//! goes through its escaping, so a `<script>` in a cell is shown as text.

use maud::{html, Markup, DOCTYPE};

use al_data::store::{AnnotatorCount, Bounds};
use al_data::{Counts, Report};

use crate::context::{Guess, Neighbour};

/// The stylesheet and script, compiled into the binary.
pub const STYLE: &str = include_str!("../assets/style.css");
pub const SCRIPT: &str = include_str!("../assets/app.js");

fn layout(title: &str, project: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (project) " · al" }
                link rel="stylesheet" href="/assets/style.css";
                script src="/assets/app.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/" { "al" }
                    span.project { (project) }
                    nav {
                        a href="/label" { "Label" }
                        a href="/" { "Project" }
                    }
                }
                main { (body) }
            }
        }
    }
}

fn csrf_field(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(csrf); }
}

/// [`al_models::metrics::display`] without trailing zeros in its fixed range.
fn number(v: f64) -> String {
    let text = al_models::metrics::display(v);
    if text.contains('e') {
        text
    } else {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A page with one message: errors, refusals, "nothing to do".
pub fn message(project: &str, title: &str, text: &str, back: (&str, &str)) -> Markup {
    layout(
        title,
        project,
        html! {
            section.card.message {
                h1 { (title) }
                p { (text) }
                p { a.button href=(back.0) { (back.1) } }
            }
        },
    )
}

/// Asks the annotator's name once; kept in a cookie of this browser.
pub fn ask_name(project: &str, csrf: &str, error: Option<&str>) -> Markup {
    layout(
        "Who is labeling?",
        project,
        html! {
            section.card.narrow {
                h1 { "Who is labeling?" }
                p { "Your name goes into the history of every label you give. This browser remembers it." }
                @if let Some(e) = error { p.error role="alert" { (e) } }
                form method="post" action="/annotator" {
                    (csrf_field(csrf))
                    label for="name" { "Your name" }
                    input #name type="text" name="name" maxlength="64" required autofocus autocomplete="name";
                    button.primary type="submit" { "Start labeling" }
                }
            }
        },
    )
}

/// One row to answer, as the label page shows it.
pub struct RowView<'a> {
    pub row_id: i64,
    pub round: Option<i64>,
    pub headers: &'a [String],
    pub raw: Vec<String>,
    pub target: usize,
    pub target_name: &'a str,
    pub bounds: Bounds,
    pub guess: Option<Guess>,
    /// The model and its label count, or why there is no guess.
    pub model: Result<(String, usize), String>,
    /// The nearest labeled rows with their raw cells.
    pub neighbours: Vec<(Neighbour, Vec<String>)>,
}

/// What the label page says around the row.
pub struct LabelView<'a> {
    pub project: &'a str,
    pub annotator: &'a str,
    pub csrf: &'a str,
    pub row: Option<RowView<'a>>,
    pub pending: usize,
    pub with_others: usize,
    pub flash: Option<String>,
}

pub fn label(view: LabelView) -> Markup {
    let body = html! {
        div.status {
            span { "Labeling as " strong #annotator { (view.annotator) } " · " a href="/annotator" { "not you?" } }
            span #pending { (view.pending) " pending" @if view.with_others > 0 { ", " (view.with_others) " with other annotators" } }
        }
        @if let Some(f) = &view.flash { p.flash role="status" { (f) } }
        @match &view.row {
            Some(row) => { (row_card(row, view.csrf)) }
            None => {
                section.card.message #done {
                    @if view.pending == 0 {
                        h1 { "Nothing to label" }
                        p { "Every queried row has an answer. Query the next batch on the " a href="/" { "project page" } "." }
                    } @else {
                        h1 { "Every pending row is with another annotator" }
                        p { "Rows come back on offer when their annotator answers, skips, or leaves them for a few minutes. Reload in a moment." }
                    }
                }
            }
        }
        form #undo-form method="post" action="/undo" {
            (csrf_field(view.csrf))
            button.link type="submit" title="Ctrl+Z" { "Undo my last answer" }
        }
    };
    layout("Label", view.project, body)
}

fn bounds_text(b: Bounds) -> Option<String> {
    match (b.min, b.max) {
        (Some(lo), Some(hi)) => Some(format!("between {} and {}", number(lo), number(hi))),
        (Some(lo), None) => Some(format!("at least {}", number(lo))),
        (None, Some(hi)) => Some(format!("at most {}", number(hi))),
        (None, None) => None,
    }
}

fn row_card(row: &RowView, csrf: &str) -> Markup {
    html! {
        section.card #row data-row=(row.row_id) {
            h1 {
                "Row " (row.row_id)
                @if let Some(r) = row.round { span.muted { " · round " (r) } }
            }
            div.guess {
                @match (&row.guess, &row.model) {
                    (Some(g), Ok((model, n))) => {
                        span.label { "Model's guess" }
                        strong #prediction { (number(g.prediction)) }
                        @if let Some((lo, hi)) = g.interval {
                            span #interval { " (" (al::Coverage::default().percent()) " conformal interval: " (number(lo)) " to " (number(hi)) ")" }
                        }
                        span.muted { " · " (model) ", fitted on " (n) " labels" }
                    }
                    (_, Err(why)) => { span.muted { "No model guess: " (why) } }
                    _ => { span.muted { "No model guess for this row yet." } }
                }
            }
            form #answer method="post" action="/answer" autocomplete="off" {
                (csrf_field(csrf))
                input type="hidden" name="row_id" value=(row.row_id);
                label for="value" { (row.target_name) }
                input #value type="number" step="any" name="value" required autofocus
                    min=[row.bounds.min] max=[row.bounds.max]
                    placeholder=(row.guess.map_or(String::new(), |g| number(g.prediction)));
                button.primary type="submit" title="Enter" { "Save ⏎" }
                button #skip type="submit" formaction="/skip" formnovalidate title="Esc" { "Skip" }
                @if let Some(b) = bounds_text(row.bounds) { span.muted.hint { "A number " (b) "." } }
            }
            table.cells {
                thead {
                    tr {
                        th { "column" }
                        th { "this row" }
                        @for (n, _) in &row.neighbours {
                            th.neighbour title={ "distance " (number(n.distance)) } { "similar row " (n.row_id) }
                        }
                    }
                }
                tbody {
                    @for (c, name) in row.headers.iter().enumerate() {
                        @if c == row.target {
                            tr.target {
                                th { (name) }
                                td { "?" }
                                @for (n, _) in &row.neighbours { td.neighbour { strong { (number(n.label)) } } }
                            }
                        } @else {
                            tr {
                                th { (name) }
                                td { (row.raw.get(c).map_or("", String::as_str)) }
                                @for (_, cells) in &row.neighbours { td.neighbour { (cells.get(c).map_or("", String::as_str)) } }
                            }
                        }
                    }
                }
            }
            @if row.neighbours.is_empty() { p.muted { "No labeled rows to compare with yet." } }
        }
    }
}

/// A spec's name without its parameters (the page shows them on hover).
fn short_spec(spec: &str) -> &str {
    spec.split(':').next().unwrap_or(spec)
}

/// What the project page shows.
pub struct ProjectView<'a> {
    pub project: &'a str,
    pub csrf: &'a str,
    pub counts: Counts,
    pub pending: usize,
    pub open_round: Option<i64>,
    pub reports: Vec<Report>,
    /// The forecast of the next batches and the stopping advice.
    pub forecast: Option<al::ProjectForecast>,
    pub annotators: Vec<AnnotatorCount>,
    pub strategies: Vec<String>,
    pub evaluating: bool,
    pub flash: Option<String>,
}

/// The forecast MAE a few batches ahead, and the advice.
fn forecast_block(f: &al::ProjectForecast) -> Markup {
    let word = match f.advice.decision {
        al::Decision::Stop => "Stop",
        al::Decision::Continue => "Continue",
    };
    html! {
        @if let Some(mae) = &f.mae {
            p #forecast {
                "Forecast MAE (80 % band): "
                @for (k, a) in mae.ahead.iter().enumerate() {
                    @if k > 0 { " · " }
                    (a.labels) " labels " (number(a.expected)) " [" (number(a.low)) ", " (number(a.high)) "]"
                }
            }
        }
        p #advice { strong { (word) } ": " (f.advice.explain()) }
    }
}

pub fn project(view: ProjectView) -> Markup {
    let c = view.counts;
    let body = html! {
        @if let Some(f) = &view.flash { p.flash role="status" { (f) } }
        section.counts {
            div { strong #rows { (c.rows) } span { "rows" } }
            div { strong #labeled { (c.labeled) } span { "labeled" } }
            div { strong { (c.test) } span { "held out" } }
            div { strong #pending-count { (view.pending) } span { "pending" } }
            div { strong { (c.rounds) } span { "rounds" } }
        }
        div.columns {
            section.card {
                h2 { "Errors by round" }
                @if view.reports.is_empty() {
                    p.muted { "No reports yet: one is made when a batch is fully answered (or run " code { "al-cli evaluate" } ")." }
                } @else {
                    img #plot src="/plot.svg" alt="learning curve: test MAE by number of labels, the forecast dashed";
                    @if let Some(f) = &view.forecast {
                        (forecast_block(f))
                    }
                    @if view.reports.last().is_some_and(|r| r.method == al::EvalMethod::PoolEstimate) {
                        p.muted #measured-note { "No held-out rows: the MAE is the error on the unlabeled rows, estimated from the labeled rows and corrected for how al picked them (80 % interval). Plain cross-validation on the picked rows, shown beside it, overstates the error." }
                    }
                    table.numbers #reports {
                        thead { tr { th { "round" } th { "labels" } th { "MAE" } th title="80 % interval of an estimated MAE" { "80 % interval" } th { "MSE" } th { "measured" } th title="plain 5-fold cross-validation on the labeled rows (the rows al picked)" { "CV MAE, picked rows" } th { "strategy" } th { "model" } } }
                        tbody {
                            @for r in &view.reports {
                                tr {
                                    td { (r.round.map_or("-".to_string(), |v| v.to_string())) }
                                    td { (r.labels) }
                                    td { (number(r.mae)) }
                                    td.range { (r.interval.map_or("-".to_string(), |i| format!("{} – {}", number(i.mae_low), number(i.mae_high)))) }
                                    td { (number(r.mse)) }
                                    td title=(al::method_text(r.method)) { (r.method.as_str()) }
                                    td { (r.cross_validation.map_or("-".to_string(), |c| number(c.mae))) }
                                    td.spec title=(r.strategy.as_deref().unwrap_or("")) { (short_spec(r.strategy.as_deref().unwrap_or("-"))) }
                                    td.spec title=(r.model) { (short_spec(&r.model)) }
                                }
                            }
                        }
                    }
                }
                @if view.evaluating { p.muted { "Evaluating the finished batch…" } }
            }
            section.card {
                h2 { "Next batch" }
                @if view.pending > 0 {
                    p { (view.pending) " row(s) are still pending. " a href="/label" { "Label them" } " or query more." }
                }
                form #query method="post" action="/query" {
                    (csrf_field(view.csrf))
                    label for="strategy" { "Strategy" }
                    select #strategy name="strategy" {
                        @for s in &view.strategies { option value=(s) { (s) } }
                    }
                    label for="batch" { "Rows" }
                    input #batch type="number" name="batch" min="1" max="100000" value="10" required;
                    button.primary type="submit" { "Query" }
                }
                h2 { "Downloads" }
                ul {
                    @if let Some(r) = view.open_round {
                        li { a href="/download/batch.csv" download { "Batch of round " (r) } " (pending rows, for " code { "al-cli label" } ")" }
                    }
                    li { a href="/download/export.csv" download { "Export" } " (every row with its label)" }
                }
                h2 { "Labels by annotator" }
                table.numbers #annotators {
                    thead { tr { th { "annotator" } th { "labels" } } }
                    tbody {
                        @for a in &view.annotators {
                            tr {
                                td { @match &a.annotator { Some(n) => { (n) }, None => { span.muted { "(no name: init, add, imports)" } } } }
                                td { (a.labels) }
                            }
                        }
                    }
                }
            }
        }
    };
    layout("Project", view.project, body)
}

/// The page for a request without the token.
pub fn unauthorized() -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { "al: access token needed" } }
            body {
                h1 { "Access token needed" }
                p { "This workbench is shared with a token. Open the address " code { "al-cli serve" } " printed (it ends in " code { "?token=…" } "), or ask whoever runs it." }
            }
        }
    }
}
