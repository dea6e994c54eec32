//! Label Studio's ML backend protocol, mounted at `/label-studio`: a Label
//! Studio project connects `http://HOST:PORT/label-studio` as its model.
//!
//! * `GET /health`, `GET /`: the backend is up.
//! * `POST /setup`: the model version (the labels and model al's guesses
//!   come from; Label Studio asks for predictions again when it changes).
//! * `POST /predict`: al's guess per task (a `number` result for the
//!   labeling interface's Number control, the conformal interval and the
//!   strategy's utility in its `meta`) and a `score` that orders the Data
//!   Manager as al's query ranked the rows.
//! * `POST /webhook`: annotations created or updated label their row (one
//!   transaction per request, the path `al-cli label` takes), deleted ones
//!   withdraw their label; `START_TRAINING` refits. `POST /train` refits.
//!
//! Tasks name project rows by `data.row_id`; a task without one, or with
//! one the project does not hold, is refused (4xx, naming it) and nothing
//! changes. Errors are JSON `{"error": ...}`, which Label Studio shows.

use axum::body::Bytes;
use serde_json::{json, Value};

use al::label_studio::{GuessOrScore, Guesser, Predicted};
use al_data::label_studio::{self as format, Applied, Control, Webhook};
use al_data::store::RetractOutcome;
use al_models::ModelSpec;

use super::*;

/// The longest body Label Studio may send (a prediction request carries
/// the labeling config and the tasks' data; a webhook, the project's).
pub const LABEL_STUDIO_BODY_LIMIT: usize = 8 * 1024 * 1024;

pub(super) fn router() -> Router<Shared> {
    Router::new()
        .route("/", get(health))
        .route("/health", get(health))
        .route("/setup", post(setup))
        .route("/predict", post(predict))
        .route("/webhook", post(webhook))
        .route("/train", post(train))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(LABEL_STUDIO_BODY_LIMIT))
}

/// A JSON answer.
fn reply(status: StatusCode, body: Value) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response()
}

/// A refusal or failure Label Studio shows: `{"error": message}`.
struct Refusal {
    status: StatusCode,
    message: String,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        reply(self.status, json!({ "error": self.message }))
    }
}

fn error(status: StatusCode, message: impl Into<String>) -> Refusal {
    Refusal {
        status,
        message: message.into(),
    }
}

fn internal(e: impl std::fmt::Display) -> Refusal {
    error(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}"))
}

/// The body as JSON, or 400 saying where it is not.
fn json_body(body: &[u8]) -> Result<Value, Refusal> {
    serde_json::from_slice(body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            format!(
                "the body is not JSON (line {}, column {}): {e}",
                e.line(),
                e.column()
            ),
        )
    })
}

/// Runs `f` on a blocking thread, its error already a response.
async fn blocking_json(
    app: &Shared,
    f: impl FnOnce(&Shared) -> Result<Response, Refusal> + Send + 'static,
) -> Response {
    let app = app.clone();
    match tokio::task::spawn_blocking(move || f(&app)).await {
        Ok(Ok(r)) => r,
        Ok(Err(refusal)) => refusal.into_response(),
        Err(e) => internal(e).into_response(),
    }
}

async fn health(State(app): State<Shared>) -> Response {
    reply(
        StatusCode::OK,
        json!({"status": "UP", "model_class": "al", "project": app.shape.name}),
    )
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "no such route of al's Label Studio backend (it answers /health, /setup, /predict, /webhook and /train)",
    )
    .into_response()
}

/// The project's model and the version its guesses go by now.
fn current_version(app: &Shared, db: &al_data::Project) -> anyhow::Result<(ModelSpec, String)> {
    let spec = al::plugins::model_spec(&app.settings, db, None)?;
    let version = al::label_studio::model_version(db, &spec)?;
    Ok((spec, version))
}

