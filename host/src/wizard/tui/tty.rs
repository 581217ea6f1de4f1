//! The operator's terminal while the wizard's terminal UI runs: where it writes, the modes it
//! sets, and the one restoration that undoes them on every way out.
//!
//! [`Terminal::open`] opens `/dev/tty` — whatever stdout is (a pipe, `tee`, a file) — remembers
//! its settings and turns echo off for the whole session, so keys typed while a migration runs
//! are not shown; [`Terminal::raw`] switches to raw mode for a question and discards the keys
//! typed before it; [`Terminal::alternate_screen`] holds the review's full screen.
//!
//! What was changed is kept in one place ([`OPEN`]), and one function ([`restore`]) puts the
//! remembered settings back, leaves the alternate screen, shows the cursor and discards the keys
//! typed but not read (they would otherwise reach the shell as a command). It runs when the
//! [`Terminal`] is dropped (errors and unwinding panics included), from the panic hook, and on
//! SIGINT, SIGTERM or SIGHUP from one signal thread, which then exits with 128 + the signal's
//! number. That thread restores while holding the terminal's lock and exits without releasing
//! it, so no frame can be drawn after the restoration.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::{Duration, Instant};

use anyhow::Context;
use crossterm::cursor::{Hide, Show};
use crossterm::event;
use crossterm::queue;
use crossterm::terminal::{
    DisableLineWrap, EnableLineWrap, EnterAlternateScreen, LeaveAlternateScreen,
};
use nix::sys::termios::{self, FlushArg, LocalFlags, SetArg, Termios};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// The terminal while a [`Terminal`] is open.
struct Open {
    tty: File,
    /// Its settings before the wizard changed anything: what every restoration puts back.
    original: Termios,
    /// The alternate screen is on (the review).
    alternate: bool,
}

/// The open terminal, if any: shared by the UI, the panic hook and the signal thread.
static OPEN: Mutex<Option<Open>> = Mutex::new(None);

/// How long a signal waits for a write to the terminal to finish before exiting without
/// restoring it.
const SIGNAL_LOCK_WAIT: Duration = Duration::from_secs(2);

/// Whether the signal thread and the panic hook are installed (once per process).
static RESTORERS: Mutex<bool> = Mutex::new(false);

/// How a question or the session sets the terminal.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// The session: lines as usual, but typed keys are not echoed.
    Quiet,
    /// A question: keys arrive one by one, unechoed, Ctrl-C included.
    Raw,
}

/// The operator's terminal, echo off, until dropped (then as it was).
#[derive(Debug)]
pub struct Terminal {
    /// Only [`Terminal::open`] makes one.
    _open: (),
}

impl Terminal {
    /// Opens the controlling terminal (`/dev/tty`; stdin's terminal when there is no
    /// controlling one), installs the restorations and turns echo off.
    pub fn open() -> anyhow::Result<Terminal> {
        let open = |path: &str| OpenOptions::new().read(true).write(true).open(path);
        let tty = open("/dev/tty")
            .or_else(|_| open("/proc/self/fd/0"))
            .context("opening the terminal (/dev/tty)")?;
        let original = termios::tcgetattr(&tty).context("reading the terminal's settings")?;
        install_restorers()?;
        *lock() = Some(Open {
            tty,
            original,
            alternate: false,
        });
        // Made before the first change, so that a failure restores what was changed.
        let terminal = Terminal { _open: () };
        set_mode(Mode::Quiet).context("turning the terminal's echo off")?;
        Ok(terminal)
    }

    /// Whether colours may be shown on the terminal: not under `NO_COLOR` or `--color never`.
    pub fn colour(&self) -> bool {
        with_open(|open| Ok(anstream::AutoStream::choice(&open.tty)))
            .is_ok_and(|choice| choice != anstream::ColorChoice::Never)
    }

    /// Writes `bytes` to the terminal and flushes.
    pub fn write(&self, bytes: &[u8]) -> anyhow::Result<()> {
        with_open(|open| {
            open.tty.write_all(bytes)?;
            open.tty.flush()
        })
        .context("writing to the terminal")
    }

