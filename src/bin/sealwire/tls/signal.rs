//! SIGINT and SIGTERM as a counter that `serve` polls.
//!
//! The standard library has no signal handling, and the dependencies of the
//! crate bring none either, so the handler is installed through the C
//! library's `signal(2)` (which std links anyway). The handler only bumps an
//! atomic counter, one of the few things a signal handler may do (POSIX
//! async-signal-safe operations). glibc's `signal` installs the handler with
//! `SA_RESTART`, so a blocking `accept(2)` would be restarted rather than
//! interrupted: the accept loop is therefore non-blocking and looks at the
//! counter between attempts.
#![allow(unsafe_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

/// SIGINT and SIGTERM received since [`install`].
static RECEIVED: AtomicUsize = AtomicUsize::new(0);

#[cfg(unix)]
mod sys {
    use std::ffi::c_int;

    /// The same numbers on Linux, the BSDs and macOS (POSIX fixes neither,
    /// but every Unix keeps the historical values).
    pub const SIGINT: c_int = 2;
    pub const SIGTERM: c_int = 15;

    extern "C" {
        /// `sighandler_t signal(int signum, sighandler_t handler)`, with the
        /// handler passed and returned as an address.
        pub fn signal(signum: c_int, handler: usize) -> usize;
    }

    pub extern "C" fn on_signal(_signum: c_int) {
        super::RECEIVED.fetch_add(1, super::Ordering::SeqCst);
    }
}

/// Routes SIGINT and SIGTERM to the counter (on Unix; elsewhere the default
/// action, ending the process, stays).
pub fn install() {
    #[cfg(unix)]
    for sig in [sys::SIGINT, sys::SIGTERM] {
        let handler: extern "C" fn(std::ffi::c_int) = sys::on_signal;
        // SAFETY: `signal` is given a valid signal number and the address of
        // an `extern "C" fn(c_int)` that lives for the whole program and only
        // performs an atomic add, which is async-signal-safe.
        let previous = unsafe { sys::signal(sig, handler as usize) };
        // SIG_ERR is (sighandler_t)-1.
        if previous == usize::MAX {
            eprintln!("sealwire serve: could not install the handler for signal {sig}");
        }
    }
}

/// How many SIGINT/SIGTERM arrived so far.
pub fn received() -> usize {
    RECEIVED.load(Ordering::SeqCst)
}
