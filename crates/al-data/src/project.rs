//! The SQLite project file: the only state al keeps.
//!
//! Schema documented in docs/project-file.md. A project is recognised by its
//! SQLite `application_id`; any other file is refused before anything is
//! written to it (no WAL switch, no checkpoint).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Transaction};

use crate::error::{sql, DataError, Result};
use crate::recipe::Recipe;

/// "ALPR" in ASCII: marks a SQLite file as an al project.
pub const APPLICATION_ID: i32 = 0x414C_5052;
/// Bumped whenever the schema changes; older tools refuse newer files, and
/// this one asks for `al-cli upgrade` on older ones ([`Project::upgrade`]).
pub const SCHEMA_VERSION: i32 = 5;

/// One step of [`Project::upgrade`], run inside its transaction.
type Migration = fn(&Transaction) -> Result<()>;

/// What takes a project from schema `n` to `n + 1`, in order: 1 → 2 adds
/// how each report was measured (held-out rows or 5-fold cross-validation);
/// 2 → 3 moves the encoded features from one blob per row into column
/// chunks ([`crate::store::chunks`]); 3 → 4 adds a report's interval, the
/// plain cross-validation kept beside an estimate, and how it was made;
/// 4 → 5 marks the queried rows drawn at random for an audit.
const MIGRATIONS: &[Migration] = &[
    |tx| {
        tx.execute_batch("ALTER TABLE reports ADD COLUMN method TEXT NOT NULL DEFAULT 'holdout';")
            .map_err(sql)
    },
    crate::store::chunks::migrate_row_blobs_to_chunks,
    |tx| tx.execute_batch(REPORT_ESTIMATE_COLUMNS).map_err(sql),
    |tx| {
        tx.execute_batch("ALTER TABLE queries ADD COLUMN audit INTEGER NOT NULL DEFAULT 0;")
            .map_err(sql)
    },
];

/// The columns schema 4 adds to `reports` (all empty on older reports).
const REPORT_ESTIMATE_COLUMNS: &str = "
ALTER TABLE reports ADD COLUMN level REAL;
ALTER TABLE reports ADD COLUMN mae_low REAL;
ALTER TABLE reports ADD COLUMN mae_high REAL;
ALTER TABLE reports ADD COLUMN rmse_low REAL;
ALTER TABLE reports ADD COLUMN rmse_high REAL;
ALTER TABLE reports ADD COLUMN cv_mae REAL;
ALTER TABLE reports ADD COLUMN cv_mse REAL;
ALTER TABLE reports ADD COLUMN cv_rmse REAL;
ALTER TABLE reports ADD COLUMN cv_r2 REAL;
ALTER TABLE reports ADD COLUMN detail TEXT;
";

const SCHEMA: &str = r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE rows (
    row_id       INTEGER PRIMARY KEY,
    slot         INTEGER NOT NULL,
    source       TEXT NOT NULL,
    is_test      INTEGER NOT NULL DEFAULT 0,
    label        REAL,
    label_source TEXT
);
CREATE TABLE row_data (
    row_id   INTEGER PRIMARY KEY REFERENCES rows(row_id),
    raw      TEXT NOT NULL,
    added_at TEXT NOT NULL
);
CREATE TABLE rounds (
    round      INTEGER PRIMARY KEY,
    strategy   TEXT NOT NULL,
    model      TEXT NOT NULL,
    seed       INTEGER NOT NULL,
    batch      INTEGER NOT NULL,
    params     TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);
