//! The project page, the query form, the plot and the downloads.

use super::label::{flash, refresh_if_changed};
use std::sync::atomic::Ordering;

use al_data::batch::{batch_csv, BatchRow};

use super::*;
use crate::pages::ProjectView;

pub(super) async fn page(
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
            forecast: al::forecast_of(&db).map_err(Problem::internal)?,
            annotators: db.labels_by_annotator().map_err(Problem::internal)?,
            strategies: crate::flows::strategies(),
            evaluating: app.evaluating.load(Ordering::SeqCst),
            flash,
        };
        Ok(visitor.page(StatusCode::OK, pages::project(view)))
    })
    .await;
    respond(&app, page)
}

pub(super) async fn query(State(app): State<Shared>, posted: Posted) -> Response {
    let fields = &posted.fields;
    let checked = (|| {
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
        let queried =
            crate::flows::query(app.settings, &app.path, &strategy, batch).map_err(|e| {
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

pub(super) async fn plot(State(app): State<Shared>) -> Response {
    let page = blocking(&app, move |app| {
        let db = app.db.lock().map_err(Problem::internal)?;
        let reports = db.reports().map_err(Problem::internal)?;
        let forecast = al::forecast_of(&db).map_err(Problem::internal)?;
        drop(db);
        if reports.is_empty() {
            return Err(Problem::new(
                StatusCode::NOT_FOUND,
                "No reports yet",
                "nothing to plot yet",
            ));
        }
        let svg =
            crate::flows::learning_curve(&reports, forecast.as_ref()).map_err(Problem::internal)?;
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

fn attachment(name: &str, body: impl Into<Body>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body.into(),
    )
        .into_response()
}

/// The open round's pending rows as a batch file `al-cli label` takes.
pub(super) async fn download_batch(State(app): State<Shared>) -> Response {
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

/// Every row with its current label, streamed as it is read (its own
/// connection; constant memory; annotators are not held up).
pub(super) async fn download_export(State(app): State<Shared>) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(4);
    let path = app.path.clone();
    tokio::task::spawn_blocking(move || {
        let mut out = ChannelWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(CHUNK),
        };
        let written = al_data::Project::open_for_reading(&path)
            .and_then(|project| al_data::export::write_csv(&project, &mut out));
        if let Err(e) = written {
            // Ends the response as a failed transfer, not a short file.
            let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
    });
    let chunks = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    attachment("export.csv", Body::from_stream(chunks))
}

/// How much of a streamed download is sent at once.
const CHUNK: usize = 64 * 1024;

/// Bytes written on a blocking thread, handed to the response body in
/// pieces of [`CHUNK`]; a closed download stops the writer.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<std::io::Result<Vec<u8>>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the download was cancelled")
        })
    }
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            self.send()
        }
    }
}
