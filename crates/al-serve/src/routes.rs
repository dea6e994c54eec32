//! Requests: the access guard, the pages, and the form posts that change
//! the project. Work on the project file runs on tokio's blocking threads;
//! every change is one transaction.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Form, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::Markup;

use al_data::batch::{batch_csv, BatchRow};
use al_data::store::{self, AnswerOutcome, RetractOutcome};

use crate::auth::{self, ANNOTATOR_COOKIE, CSRF_COOKIE, TOKEN_COOKIE};
use crate::pages::{self, LabelView, ProjectView, RowView};
use crate::{context, App, BODY_LIMIT};

type Shared = Arc<App>;

pub fn router(app: Shared) -> Router {
    Router::new()
        .route("/", get(project_page))
        .route("/label", get(label_page))
        .route("/annotator", get(name_page).post(set_annotator))
        .route("/answer", post(answer))
        .route("/skip", post(skip))
        .route("/undo", post(undo))
        .route("/query", post(query))
        .route("/plot.svg", get(plot))
        .route("/download/batch.csv", get(download_batch))
        .route("/download/export.csv", get(download_export))
        .route("/assets/style.css", get(style))
        .route("/assets/app.js", get(script))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app)
}

/// A refusal or failure shown as a page with its status.
struct Problem {
    status: StatusCode,
    title: &'static str,
    text: String,
    back: (&'static str, &'static str),
}

impl Problem {
    fn new(status: StatusCode, title: &'static str, text: impl Into<String>) -> Problem {
        Problem {
            status,
            title,
            text: text.into(),
            back: ("/label", "Back to labeling"),
        }
    }

    fn back_to_project(mut self) -> Problem {
        self.back = ("/", "Back to the project");
        self
    }

    fn internal(e: impl std::fmt::Display) -> Problem {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            format!("{e}"),
        )
    }
}

/// A page's answer: a problem carries its own page.
type Page = Result<Response, Problem>;

struct Rendered<'a>(&'a App, Problem);

impl IntoResponse for Rendered<'_> {
    fn into_response(self) -> Response {
        let Rendered(app, p) = self;
        let page = pages::message(&app.shape.name, p.title, &p.text, p.back);
        (p.status, html_headers(), page.into_string()).into_response()
    }
}

fn html_headers() -> [(header::HeaderName, &'static str); 2] {
    [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
    ]
}

/// Runs `f` on a blocking thread (SQLite calls block).
async fn blocking<T: Send + 'static>(
    app: &Shared,
    f: impl FnOnce(&Shared) -> Result<T, Problem> + Send + 'static,
) -> Result<T, Problem> {
    let app = app.clone();
    tokio::task::spawn_blocking(move || f(&app))
        .await
        .unwrap_or_else(|e| Err(Problem::internal(e)))
}

/// Every request passes here first: the token (or, without one, a
/// loopback `Host`), then the security headers on the way out.
async fn guard(State(app): State<Shared>, request: Request, next: Next) -> Response {
    if let Some(token) = &app.token {
        let from_query = request.uri().query().and_then(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "token")
                .map(|(_, v)| v.into_owned())
        });
        if let Some(given) = from_query {
            if auth::same_secret(&given, token) {
                // Kept in a cookie, dropped from the address bar and history.
                let path = request.uri().path().to_string();
                let mut response = Redirect::to(&path).into_response();
                set_header(
                    &mut response,
                    header::SET_COOKIE,
                    &auth::set_cookie(TOKEN_COOKIE, token, true),
                );
                return secured(response);
            }
        }
        let headers = request.headers();
        let by_cookie = cookie_header(headers)
            .and_then(|c| auth::cookie(c, TOKEN_COOKIE))
            .is_some_and(|c| auth::same_secret(c, token));
        let by_bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|b| auth::same_secret(b.trim(), token));
        if !(by_cookie || by_bearer) {
            let page = pages::unauthorized().into_string();
            return secured((StatusCode::UNAUTHORIZED, html_headers(), page).into_response());
        }
    } else {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        if !auth::is_loopback_host(host) {
            let text = format!(
                "this workbench answers to 127.0.0.1 or localhost only, not {host:?}; to share it on a network, run `al-cli serve --host 0.0.0.0` (it prints an address with a token)"
            );
            return secured((StatusCode::FORBIDDEN, text).into_response());
        }
    }
    secured(next.run(request).await)
}

