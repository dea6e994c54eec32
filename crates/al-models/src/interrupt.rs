//! A stop asked for from outside a fit (a front end's Ctrl-C), seen inside
//! long work: between trees of a forest, members of a committee or a
//! boosted ensemble, folds of a cross-validation, and chunks of the pool a
//! strategy scores (`al_query`). Each then ends with its `Interrupted`
//! error before anything is written.
//!
//! One flag per process, as a signal is: the CLI's Ctrl-C handler and the
//! Python package's KeyboardInterrupt set it ([`request`]); a command or
//! call clears it when it starts ([`clear`]). Setting it is one atomic
//! store, safe in a signal handler.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::ModelError;

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Asks all work in the process to stop at its next check.
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Withdraws the request: a new command or call starts.
pub fn clear() {
    REQUESTED.store(false, Ordering::SeqCst);
}

pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

/// `Err(Interrupted)` once a stop was asked for.
pub fn check() -> Result<(), ModelError> {
    if requested() {
        Err(ModelError::Interrupted)
    } else {
        Ok(())
    }
}
