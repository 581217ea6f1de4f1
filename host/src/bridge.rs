//! The one bridge between async and synchronous code: blocking work called where async code
//! may be on the stack goes through [`run_blocking`], and a future that synchronous code needs
//! finished goes through [`block_on`]. Nothing else in the host calls `block_in_place` or builds
//! a runtime (but `main`, which builds the process's own).

use std::future::Future;

use anyhow::Context;

/// Runs blocking synchronous code (a plugin call, a terminal prompt) so that it may be called
/// from anywhere, async code included, without stalling the runtime.
///
/// Outside a tokio runtime `f` runs as is. On a multi-threaded runtime it is moved off the
/// worker with `block_in_place`. On a current-thread runtime it runs on a scoped thread of its
/// own: WASI's synchronous bindings run their I/O (a plugin writing to stdout, say) through
/// `Handle::block_on` when a runtime is current, which panics on a runtime's thread.
pub fn run_blocking<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Err(_) => f(),
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        Ok(_) => std::thread::scope(|scope| {
            scope
                .spawn(f)
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        }),
    }
}

/// Runs `future` to completion from synchronous code, whether or not async code is on the
/// stack: on a scoped thread with a current-thread runtime of its own, so it neither nests in
/// nor blocks the caller's runtime. `what` names the work for the error when it panics
/// ("creating the database").
pub fn block_on<T: Send>(
    what: &str,
    future: impl Future<Output = anyhow::Result<T>> + Send,
) -> anyhow::Result<T> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .context("starting a runtime")?
                    .block_on(future)
            })
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("{what} panicked")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_blocking_code_inside_and_outside_a_runtime() {
        assert_eq!(run_blocking(|| 1), 1);
        for runtime in [
            tokio::runtime::Builder::new_current_thread().build(),
            tokio::runtime::Builder::new_multi_thread().build(),
        ] {
            let runtime = runtime.expect("a runtime");
            assert_eq!(runtime.block_on(async { run_blocking(|| 2) }), 2);
        }
    }

    #[test]
    fn finishes_a_future_from_async_code() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        let got = runtime.block_on(async { block_on("adding", async { Ok(1 + 1) }) });
        assert_eq!(got.expect("no error"), 2);
    }
}