fn secured(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

fn set_header(response: &mut Response, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        response.headers_mut().append(name, v);
    }
}

fn cookie_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::COOKIE).and_then(|v| v.to_str().ok())
}

/// Who is asking: their name (when given) and the CSRF secret of their
/// browser, made now when it has none.
struct Visitor {
    annotator: Option<String>,
    csrf: String,
    new_csrf: bool,
}

impl Visitor {
    fn of(headers: &HeaderMap) -> Visitor {
        let cookies = cookie_header(headers).unwrap_or("");
        let annotator = auth::cookie(cookies, ANNOTATOR_COOKIE)
            .map(auth::decode_cookie_value)
            .and_then(|n| auth::check_annotator(&n).ok());
        let existing = auth::cookie(cookies, CSRF_COOKIE)
            .filter(|c| c.len() == 64 && c.bytes().all(|b| b.is_ascii_hexdigit()));
        Visitor {
            annotator,
            csrf: existing.map_or_else(auth::random_secret, str::to_string),
            new_csrf: existing.is_none(),
        }
    }

    /// A page for this visitor (sets the CSRF cookie when it is new).
    fn page(&self, status: StatusCode, markup: Markup) -> Response {
        let mut response = (status, html_headers(), markup.into_string()).into_response();
        if self.new_csrf {
            set_header(
                &mut response,
                header::SET_COOKIE,
                &auth::set_cookie(CSRF_COOKIE, &self.csrf, true),
            );
        }
        response
    }
}

/// A posted form's fields.
struct Fields(HashMap<String, String>);

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The form's `csrf` field equals the browser's cookie, else 403.
    fn check_csrf(&self, headers: &HeaderMap) -> Result<(), Problem> {
        let cookie = cookie_header(headers).and_then(|c| auth::cookie(c, CSRF_COOKIE));
        match (cookie, self.get("csrf")) {
            (Some(c), Some(f)) if !c.is_empty() && auth::same_secret(f, c) => Ok(()),
            _ => Err(Problem::new(
                StatusCode::FORBIDDEN,
                "Form refused",
                "this form did not come from this workbench's page (its CSRF token is missing or does not match); reload the page and send it again",
            )),
        }
    }

    fn row_id(&self) -> Result<i64, Problem> {
        let text = self.get("row_id").unwrap_or("").trim();
        text.parse().map_err(|_| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "Form refused",
                format!("field row_id: {text:?} is not a row id"),
            )
        })
    }
}

/// The annotator named in the cookie, or 403 (name first: GET /label).
fn annotator_of(visitor: &Visitor) -> Result<String, Problem> {
    visitor.annotator.clone().ok_or_else(|| {
        Problem::new(
            StatusCode::FORBIDDEN,
            "Who is answering?",
            "give your name on the label page first: every answer records who gave it",
        )
    })
}

/// Posts answer with 303 to the page that shows the outcome.
fn see(location: &str) -> Response {
    Redirect::to(location).into_response()
}

fn respond(app: &App, page: Page) -> Response {
    page.unwrap_or_else(|p| Rendered(app, p).into_response())
}

// ---------------------------------------------------------------- pages

async fn label_page(
    State(app): State<Shared>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let visitor = Visitor::of(&headers);
    let Some(annotator) = visitor.annotator.clone() else {
        return visitor.page(
            StatusCode::OK,
            pages::ask_name(&app.shape.name, &visitor.csrf, None),
        );
    };
    let flash = flash(&params);
    let page = blocking(&app, move |app| {
        let shown = next_row(app, &annotator)?;
        let view = LabelView {
            project: &app.shape.name,
            annotator: &annotator,
            csrf: &visitor.csrf,
            row: shown.row,
            pending: shown.pending,
            with_others: shown.with_others,
            flash,
        };
        Ok(visitor.page(StatusCode::OK, pages::label(view)))
    })
    .await;
    respond(&app, page)
}