/// The model version and the model fitted for it, refitted when the labels
/// or the project's model changed since the last request.
fn current_guesser(
    app: &Shared,
    db: &al_data::Project,
) -> anyhow::Result<(String, Option<std::sync::Arc<Guesser>>)> {
    let (spec, version) = current_version(app, db)?;
    let mut cache = app.guesser.lock().map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some((cached, guesser)) = &*cache {
        if *cached == version {
            return Ok((version, guesser.clone()));
        }
    }
    let guesser = Guesser::fit(db, &spec)?.map(std::sync::Arc::new);
    *cache = Some((version.clone(), guesser.clone()));
    Ok((version, guesser))
}

async fn setup(State(app): State<Shared>, body: Bytes) -> Response {
    let request = match json_body(&body) {
        Ok(v) => v,
        Err(r) => return r.into_response(),
    };
    if let Some(schema) = request.get("schema").and_then(Value::as_str) {
        if Control::from_config(schema).is_none() {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the labeling interface has no Number control with name and toName: al answers with a number for the target; use al's interface (`al-cli export --label-studio-config config.xml`)",
            )
            .into_response();
        }
    }
    blocking_json(&app, |app| {
        let db = app.db.lock().map_err(internal)?;
        let (_, version) = current_version(app, &db).map_err(internal)?;
        Ok(reply(StatusCode::OK, json!({ "model_version": version })))
    })
    .await
}

/// The row ids of the tasks of a prediction request, or 400 naming the
/// task without one.
fn task_rows(request: &Value) -> Result<Vec<i64>, Refusal> {
    let tasks = request
        .get("tasks")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            error(
                StatusCode::BAD_REQUEST,
                "field tasks: missing or not a list",
            )
        })?;
    tasks
        .iter()
        .enumerate()
        .map(|(k, task)| {
            format::row_id_of(task).ok_or_else(|| {
                error(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "tasks[{k}] (task id {}): no whole-number data.row_id; al predicts the tasks `al-cli query --label-studio` and `al-cli export --label-studio` wrote, which carry it",
                        task.get("id").map_or("none".into(), Value::to_string)
                    ),
                )
            })
        })
        .collect()
}

async fn predict(State(app): State<Shared>, body: Bytes) -> Response {
    let request = match json_body(&body) {
        Ok(v) => v,
        Err(r) => return r.into_response(),
    };
    let rows = match task_rows(&request) {
        Ok(rows) => rows,
        Err(r) => return r.into_response(),
    };
    let control = request
        .get("label_config")
        .and_then(Value::as_str)
        .and_then(Control::from_config)
        .unwrap_or_else(|| Control::for_target(&app.shape.target_name));
    blocking_json(&app, move |app| {
        let db = app.db.lock().map_err(internal)?;
        let (version, guesser) = current_guesser(app, &db).map_err(internal)?;
        let predicted = al::label_studio::predict_rows(&db, guesser.as_deref(), &version, &rows)
            .map_err(internal)?;
        match predicted {
            Predicted::Rows(guesses) => {
                let results: Vec<Value> = guesses
                    .iter()
                    .map(|g: &GuessOrScore| g.to_json(&control))
                    .collect();
                Ok(reply(
                    StatusCode::OK,
                    json!({"results": results, "model_version": version}),
                ))
            }
            Predicted::Unknown(unknown) => Err(error(
                StatusCode::NOT_FOUND,
                format!(
                    "data.row_id {} not in this project ({} task(s) of {}); nothing was predicted",
                    list_ids(&unknown),
                    unknown.len(),
                    rows.len()
                ),
            )),
        }
    })
    .await
}

/// "12, 13, 14" (at most ten, then "...").
fn list_ids(ids: &[i64]) -> String {
    let mut text: Vec<String> = ids.iter().take(10).map(i64::to_string).collect();
    if ids.len() > 10 {
        text.push("...".into());
    }
    text.join(", ")
}

async fn webhook(State(app): State<Shared>, body: Bytes) -> Response {
    let request = match json_body(&body) {
        Ok(v) => v,
        Err(r) => return r.into_response(),
    };
    let action = match format::read_webhook(&request, &app.shape.target_name) {
        Ok(a) => a,
        Err(m) => return error(StatusCode::BAD_REQUEST, m).into_response(),
    };
    match action {
        Webhook::Annotations(annotations) => {
            blocking_json(&app, move |app| label(app, &annotations)).await
        }
        Webhook::Deleted(ids) => blocking_json(&app, move |app| withdraw(app, &ids)).await,
        Webhook::Train => refit(&app),
        Webhook::Other(action) => reply(StatusCode::OK, json!({ "ignored": action })),
    }
}