CREATE TABLE labels (
    event_id   INTEGER PRIMARY KEY,
    row_id     INTEGER NOT NULL REFERENCES rows(row_id),
    value      REAL NOT NULL,
    source     TEXT NOT NULL,
    round      INTEGER REFERENCES rounds(round),
    annotator  TEXT,
    note       TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE queries (
    round      INTEGER NOT NULL REFERENCES rounds(round),
    rank       INTEGER NOT NULL,
    row_id     INTEGER NOT NULL REFERENCES rows(row_id),
    score      REAL,
    prediction REAL,
    spread     REAL,
    -- schema 5: 1 for a row drawn at random from the pool (query --audit)
    audit      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (round, rank)
);
CREATE TABLE reports (
    report_id  INTEGER PRIMARY KEY,
    round      INTEGER,
    labels     INTEGER NOT NULL,
    model      TEXT NOT NULL,
    strategy   TEXT,
    mae        REAL,
    mse        REAL,
    rmse       REAL,
    r2         REAL,
    method     TEXT NOT NULL DEFAULT 'holdout',
    created_at TEXT NOT NULL,
    -- schema 4: an estimate's interval (level, as 0.8), the plain
    -- cross-validation kept beside it, and how it was made (JSON)
    level      REAL,
    mae_low    REAL,
    mae_high   REAL,
    rmse_low   REAL,
    rmse_high  REAL,
    cv_mae     REAL,
    cv_mse     REAL,
    cv_rmse    REAL,
    cv_r2      REAL,
    detail     TEXT
);
CREATE TABLE synthetic (
    synth_id   INTEGER PRIMARY KEY,
    round      INTEGER REFERENCES rounds(round),
    raw        TEXT NOT NULL,
    features   BLOB NOT NULL,
    utility    REAL,
    created_at TEXT NOT NULL
);
CREATE TABLE simulations (
    simulation_id INTEGER PRIMARY KEY,
    params        TEXT NOT NULL,
    results       TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
"#;

/// Built after the bulk insert of `init` (faster than maintaining them
/// during it). The partial indexes keep counts and pool scans cheap on
/// millions of rows.
const INDEXES: &str = r#"
CREATE INDEX labels_by_row ON labels(row_id);
CREATE INDEX queries_by_row ON queries(row_id);
CREATE INDEX rows_training ON rows(row_id) WHERE label IS NOT NULL AND is_test = 0;
CREATE INDEX rows_test ON rows(row_id) WHERE is_test = 1;
CREATE INDEX rows_pool ON rows(row_id) WHERE label IS NULL AND is_test = 0;
"#;

pub(crate) const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

/// An open project.
pub struct Project {
    conn: Connection,
    path: PathBuf,
    /// Set by a front end (Python's Ctrl-C) to end long reads early.
    stop: Option<Arc<AtomicBool>>,
}

fn project_error(path: &Path, message: impl Into<String>) -> DataError {
    DataError::Project {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// What kind of file sits at a path.
enum FileKind {
    Missing,
    Project,
    Other(String),
}

/// Looks at a file without changing it: reads the 100-byte SQLite header
/// directly, so not even a WAL or shared-memory side file is created for a
/// file that is not ours.
fn inspect(path: &Path) -> Result<FileKind> {
    if !path.exists() {
        return Ok(FileKind::Missing);
    }
    if path.is_dir() {
        return Ok(FileKind::Other("is a directory".into()));
    }
    let mut header = [0u8; 100];
    let read =
        std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header));
    match read {
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(FileKind::Other(
            "is not an al project (not an SQLite database)".into(),
        )),
        Err(source) => Err(DataError::Io {
            path: path.to_path_buf(),
            source,
        }),
        Ok(()) if &header[..16] != b"SQLite format 3\0" => Ok(FileKind::Other(
            "is not an al project (not an SQLite database)".into(),
        )),
        Ok(()) => {
            let id = i32::from_be_bytes([header[68], header[69], header[70], header[71]]);
            if id == APPLICATION_ID {
                Ok(FileKind::Project)
            } else {
                Ok(FileKind::Other(
                    "is an SQLite database of another program, not an al project".into(),
                ))
            }
        }
    }
}

impl Project {
    /// Opens an existing project for reading and writing.
    pub fn open(path: &Path) -> Result<Project> {
        Self::open_with(path, true, false)
    }

    /// Opens an existing project to read it; works on read-only files too.
    pub fn open_for_reading(path: &Path) -> Result<Project> {
        Self::open_with(path, false, false)
    }

    /// Brings a project written by an older al-cli to [`SCHEMA_VERSION`] in
    /// one transaction; returns the version it had. A project already
    /// current is left as it is.
    pub fn upgrade(path: &Path) -> Result<i32> {
        let mut project = Self::open_with(path, true, true)?;
        let version: i32 = project
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql)?;
        if version == SCHEMA_VERSION {
            return Ok(version);
        }
        project.write(|tx| {
            for step in &MIGRATIONS[(version - 1) as usize..] {
                step(tx)?;
            }
            tx.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION};"))
                .map_err(sql)
        })?;
        Ok(version)
    }

    fn open_with(path: &Path, write: bool, upgrading: bool) -> Result<Project> {
        match inspect(path)? {
            FileKind::Missing => {
                return Err(project_error(
                    path,
                    "no such project; create one with `al-cli init DATA.csv --target COLUMN`, or point -p/--project (or AL_PROJECT) at an existing one",
                ))
            }
            FileKind::Other(what) => return Err(project_error(path, what)),
            FileKind::Project => {}
        }
        let read_only_file = std::fs::metadata(path)
            .map(|m| m.permissions().readonly())
            .unwrap_or(false);
        if write && read_only_file {
            return Err(project_error(
                path,
                "the file is read-only; this command writes to the project (make it writable or work on a copy)",
            ));
        }
        // Readers open read-write when they may, so that closing the last
        // connection checkpoints and removes the WAL side files.
        let flags = if read_only_file {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE
        };
        let conn = Connection::open_with_flags(path, flags)
            .map_err(|e| project_error(path, format!("cannot open: {e}")))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(sql)?;
        let version: i32 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql)?;
        if version > SCHEMA_VERSION {
            return Err(project_error(
                path,
                format!(
                    "was written by a newer al-cli (schema {version}, this one reads up to {SCHEMA_VERSION}); upgrade al-cli"
                ),
            ));
        }
        if version < SCHEMA_VERSION && !upgrading {
            return Err(project_error(
                path,
                format!(
                    "was written by an older al-cli (schema {version}; this one uses {SCHEMA_VERSION}); run `al-cli -p {} upgrade` once (one transaction; nothing else changes)",
                    path.display()
                ),
            ));
        }
        conn.execute_batch("PRAGMA foreign_keys = ON;")
            .map_err(sql)?;
        Ok(Project {
            conn,
            path: path.to_path_buf(),
            stop: None,
        })
    }

    /// Builds a new project in a temporary file beside `path` and moves it
    /// into place only when `fill` succeeded: a failed `init` leaves no new
    /// file, and a failed `init --force` leaves the old project untouched.
    pub fn create(
        path: &Path,
        force: bool,
        fill: impl FnOnce(&Transaction) -> Result<()>,
    ) -> Result<()> {
        match inspect(path)? {
            FileKind::Missing => {}
            FileKind::Project if force => {}
            FileKind::Project => {
                return Err(project_error(
                    path,
                    "a project already exists here; pass --force to replace it, or choose another file with -p/--project",
                ))
            }
            FileKind::Other(what) => {
                return Err(project_error(
                    path,
                    format!("{what}; refusing to overwrite it, even with --force"),
                ))
            }
        }
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "al.db".into());
        let temp = dir.join(format!(".{file_name}.init-{}", std::process::id()));
        let result = Self::build(&temp, fill).and_then(|()| {
            for suffix in ["-wal", "-shm"] {
                let side = PathBuf::from(format!("{}{suffix}", path.display()));
                if side.exists() {
                    std::fs::remove_file(&side).map_err(|source| DataError::Io {
                        path: side.clone(),
                        source,
                    })?;
                }
            }
            std::fs::rename(&temp, path).map_err(|source| DataError::Io {
                path: path.to_path_buf(),
                source,
            })
        });
        if result.is_err() {
            let _ = std::fs::remove_file(&temp);
            for suffix in ["-wal", "-shm", "-journal"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", temp.display()));
            }
        }
        result
    }

    fn build(temp: &Path, fill: impl FnOnce(&Transaction) -> Result<()>) -> Result<()> {
        if temp.exists() {
            std::fs::remove_file(temp).map_err(|source| DataError::Io {
                path: temp.to_path_buf(),
                source,
            })?;
        }
        let mut conn = Connection::open(temp).map_err(sql)?;
        // The temporary file only becomes the project after a complete build,
        // so it needs no journal while being filled.
        conn.execute_batch(&format!(
            "PRAGMA application_id = {APPLICATION_ID};
             PRAGMA user_version = {SCHEMA_VERSION};
             PRAGMA page_size = 16384;
             PRAGMA journal_mode = OFF;
             PRAGMA synchronous = OFF;
             PRAGMA locking_mode = EXCLUSIVE;
             PRAGMA cache_size = -262144;
             PRAGMA foreign_keys = ON;"
        ))
        .map_err(sql)?;
        let tx = conn.transaction().map_err(sql)?;
        tx.execute_batch(SCHEMA).map_err(sql)?;
        tx.execute_batch(crate::store::chunks::CREATE_TABLE)
            .map_err(sql)?;
        tx.execute(
            "INSERT INTO meta(key, value) VALUES ('al_version', ?1)",
            [env!("CARGO_PKG_VERSION")],
        )
        .map_err(sql)?;
        fill(&tx)?;
        tx.execute_batch(INDEXES).map_err(sql)?;
        tx.commit().map_err(sql)?;
        conn.execute_batch(
            "PRAGMA locking_mode = NORMAL; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;",
        )
        .map_err(sql)?;
        conn.close().map_err(|(_, e)| sql(e))?;
        let file = std::fs::File::open(temp).map_err(|source| DataError::Io {
            path: temp.to_path_buf(),
            source,
        })?;
        file.sync_all().map_err(|source| DataError::Io {
            path: temp.to_path_buf(),
            source,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Long reads (loading a pool's features) check `flag` as they go and
    /// fail with [`DataError::Interrupted`] once it is set: a front end
    /// sets it on Ctrl-C. Writes are one transaction each and run to their
    /// end. `None` removes it.
    pub fn set_stop(&mut self, flag: Option<Arc<AtomicBool>>) {
        self.stop = flag;
    }

    /// The flag of [`Project::set_stop`], for work outside this crate.
    pub fn stop_flag(&self) -> Option<&AtomicBool> {
        self.stop.as_deref()
    }

    /// `Err(Interrupted)` once the stop flag is set.
    pub fn check_stop(&self) -> Result<()> {
        stop_check(self.stop_flag())
    }

    /// Runs `f` in one IMMEDIATE transaction: all of it is applied or none.
    pub fn write<T>(&mut self, f: impl FnOnce(&Transaction) -> Result<T>) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql)?;
        let out = f(&tx)?;
        tx.commit().map_err(sql)?;
        Ok(out)
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(sql)
    }

    /// The project's model spec, stored by `evaluate --models ...
    /// --set-default`; `None` until one is set.
    pub fn default_model(&self) -> Result<Option<String>> {
        self.meta(DEFAULT_MODEL_KEY)
    }

    pub fn recipe(&self) -> Result<Recipe> {
        let text = self
            .meta("recipe")?
            .ok_or_else(|| project_error(&self.path, "has no recipe; re-create it with init"))?;
        serde_json::from_str(&text)
            .map_err(|e| project_error(&self.path, format!("its recipe is unreadable: {e}")))
    }

    /// Counts for `status`.
    pub fn counts(&self) -> Result<Counts> {
        // Each WHERE matches a partial index, so no count reads the table.
        let count = |sql_text: &str| -> Result<i64> {
            self.conn.query_row(sql_text, [], |r| r.get(0)).map_err(sql)
        };
        let labeled = count("SELECT count(*) FROM rows WHERE label IS NOT NULL AND is_test = 0")?;
        let test = count("SELECT count(*) FROM rows WHERE is_test = 1")?;
        let pool = count("SELECT count(*) FROM rows WHERE label IS NULL AND is_test = 0")?;
        let rows = labeled + test + pool;
        let rounds: i64 = self
            .conn
            .query_row("SELECT count(*) FROM rounds", [], |r| r.get(0))
            .map_err(sql)?;
        Ok(Counts {
            rows: rows as u64,
            labeled: labeled as u64,
            test: test as u64,
            unlabeled: (rows - labeled - test) as u64,
            rounds: rounds as u64,
        })
    }
}

/// How many rows are where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub rows: u64,
    /// Labeled rows available for training (test rows excluded).
    pub labeled: u64,
    /// Held-out labeled rows.
    pub test: u64,
    /// The pool: rows without a label.
    pub unlabeled: u64,
    pub rounds: u64,
}

/// The `meta` key holding the project's model spec.
const DEFAULT_MODEL_KEY: &str = "model";

/// Stores `spec` (canonical) as the project's model.
pub fn set_default_model(tx: &Transaction, spec: &str) -> Result<()> {
    set_meta(tx, DEFAULT_MODEL_KEY, spec)
}

pub fn set_meta(tx: &Transaction, key: &str, value: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO meta(key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )
    .map_err(sql)?;
    Ok(())
}

/// Compact features as little-endian f64 bytes.
pub fn features_to_blob(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

pub fn blob_to_features(blob: &[u8]) -> Vec<f64> {
    blob.chunks_exact(8)
        .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect()
}

/// `Err(Interrupted)` once `flag` is set.
pub(crate) fn stop_check(flag: Option<&AtomicBool>) -> Result<()> {
    match flag {
        Some(flag) if flag.load(Ordering::Relaxed) => Err(DataError::Interrupted),
        _ => Ok(()),
    }
}