fn flash(params: &HashMap<String, String>) -> Option<String> {
    let row = |k: &str| params.get(k).and_then(|v| v.parse::<i64>().ok());
    if let Some(r) = row("saved") {
        return Some(format!("Saved the answer for row {r}."));
    }
    if let Some(r) = row("unchanged") {
        return Some(format!(
            "Row {r} already had that answer; nothing was changed."
        ));
    }
    if let Some(r) = row("undone") {
        return Some(format!(
            "Took back your answer for row {r}; it is pending again."
        ));
    }
    if let Some(r) = row("queried") {
        return Some(format!("Round {r} was queried; its rows are pending."));
    }
    None
}

/// What the label page shows an annotator now.
struct Shown<'a> {
    row: Option<RowView<'a>>,
    pending: usize,
    with_others: usize,
}

fn next_row<'a>(app: &'a Shared, annotator: &str) -> Result<Shown<'a>, Problem> {
    let db = app.db.lock().map_err(Problem::internal)?;
    refresh_if_changed(app, &db)?;
    let pending = db.pending().map_err(Problem::internal)?;
    let ids: Vec<i64> = pending.iter().map(|p| p.row_id).collect();
    let offer = app.leases.lock().map_err(Problem::internal)?.offer(
        annotator,
        &ids,
        Instant::now(),
        app.lease_for,
    );
    let Some(row_id) = offer.row_id else {
        return Ok(Shown {
            row: None,
            pending: ids.len(),
            with_others: offer.with_others,
        });
    };
    let raw = db
        .raw_row(row_id)
        .map_err(Problem::internal)?
        .or(db.synthetic_row(row_id).map_err(Problem::internal)?)
        .unwrap_or_default();
    let round = pending.iter().find(|p| p.row_id == row_id).map(|p| p.round);
    let context = app.context.read().map_err(Problem::internal)?;
    let mut neighbours = Vec::new();
    for n in context.nearest(row_id, 3) {
        let cells = db.raw_row(n.row_id).map_err(Problem::internal)?;
        neighbours.push((n, cells.unwrap_or_default()));
    }
    let model = match (&context.model, &context.no_model) {
        (Some(m), _) => Ok((m.clone(), context.fitted_on)),
        (None, Some(why)) => Err(why.clone()),
        (None, None) => Err("the model is being fitted; reload in a moment".into()),
    };
    Ok(Shown {
        row: Some(RowView {
            row_id,
            round,
            headers: &app.shape.headers,
            raw,
            target: app.shape.target,
            target_name: &app.shape.target_name,
            bounds: app.shape.bounds,
            guess: context.guess(row_id),
            model,
            neighbours,
        }),
        pending: ids.len(),
        with_others: offer.with_others,
    })
}

/// Another process changed the project (a query, an import, an
/// evaluation): reload the label page's context in the background.
fn refresh_if_changed(app: &Shared, db: &al_data::Project) -> Result<(), Problem> {
    let version = db.data_version().map_err(Problem::internal)?;
    let mut reload = app.reload.lock().map_err(Problem::internal)?;
    if reload.running || reload.seen_version == version {
        return Ok(());
    }
    reload.running = true;
    reload.seen_version = version;
    let app = app.clone();
    tokio::task::spawn_blocking(move || {
        let loaded = al_data::Project::open_for_reading(&app.path)
            .map_err(anyhow::Error::from)
            .and_then(|p| {
                let spec = app.host.model(&p)?;
                context::Context::load(&p, &spec)
            });
        match loaded {
            Ok(c) => {
                if let Ok(mut slot) = app.context.write() {
                    *slot = c;
                }
            }
            Err(e) => eprintln!("warning: reloading the label page's context: {e:#}"),
        }
        if let Ok(mut r) = app.reload.lock() {
            r.running = false;
        }
    });
    Ok(())
}