    /// Raw mode for one question, with the keys typed before it discarded; echo-off lines
    /// again when dropped.
    pub fn raw(&self) -> anyhow::Result<RawMode<'_>> {
        set_mode(Mode::Raw).context("switching the terminal to raw mode")?;
        let raw = RawMode { _terminal: self };
        with_open(|open| termios::tcflush(&open.tty, FlushArg::TCIFLUSH).map_err(io::Error::from))
            .context("discarding the keys typed ahead")?;
        // Keys crossterm already read (typed during an earlier question) go too.
        while event::poll(Duration::ZERO).context("waiting for a key")? {
            event::read().context("reading a key")?;
        }
        Ok(raw)
    }

    /// The alternate screen, without line wrap or cursor, while the guard lives.
    pub fn alternate_screen(&self) -> anyhow::Result<AlternateScreen<'_>> {
        let screen = AlternateScreen { _terminal: self };
        with_open(|open| {
            // Marked first, so that a failure half-way still restores the main screen.
            open.alternate = true;
            let mut enter = Vec::new();
            queue!(enter, EnterAlternateScreen, DisableLineWrap, Hide)?;
            open.tty.write_all(&enter)?;
            open.tty.flush()
        })
        .context("switching to the alternate screen")?;
        Ok(screen)
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        if let Some(mut open) = lock().take() {
            restore(&mut open);
        }
    }
}

/// Raw mode while alive (see [`Terminal::raw`]).
pub struct RawMode<'a> {
    _terminal: &'a Terminal,
}

impl Drop for RawMode<'_> {
    fn drop(&mut self) {
        let _ = set_mode(Mode::Quiet);
    }
}

/// The alternate screen while alive (see [`Terminal::alternate_screen`]).
pub struct AlternateScreen<'a> {
    _terminal: &'a Terminal,
}

impl Drop for AlternateScreen<'_> {
    fn drop(&mut self) {
        let _ = with_open(|open| {
            open.tty.write_all(&leave_screen())?;
            open.alternate = false;
            open.tty.flush()
        });
    }
}

/// The open terminal's state, locked (a panic while it was held does not lock it for ever).
fn lock() -> MutexGuard<'static, Option<Open>> {
    OPEN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The open terminal's state if nobody holds it now.
fn try_lock() -> Option<MutexGuard<'static, Option<Open>>> {
    match OPEN.try_lock() {
        Ok(open) => Some(open),
        Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
        Err(TryLockError::WouldBlock) => None,
    }
}

/// Runs `f` on the open terminal; an error when none is open.
fn with_open<T>(f: impl FnOnce(&mut Open) -> io::Result<T>) -> io::Result<T> {
    match lock().as_mut() {
        Some(open) => f(open),
        None => Err(io::Error::other("the terminal is closed")),
    }
}

/// Sets the terminal to `mode`, derived from its original settings.
fn set_mode(mode: Mode) -> io::Result<()> {
    with_open(|open| {
        let mut settings = open.original.clone();
        match mode {
            Mode::Quiet => settings
                .local_flags
                .remove(LocalFlags::ECHO | LocalFlags::ECHONL),
            Mode::Raw => termios::cfmakeraw(&mut settings),
        }
        termios::tcsetattr(&open.tty, SetArg::TCSANOW, &settings).map_err(io::Error::from)
    })
}

/// Leaves the alternate screen, with line wrap and the cursor back.
fn leave_screen() -> Vec<u8> {
    let mut leave = Vec::new();
    let _ = queue!(leave, Show, EnableLineWrap, LeaveAlternateScreen);
    leave
}

/// Puts the terminal back as it was when opened: the main screen, the cursor shown, the
/// original settings, and the keys typed but not read discarded. Errors are ignored: a hung-up terminal cannot be restored, and there is
/// nothing better to do on the way out.
fn restore(open: &mut Open) {
    let mut sequence = Vec::new();
    if open.alternate {
        sequence = leave_screen();
        open.alternate = false;
    } else {
        let _ = queue!(sequence, Show);
    }
    let _ = open
        .tty
        .write_all(&sequence)
        .and_then(|()| open.tty.flush());
    // Keys typed while the wizard ran (a `y` and Enter meant for a question) must not reach
    // the shell as a command, nor be echoed once echo is back. Discarded first, without
    // waiting for output to drain (TCSAFLUSH would, and a stopped terminal never drains).
    let _ = termios::tcflush(&open.tty, FlushArg::TCIFLUSH);
    let _ = termios::tcsetattr(&open.tty, SetArg::TCSANOW, &open.original);
}

/// Installs, once per process, the signal thread and the panic hook that restore the
/// terminal.
fn install_restorers() -> anyhow::Result<()> {
    let mut installed = RESTORERS.lock().unwrap_or_else(PoisonError::into_inner);
    if *installed {
        return Ok(());
    }
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP])
        .context("installing the handlers for SIGINT, SIGTERM and SIGHUP")?;
    std::thread::Builder::new()
        .name("terminal-signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                exit_on_signal(signal);
            }
        })
        .context("starting the signal thread")?;
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // Not waiting: a panic while this thread writes to the terminal must not deadlock here.
        if let Some(mut open) = try_lock()
            && let Some(open) = open.as_mut()
        {
            restore(open);
        }
        previous(info);
    }));
    *installed = true;
    Ok(())
}

