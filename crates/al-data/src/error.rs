use std::path::PathBuf;

/// Everything that can go wrong while reading input or touching a project.
///
/// Messages name the file, line and column where they are known and say what
/// to do next; the CLI prints them as they are.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Input { path: PathBuf, message: String },
    #[error("{path}:{line}: {message}")]
    AtLine {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("{path}:{line}: column {column:?}: {message}")]
    AtCell {
        path: PathBuf,
        line: u64,
        column: String,
        message: String,
    },
    #[error("{0}")]
    Usage(String),
    #[error("project {path}: {message}")]
    Project { path: PathBuf, message: String },
    #[error(
        "the project is busy (another al-cli command is writing to it); try again in a moment"
    )]
    Busy,
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("stopped before it finished (interrupted); nothing was written")]
    Interrupted,
}

pub type Result<T, E = DataError> = std::result::Result<T, E>;

impl DataError {
    pub(crate) fn input(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        DataError::Input {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Maps SQLite's "database is locked/busy" to a message a user can act on.
pub(crate) fn sql(err: rusqlite::Error) -> DataError {
    match err.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked) => {
            DataError::Busy
        }
        _ => DataError::Sql(err),
    }
}