async fn name_page(State(app): State<Shared>, headers: HeaderMap) -> Response {
    let visitor = Visitor::of(&headers);
    visitor.page(
        StatusCode::OK,
        pages::ask_name(&app.shape.name, &visitor.csrf, None),
    )
}

async fn set_annotator(
    State(app): State<Shared>,
    headers: HeaderMap,
    Form(fields): Form<HashMap<String, String>>,
) -> Response {
    let fields = Fields(fields);
    if let Err(p) = fields.check_csrf(&headers) {
        return Rendered(&app, p).into_response();
    }
    let visitor = Visitor::of(&headers);
    match auth::check_annotator(fields.get("name").unwrap_or("")) {
        Ok(name) => {
            let mut response = see("/label");
            set_header(
                &mut response,
                header::SET_COOKIE,
                &auth::set_cookie(ANNOTATOR_COOKIE, &auth::encode_cookie_value(&name), false),
            );
            response
        }
        Err(e) => visitor.page(
            StatusCode::UNPROCESSABLE_ENTITY,
            pages::ask_name(&app.shape.name, &visitor.csrf, Some(&e)),
        ),
    }
}

// ---------------------------------------------------------------- answers

async fn answer(
    State(app): State<Shared>,
    headers: HeaderMap,
    Form(fields): Form<HashMap<String, String>>,
) -> Response {
    let fields = Fields(fields);
    let checked = (|| {
        fields.check_csrf(&headers)?;
        let annotator = annotator_of(&Visitor::of(&headers))?;
        let row_id = fields.row_id()?;
        let text = fields.get("value").unwrap_or("").trim();
        let value: f64 = text.parse().map_err(|_| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Not a number",
                format!(
                    "{}: {text:?} is not a number; nothing was saved",
                    app.shape.target_name
                ),
            )
        })?;
        app.shape.bounds.check(value).map_err(|m| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Out of bounds",
                format!("{}: {text}: {m}; nothing was saved", app.shape.target_name),
            )
        })?;
        Ok((annotator, row_id, value))
    })();
    let (annotator, row_id, value) = match checked {
        Ok(c) => c,
        Err(p) => return Rendered(&app, p).into_response(),
    };
    let page = blocking(&app, move |app| save_answer(app, &annotator, row_id, value)).await;
    respond(&app, page)
}

fn save_answer(app: &Shared, annotator: &str, row_id: i64, value: f64) -> Page {
    let mut db = app.db.lock().map_err(Problem::internal)?;
    let outcome = db
        .write(|tx| store::answer(tx, row_id, value, Some(annotator)))
        .map_err(|e| Problem::new(StatusCode::SERVICE_UNAVAILABLE, "Not saved", e.to_string()))?;
    match outcome {
        AnswerOutcome::Saved { .. } => {
            app.leases.lock().map_err(Problem::internal)?.release(row_id);
            if let Ok(mut c) = app.context.write() {
                c.answered(row_id, value);
            }
            if db.pending().map_err(Problem::internal)?.is_empty() {
                evaluate_in_background(app);
            }
            Ok(see(&format!("/label?saved={row_id}")))
        }
        AnswerOutcome::Unchanged => {
            app.leases.lock().map_err(Problem::internal)?.release(row_id);
            Ok(see(&format!("/label?unchanged={row_id}")))
        }
        AnswerOutcome::Conflict { existing, annotator } => Err(Problem::new(
            StatusCode::CONFLICT,
            "Already answered",
            format!(
                "row {row_id} was answered {existing}{} before your answer arrived; yours was not saved (to change a label, use `al-cli label --row {row_id} --value V`)",
                annotator.map_or(String::new(), |a| format!(" by {a}"))
            ),
        )),
        AnswerOutcome::NotQueried => Err(Problem::new(
            StatusCode::NOT_FOUND,
            "Not in a batch",
            format!("row {row_id} is in the project but no query round asked for it; nothing was saved"),
        )),
        AnswerOutcome::UnknownRow => Err(Problem::new(
            StatusCode::NOT_FOUND,
            "No such row",
            format!("row {row_id} is not in this project; nothing was saved"),
        )),
    }
}