async fn train(State(app): State<Shared>) -> Response {
    refit(&app)
}

/// Drops the fitted model (the next prediction refits it on every label)
/// and measures the model as a label import does, in the background.
fn refit(app: &Shared) -> Response {
    if let Ok(mut cache) = app.guesser.lock() {
        *cache = None;
    }
    label::evaluate_in_background(app);
    reply(StatusCode::OK, json!({"status": "ok", "job": null}))
}

/// Labels the rows of created or updated annotations, all in one
/// transaction, after checking every one.
fn label(app: &Shared, annotations: &[format::Annotated]) -> Result<Response, Refusal> {
    let mut db = app.db.lock().map_err(internal)?;
    for a in annotations {
        let held = db.holds_row(a.row_id).map_err(internal)?;
        if !held {
            return Err(error(
                StatusCode::NOT_FOUND,
                format!(
                    "annotation {}: data.row_id {} is not in this project; nothing was labeled",
                    a.annotation_id, a.row_id
                ),
            ));
        }
        if let Some(v) = a.value {
            app.shape.bounds.check(v).map_err(|m| {
                error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!(
                        "annotation {}, row {}: {}: {v}: {m}; nothing was labeled",
                        a.annotation_id, a.row_id, app.shape.target_name
                    ),
                )
            })?;
        }
    }
    let bounds = app.shape.bounds;
    let applied = db
        .write(|tx| {
            annotations
                .iter()
                .map(|a| format::label_from_annotation(tx, a, bounds))
                .collect::<al_data::Result<Vec<Applied>>>()
        })
        .map_err(|e| error(StatusCode::SERVICE_UNAVAILABLE, format!("not labeled: {e}")))?;
    let mut counts = al_data::store::LabelOutcome::default();
    let mut skipped = 0;
    for (a, outcome) in annotations.iter().zip(&applied) {
        match outcome {
            Applied::Labeled(o) => {
                counts.new += o.new;
                counts.changed += o.changed;
                counts.unchanged += o.unchanged;
                if let (Some(v), true) = (a.value, o.new > 0) {
                    if let Ok(mut leases) = app.leases.lock() {
                        leases.release(a.row_id);
                    }
                    if let Ok(mut c) = app.context.write() {
                        c.answered(a.row_id, v);
                    }
                }
            }
            Applied::NothingToLabel => skipped += 1,
        }
    }
    if counts.new + counts.changed > 0 && !db.has_pending().map_err(internal)? {
        label::evaluate_in_background(app);
    }
    Ok(reply(
        StatusCode::OK,
        json!({"new": counts.new, "changed": counts.changed, "unchanged": counts.unchanged, "skipped": skipped}),
    ))
}

/// Withdraws the labels deleted annotations gave, in one transaction.
fn withdraw(app: &Shared, ids: &[i64]) -> Result<Response, Refusal> {
    let mut db = app.db.lock().map_err(internal)?;
    let outcomes = db
        .write(|tx| {
            ids.iter()
                .map(|&id| format::withdraw_annotation(tx, id))
                .collect::<al_data::Result<Vec<RetractOutcome>>>()
        })
        .map_err(|e| {
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("not withdrawn: {e}"),
            )
        })?;
    let mut withdrawn = 0;
    let mut superseded = 0;
    let mut unknown = 0;
    for outcome in outcomes {
        match outcome {
            RetractOutcome::Retracted { row_id } => {
                withdrawn += 1;
                if let Ok(mut c) = app.context.write() {
                    c.retracted(row_id);
                }
            }
            RetractOutcome::Superseded => superseded += 1,
            RetractOutcome::NotFound => unknown += 1,
        }
    }
    Ok(reply(
        StatusCode::OK,
        json!({"withdrawn": withdrawn, "superseded": superseded, "unknown": unknown}),
    ))
}