/// Restores the terminal, says what stopped the run and exits with 128 + `signal`. The
/// terminal's lock is never released: nothing is drawn after the restoration.
fn exit_on_signal(signal: i32) -> ! {
    // Bounded: a write stuck on a stopped terminal (Ctrl-S) must not keep the process alive.
    let deadline = Instant::now() + SIGNAL_LOCK_WAIT;
    let mut open = loop {
        match try_lock() {
            Some(open) => break Some(open),
            None if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            None => break None,
        }
    };
    if let Some(open) = open.as_mut().and_then(|open| open.as_mut()) {
        restore(open);
    }
    let code = 128 + signal;
    let _ = writeln!(
        io::stderr(),
        "\nconfiture: stopped by {} (exit {code}); run `confiture migrate status` to see what \
         is applied",
        signal_name(signal)
    );
    std::process::exit(code)
}

/// `SIGINT`, `SIGTERM` or `SIGHUP`.
fn signal_name(signal: i32) -> &'static str {
    match signal {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        SIGHUP => "SIGHUP",
        _ => "a signal",
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use nix::pty::openpty;

    use super::*;

    #[test]
    fn a_panic_restores_the_terminal() {
        let pty = openpty(None, None).expect("openpty");
        let tty = File::from(pty.slave);
        let original = termios::tcgetattr(&tty).expect("the pty's settings");
        assert!(
            original
                .local_flags
                .contains(LocalFlags::ECHO | LocalFlags::ICANON)
        );
        *lock() = Some(Open {
            tty,
            original,
            alternate: false,
        });
        install_restorers().expect("the restorers");
        // As during the review: raw mode on the alternate screen.
        set_mode(Mode::Raw).expect("raw mode");
        let terminal = Terminal { _open: () };
        let screen = terminal.alternate_screen().expect("the alternate screen");
        std::mem::forget(screen);
        let panicked = std::panic::catch_unwind(|| panic!("a bug while the review is shown"));
        assert!(panicked.is_err());
        let open = lock().take().expect("still open");
        std::mem::forget(terminal);
        let now = termios::tcgetattr(&open.tty).expect("the pty's settings");
        assert!(
            now.local_flags
                .contains(LocalFlags::ECHO | LocalFlags::ICANON)
        );
        assert!(!open.alternate);
        drop(open);
        let mut written = Vec::new();
        let _ = File::from(pty.master).read_to_end(&mut written);
        let written = String::from_utf8_lossy(&written);
        let left = written
            .rfind("\x1b[?1049l")
            .expect("left the alternate screen");
        assert!(left > written.rfind("\x1b[?1049h").unwrap(), "{written:?}");
        assert!(written.contains("\x1b[?25h"), "{written:?}");
    }

    #[test]
    fn restoring_discards_the_keys_typed_while_the_wizard_ran() {
        use std::os::fd::AsFd;

        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

        let pty = openpty(None, None).expect("openpty");
        let tty = File::from(pty.slave);
        let original = termios::tcgetattr(&tty).expect("the pty's settings");
        let mut open = Open {
            tty,
            original,
            alternate: false,
        };
        let waiting = |open: &Open, timeout: PollTimeout| {
            let mut fds = [PollFd::new(open.tty.as_fd(), PollFlags::POLLIN)];
            poll(&mut fds, timeout).expect("poll the terminal") == 1
        };
        // Typed during a migration: a whole line waits in the terminal's input.
        let mut master = File::from(pty.master);
        master.write_all(b"y\r").expect("type");
        assert!(
            waiting(&open, PollTimeout::from(5000u16)),
            "the keys arrived"
        );
        restore(&mut open);
        assert!(
            !waiting(&open, PollTimeout::ZERO),
            "the keys were not discarded"
        );
    }

    #[test]
    fn leaving_the_screen_shows_the_cursor_and_leaves_the_alternate_screen() {
        let leave = String::from_utf8(leave_screen()).unwrap();
        assert!(leave.contains("\x1b[?25h"), "{leave:?}");
        assert!(leave.ends_with("\x1b[?1049l"), "{leave:?}");
    }

    #[test]
    fn signal_names() {
        assert_eq!(signal_name(SIGTERM), "SIGTERM");
        assert_eq!(signal_name(SIGHUP), "SIGHUP");
        assert_eq!(signal_name(SIGINT), "SIGINT");
    }
}