/// The batch is fully answered: measure the model on it, as a label import
/// does, without holding up the annotator.
fn evaluate_in_background(app: &Shared) {
    if app.evaluating.swap(true, Ordering::SeqCst) {
        return;
    }
    let app = app.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = app.host.evaluate(&app.path) {
            eprintln!("warning: evaluating after the batch: {e:#}");
        }
        app.evaluating.store(false, Ordering::SeqCst);
    });
}

async fn skip(
    State(app): State<Shared>,
    headers: HeaderMap,
    Form(fields): Form<HashMap<String, String>>,
) -> Response {
    let fields = Fields(fields);
    let checked = (|| {
        fields.check_csrf(&headers)?;
        Ok::<_, Problem>((annotator_of(&Visitor::of(&headers))?, fields.row_id()?))
    })();
    match checked {
        Ok((annotator, row_id)) => {
            if let Ok(mut leases) = app.leases.lock() {
                leases.skip(&annotator, row_id);
            }
            see("/label")
        }
        Err(p) => Rendered(&app, p).into_response(),
    }
}

async fn undo(
    State(app): State<Shared>,
    headers: HeaderMap,
    Form(fields): Form<HashMap<String, String>>,
) -> Response {
    let fields = Fields(fields);
    let annotator = match fields
        .check_csrf(&headers)
        .and_then(|()| annotator_of(&Visitor::of(&headers)))
    {
        Ok(a) => a,
        Err(p) => return Rendered(&app, p).into_response(),
    };
    let page = blocking(&app, move |app| {
        let mut db = app.db.lock().map_err(Problem::internal)?;
        let latest: Option<i64> = db
            .conn()
            .query_row(
                "SELECT max(event_id) FROM labels WHERE annotator = ?1 AND source = 'annotator' AND round IS NOT NULL",
                [&annotator],
                |r| r.get(0),
            )
            .map_err(Problem::internal)?;
        let nothing = || {
            Problem::new(
                StatusCode::CONFLICT,
                "Nothing to undo",
                format!("{annotator} has no answer to take back"),
            )
        };
        let event = latest.ok_or_else(nothing)?;
        let outcome = db
            .write(|tx| store::retract_answer(tx, event, Some(&annotator)))
            .map_err(|e| Problem::new(StatusCode::SERVICE_UNAVAILABLE, "Not undone", e.to_string()))?;
        match outcome {
            RetractOutcome::Retracted { row_id } => {
                if let Ok(mut c) = app.context.write() {
                    c.retracted(row_id);
                }
                Ok(see(&format!("/label?undone={row_id}")))
            }
            RetractOutcome::Superseded => Err(Problem::new(
                StatusCode::CONFLICT,
                "Not undone",
                "the row of your last answer was labeled again since; only the latest label of a row can be taken back",
            )),
            RetractOutcome::NotFound => Err(nothing()),
        }
    })
    .await;
    respond(&app, page)
}

// ---------------------------------------------------------------- project

async fn project_page(
    State(app): State<Shared>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let visitor = Visitor::of(&headers);
    let flash = flash(&params);
    let page = blocking(&app, move |app| {
        let db = app.db.lock().map_err(Problem::internal)?;
        refresh_if_changed(app, &db)?;
        let pending = db.pending().map_err(Problem::internal)?;
        let view = ProjectView {
            project: &app.shape.name,
            csrf: &visitor.csrf,
            counts: db.counts().map_err(Problem::internal)?,
            pending: pending.len(),
            open_round: pending.iter().map(|p| p.round).max(),
            reports: db.reports().map_err(Problem::internal)?,
            annotators: db.labels_by_annotator().map_err(Problem::internal)?,
            strategies: app.host.strategies(),
            evaluating: app.evaluating.load(Ordering::SeqCst),
            flash,
        };
        Ok(visitor.page(StatusCode::OK, pages::project(view)))
    })
    .await;
    respond(&app, page)
}

