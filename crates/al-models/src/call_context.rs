//! Which of many fits a model is in: "committee member 3 of 5",
//! "cross-validation fold 2 of 5". A model that cannot say it by itself (a
//! user's Python estimator, fitted through the same `Fit` as the others)
//! reads it here to name the failing call in its error, so that a user is
//! told which member raised, not only that one did.
//!
//! Kept per thread: the loop that fits members sets it around each fit, on
//! the thread that runs that fit (a rayon worker), and the model reads it
//! on the same thread before it does anything else.

use std::cell::RefCell;
use std::fmt;

/// One of `of` similar fits, counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub what: &'static str,
    pub index: usize,
    pub of: usize,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} of {}", self.what, self.index, self.of)
    }
}

thread_local! {
    static PLACES: RefCell<Vec<Place>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` as the `index`-th (0-based) of `of` fits of the kind `what`.
pub fn within<R>(what: &'static str, index: usize, of: usize, f: impl FnOnce() -> R) -> R {
    PLACES.with(|p| {
        p.borrow_mut().push(Place {
            what,
            index: index + 1,
            of,
        })
    });
    // Popped however `f` ends, a panic included.
    struct Pop;
    impl Drop for Pop {
        fn drop(&mut self) {
            PLACES.with(|p| p.borrow_mut().pop());
        }
    }
    let _pop = Pop;
    f()
}

/// The innermost place this thread is in, if any.
pub fn current() -> Option<Place> {
    PLACES.with(|p| p.borrow().last().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_innermost_place_is_current_and_leaving_restores_the_outer() {
        assert_eq!(current(), None);
        within("committee member", 2, 5, || {
            assert_eq!(current().unwrap().to_string(), "committee member 3 of 5");
            within("cross-validation fold", 0, 4, || {
                assert_eq!(
                    current().unwrap().to_string(),
                    "cross-validation fold 1 of 4"
                );
            });
            assert_eq!(current().unwrap().index, 3);
        });
        assert_eq!(current(), None);
    }

    #[test]
    fn a_panic_inside_leaves_the_place_too() {
        let caught = std::panic::catch_unwind(|| within("member", 0, 2, || panic!("boom")));
        assert!(caught.is_err());
        assert_eq!(current(), None);
    }

    #[test]
    fn other_threads_do_not_see_it() {
        within("member", 0, 2, || {
            let elsewhere = std::thread::spawn(current).join().unwrap();
            assert_eq!(elsewhere, None);
        });
    }
}
