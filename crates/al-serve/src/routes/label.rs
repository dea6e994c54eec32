//! The label page: the annotator's name, the next row, and the answer,
//! skip and undo posts.

use std::sync::atomic::Ordering;
use std::time::Instant;

use al_data::store::{self, AnswerOutcome, RetractOutcome};

use super::*;
use crate::context;
use crate::pages::{LabelView, RowView};

pub(super) async fn page(
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

pub(super) fn flash(params: &HashMap<String, String>) -> Option<String> {
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
    let mut leases = app.leases.lock().map_err(Problem::internal)?;
    let is_pending = |row| matches!(db.row_state(row), Ok(Some(s)) if s.label.is_none());
    let offer = db
        .with_pending(|rows| {
            leases.offer(
                annotator,
                rows.map(|p| p.row_id),
                is_pending,
                Instant::now(),
                app.lease_for,
            )
        })
        .map_err(Problem::internal)?;
    drop(leases);
    let pending = db.pending_count().map_err(Problem::internal)? as usize;
    let Some(row_id) = offer.row_id else {
        return Ok(Shown {
            row: None,
            pending,
            with_others: offer.with_others,
        });
    };
    let raw = db
        .raw_row(row_id)
        .map_err(Problem::internal)?
        .or(db.synthetic_row(row_id).map_err(Problem::internal)?)
        .unwrap_or_default();
    let round = db
        .queried(row_id)
        .map_err(Problem::internal)?
        .map(|q| q.round);
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
        pending,
        with_others: offer.with_others,
    })
}

/// Another process changed the project (a query, an import, an
/// evaluation): reload the label page's context in the background.
pub(super) fn refresh_if_changed(app: &Shared, db: &al_data::Project) -> Result<(), Problem> {
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
                let spec = al::plugins::model_spec(&app.settings, &p, None)?;
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

pub(super) async fn name_page(State(app): State<Shared>, headers: HeaderMap) -> Response {
    let visitor = Visitor::of(&headers);
    visitor.page(
        StatusCode::OK,
        pages::ask_name(&app.shape.name, &visitor.csrf, None),
    )
}

pub(super) async fn set_annotator(State(app): State<Shared>, posted: Posted) -> Response {
    let visitor = &posted.visitor;
    match auth::check_annotator(posted.fields.get("name").unwrap_or("")) {
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

pub(super) async fn answer(State(app): State<Shared>, posted: Posted) -> Response {
    let checked = (|| {
        let annotator = posted.annotator()?;
        let row_id = posted.fields.row_id()?;
        let text = posted.fields.get("value").unwrap_or("").trim();
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
            if !db.has_pending().map_err(Problem::internal)? {
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
pub(super) fn evaluate_in_background(app: &Shared) {
    if app.evaluating.swap(true, Ordering::SeqCst) {
        return;
    }
    let app = app.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = crate::flows::evaluate(app.settings, &app.path) {
            eprintln!("warning: evaluating after the batch: {e:#}");
        }
        app.evaluating.store(false, Ordering::SeqCst);
    });
}

pub(super) async fn skip(State(app): State<Shared>, posted: Posted) -> Response {
    let checked = posted
        .annotator()
        .and_then(|a| Ok((a, posted.fields.row_id()?)));
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

pub(super) async fn undo(State(app): State<Shared>, posted: Posted) -> Response {
    let annotator = match posted.annotator() {
        Ok(a) => a,
        Err(p) => return Rendered(&app, p).into_response(),
    };
    let page = blocking(&app, move |app| {
        let mut db = app.db.lock().map_err(Problem::internal)?;
        let latest = db.latest_answer(&annotator).map_err(Problem::internal)?;
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