async fn query(
    State(app): State<Shared>,
    headers: HeaderMap,
    Form(fields): Form<HashMap<String, String>>,
) -> Response {
    let fields = Fields(fields);
    let checked = (|| {
        fields.check_csrf(&headers)?;
        let strategy = fields.get("strategy").unwrap_or("").trim().to_string();
        let text = fields.get("batch").unwrap_or("").trim();
        let batch: usize = text
            .parse()
            .ok()
            .filter(|b| (1..=100_000).contains(b))
            .ok_or_else(|| {
                Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Query refused",
                    format!("rows: {text:?} is not a whole number from 1 to 100000"),
                )
                .back_to_project()
            })?;
        Ok::<_, Problem>((strategy, batch))
    })();
    let (strategy, batch) = match checked {
        Ok(c) => c,
        Err(p) => return Rendered(&app, p).into_response(),
    };
    let page = blocking(&app, move |app| {
        // Its own connection: answers keep flowing while the strategy runs.
        let queried = app.host.query(&app.path, &strategy, batch).map_err(|e| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Query refused",
                format!("{e:#}"),
            )
            .back_to_project()
        })?;
        Ok(see(&format!("/?queried={}", queried.round)))
    })
    .await;
    respond(&app, page)
}

async fn plot(State(app): State<Shared>) -> Response {
    let page = blocking(&app, move |app| {
        let reports = app
            .db
            .lock()
            .map_err(Problem::internal)?
            .reports()
            .map_err(Problem::internal)?;
        if reports.is_empty() {
            return Err(Problem::new(
                StatusCode::NOT_FOUND,
                "No reports yet",
                "nothing to plot yet",
            ));
        }
        let svg = app
            .host
            .learning_curve(&reports)
            .map_err(Problem::internal)?;
        Ok((
            [
                (header::CONTENT_TYPE, "image/svg+xml"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            svg,
        )
            .into_response())
    })
    .await;
    respond(&app, page)
}

fn attachment(name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from(bytes),
    )
        .into_response()
}

/// The open round's pending rows as a batch file `al-cli label` takes.
async fn download_batch(State(app): State<Shared>) -> Response {
    let page = blocking(&app, move |app| {
        let db = app.db.lock().map_err(Problem::internal)?;
        let pending = db.pending().map_err(Problem::internal)?;
        let Some(round) = pending.iter().map(|p| p.round).max() else {
            return Err(Problem::new(
                StatusCode::NOT_FOUND,
                "No open batch",
                "every queried row has an answer",
            )
            .back_to_project());
        };
        let context = app.context.read().map_err(Problem::internal)?;
        let mut rows = Vec::new();
        for p in pending.iter().filter(|p| p.round == round) {
            let info = db.queried(p.row_id).map_err(Problem::internal)?;
            let guess = context.guess(p.row_id);
            rows.push(BatchRow {
                row_id: p.row_id,
                rank: info.map_or(0, |i| i.rank as usize),
                score: f64::NAN,
                prediction: info.and_then(|i| i.prediction),
                interval: guess.and_then(|g| g.interval),
                raw: db
                    .raw_row(p.row_id)
                    .map_err(Problem::internal)?
                    .or(db.synthetic_row(p.row_id).map_err(Problem::internal)?)
                    .unwrap_or_default(),
            });
        }
        let bytes = batch_csv(&app.shape.headers, app.shape.target, round, &rows)
            .map_err(Problem::internal)?;
        Ok(attachment(&format!("batch-{round}.csv"), bytes))
    })
    .await;
    respond(&app, page)
}

async fn download_export(State(app): State<Shared>) -> Response {
    let page = blocking(&app, move |app| {
        let db = app.db.lock().map_err(Problem::internal)?;
        let bytes = app.host.export_csv(&db).map_err(Problem::internal)?;
        Ok(attachment("export.csv", bytes))
    })
    .await;
    respond(&app, page)
}

async fn style() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        pages::STYLE,
    )
        .into_response()
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        pages::SCRIPT,
    )
        .into_response()
}

async fn not_found(State(app): State<Shared>) -> Response {
    Rendered(
        &app,
        Problem::new(
            StatusCode::NOT_FOUND,
            "Not found",
            "there is no such page here",
        )
        .back_to_project(),
    )
    .into_response()
}
