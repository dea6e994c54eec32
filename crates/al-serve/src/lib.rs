//! The labeling workbench of **al** in a browser (`al-cli serve`).
//!
//! Annotators open the label page and answer the pending rows of the open
//! batch one at a time, each beside the model's guess and the most similar
//! labeled rows; the person running the project watches counts, errors per
//! round and the learning curve on the project page, queries the next batch
//! and downloads files. Every answer is committed at once, in its own
//! transaction, through the path `al-cli label` takes.
//!
//! * [`Server`] binds, then serves until its shutdown future resolves
//!   (Ctrl-C in `al-cli`), finishing the requests in flight.
//! * The flows (resolving models and strategies with their plugins, a
//!   query round, an evaluation, the learning curve) are the `al` crate's,
//!   the same calls `al-cli` and the Python package make; the server owns
//!   none of them.
//! * The stack (docs/architecture.md): axum on tokio, HTML rendered on the
//!   server with maud (every value escaped by construction), one small
//!   script and one stylesheet compiled into the binary. No front-end
//!   build, no CDN, nothing fetched.

mod auth;
mod context;
mod leases;
mod pages;
mod routes;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use anyhow::Context as _;

use al_data::store::Bounds;
use al_data::Project;

pub use auth::random_secret;
pub use leases::{Leases, Offer};

/// The workbench's own operations on a project, each a call of the `al`
/// crate as `al-cli` makes it.
mod flows {
    use std::path::Path;

    use al::{BatchOut, QueryOptions};

    /// Strategy specs for the query form, the default first.
    pub fn strategies() -> Vec<String> {
        let mut names = vec![al::catalog::default_strategy().to_string()];
        for s in al::catalog::strategies() {
            if !s.is_default {
                names.push(s.name);
            }
        }
        names
    }

    /// One query round, recorded as `al-cli query` records it, on its own
    /// connection (answers keep flowing meanwhile). No batch file: the
    /// page offers it. The pool it reads is freed when the call returns.
    pub fn query(
        settings: al::Settings,
        path: &Path,
        strategy: &str,
        batch: usize,
    ) -> anyhow::Result<al::QueryOutcome> {
        let mut project = al::Project::open(path, settings)?;
        let options = QueryOptions {
            strategy: Some(strategy.to_string()),
            batch,
            ..QueryOptions::default()
        };
        project.query(&options, BatchOut::None)
    }

    /// Evaluates the project's model and stores the report, as a label
    /// import does, when there is enough to measure.
    pub fn evaluate(settings: al::Settings, path: &Path) -> anyhow::Result<()> {
        let mut project = al::Project::open(path, settings)?;
        if project.measurable()? {
            let spec = project.model_spec(None)?;
            project.evaluate(&spec, 0)?;
        }
        Ok(())
    }

    /// The learning curve of these reports as SVG (`report --plot`'s),
    /// with the forecast dashed past the last round.
    pub fn learning_curve(
        reports: &[al::Report],
        forecast: Option<&al::ProjectForecast>,
    ) -> anyhow::Result<String> {
        al::plot::learning_curves_svg(
            al::curve_title(reports),
            &al::report_series_with(reports, forecast),
        )
    }
}

/// How to serve.
#[derive(Debug, Clone)]
pub struct Options {
    pub project: PathBuf,
    pub addr: SocketAddr,
    /// Required of every request when set. A server bound to anything but
    /// loopback always has one ([`Server::bind`] makes one when none is
    /// given).
    pub token: Option<String>,
    /// How long a row shown to an annotator stays theirs.
    pub lease: Duration,
    /// What the flows share (the plugin timeout).
    pub settings: al::Settings,
}

/// The longest request body accepted (a form is a few hundred bytes).
pub const BODY_LIMIT: usize = 16 * 1024;

/// The shared state of a running server.
struct App {
    path: PathBuf,
    /// The server's own connection: every answer, skip and page read.
    db: Mutex<Project>,
    leases: Mutex<Leases>,
    context: RwLock<context::Context>,
    reload: Mutex<Reload>,
    evaluating: std::sync::atomic::AtomicBool,
    settings: al::Settings,
    token: Option<String>,
    lease_for: Duration,
    shape: Shape,
    /// Label Studio's guesses: the model version and the model fitted for
    /// it (none before two labels), refitted when the labels change.
    guesser: Mutex<Option<(String, Option<Arc<al::label_studio::Guesser>>)>>,
}

/// When the [`context::Context`] was loaded, and whether a reload runs.
struct Reload {
    seen_version: i64,
    running: bool,
}

/// What does not change while the server runs.
struct Shape {
    name: String,
    headers: Vec<String>,
    target: usize,
    target_name: String,
    bounds: Bounds,
}

/// A bound server, not yet serving.
pub struct Server {
    listener: std::net::TcpListener,
    app: Arc<App>,
}

impl Server {
    /// Opens the project (refusing what `al-cli label` refuses), loads
    /// what the label page shows and binds `options.addr`.
    pub fn bind(options: Options) -> anyhow::Result<Server> {
        let project = Project::open(&options.project)?;
        let recipe = project.recipe()?;
        let shape = Shape {
            name: options
                .project
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            headers: project.headers()?,
            target: recipe.target_index(),
            target_name: recipe.target.clone(),
            bounds: project.target_bounds()?,
        };
        let spec = al::plugins::model_spec(&options.settings, &project, None)?;
        let context = context::Context::load(&project, &spec)?;
        let version = project.data_version()?;
        let token = match options.token {
            Some(t) => Some(t),
            None if !options.addr.ip().is_loopback() => Some(random_secret()),
            None => None,
        };
        let listener = std::net::TcpListener::bind(options.addr)
            .with_context(|| {
                format!(
                    "cannot listen on {} (another `al-cli serve` there? choose another with --port, or --port 0 for any free one)",
                    options.addr
                )
            })?;
        listener.set_nonblocking(true)?;
        Ok(Server {
            listener,
            app: Arc::new(App {
                path: options.project,
                db: Mutex::new(project),
                leases: Mutex::new(Leases::default()),
                context: RwLock::new(context),
                reload: Mutex::new(Reload {
                    seen_version: version,
                    running: false,
                }),
                evaluating: std::sync::atomic::AtomicBool::new(false),
                settings: options.settings,
                token,
                lease_for: options.lease,
                shape,
                guesser: Mutex::new(None),
            }),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The address to open or share (with the token when there is one).
    pub fn url(&self) -> String {
        let addr = self.local_addr();
        // Bound to every address: the user puts in the name others reach.
        let host = match addr.ip() {
            ip if ip.is_unspecified() => "HOST".to_string(),
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        match &self.app.token {
            Some(t) => format!("http://{host}:{}/?token={t}", addr.port()),
            None => format!("http://{host}:{}/", addr.port()),
        }
    }

    /// Serves until `shutdown` resolves, then stops taking connections and
    /// finishes the requests in flight (an answer being written is
    /// committed or, if the process is killed, not applied at all).
    pub fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(16)
            .enable_all()
            .build()?;
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(self.listener)?;
            let router = routes::router(self.app);
            axum::serve(listener, router)
                .with_graceful_shutdown(shutdown)
                .await?;
            Ok(())
        })
    }
}

/// Resolves at the first Ctrl-C (SIGINT) or SIGTERM.
pub async fn interrupted() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
