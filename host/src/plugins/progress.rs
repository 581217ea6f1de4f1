//! Progress on stderr while a large component compiles: seconds of Cranelift work (an 18 MiB
//! Python component, say) would otherwise look like a hang. Only a cold compile shows it; a
//! load from the compiled-artifact cache takes milliseconds and says nothing. Stderr never
//! carries JSON, so this is safe in every output format.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Components at least this large announce their compile.
pub const ANNOUNCE_BYTES: usize = 2 * 1024 * 1024;
/// How often a terminal sees the elapsed time.
const TICK: Duration = Duration::from_millis(500);

/// A compile being shown; [`CompileProgress::finish`] prints how it ended.
pub struct CompileProgress {
    file: String,
    started: Instant,
    stop: Arc<AtomicBool>,
    ticker: Option<JoinHandle<()>>,
}

impl CompileProgress {
    /// Announces that `file` (`bytes` long) is being compiled; on a terminal, the elapsed time
    /// updates in place until [`CompileProgress::finish`].
    pub fn start(file: &str, bytes: usize) -> Self {
        let megabytes = bytes as f64 / (1024.0 * 1024.0);
        let line = format!(
            "compiling plugin {file} ({megabytes:.1} MiB) once; later loads use the compiled cache"
        );
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let ticker = if std::io::stderr().is_terminal() {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("confiture-compile-progress".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let _ = write!(
                            std::io::stderr(),
                            "\r{line} … {:.0} s",
                            started.elapsed().as_secs_f64()
                        );
                        std::thread::sleep(TICK);
                    }
                })
                .ok()
        } else {
            let _ = writeln!(std::io::stderr(), "{line} …");
            None
        };
        CompileProgress {
            file: file.to_string(),
            started,
            stop,
            ticker,
        }
    }

    /// Stops the ticker and prints how long the compile took (or that it failed).
    pub fn finish(mut self, ok: bool) {
        self.stop.store(true, Ordering::Relaxed);
        let on_terminal = self.ticker.take().map(|t| t.join()).is_some();
        let outcome = if ok { "compiled" } else { "could not compile" };
        let _ = writeln!(
            std::io::stderr(),
            "{}{outcome} plugin {} in {:.1} s",
            if on_terminal { "\r\x1b[K" } else { "" },
            self.file,
            self.started.elapsed().as_secs_f64()
        );
    }
}
