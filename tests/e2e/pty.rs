//! A pseudo-terminal driver for end-to-end tests of interactive commands (the wizard's terminal
//! UI): the child runs with a pty as its controlling terminal and as stdin, stdout and stderr; a
//! thread collects everything it writes; tests wait for text, type keys and collect the exit
//! code.
//!
//! Text is matched on the output with escape sequences stripped (CSI, OSC, DCS, charset and
//! other two-byte escapes) and carriage returns dropped. A cursor-positioning sequence
//! (`CSI row;col H`) becomes a newline, so a full-screen view reads one row per line.

#![allow(dead_code)]

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use nix::pty::{Winsize, openpty};

/// How long [`Pty::wait`] keeps reading after the child exits, for output still in the pty.
const DRAIN: Duration = Duration::from_millis(500);

/// What the reader thread collected.
#[derive(Default)]
struct Collected {
    /// Everything the child wrote, raw.
    bytes: Vec<u8>,
    /// The master side reported the end (EIO once every slave handle is closed).
    closed: bool,
}

/// The collected output and a signal for each change.
type Shared = Arc<(Mutex<Collected>, Condvar)>;

/// A child process on a pseudo-terminal.
pub struct Pty {
    child: Child,
    master: File,
    shared: Shared,
    /// Where in the stripped output the last [`Pty::expect`] match ended.
    matched: usize,
}

impl Pty {
    /// Starts `cmd` on a new `cols` x `rows` pseudo-terminal, in its own session with the pty as
    /// its controlling terminal (so `/dev/tty` works) and as stdin, stdout and stderr.
    pub fn spawn(mut cmd: Command, cols: u16, rows: u16) -> Pty {
        let size = Winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = openpty(&size, None).expect("openpty");
        // Keep both ends out of other children (the child gets the slave as 0, 1 and 2 only).
        close_on_exec(&pty.master);
        close_on_exec(&pty.slave);
        let stdio = |fd: &OwnedFd| Stdio::from(fd.try_clone().expect("dup the pty slave"));
        cmd.stdin(stdio(&pty.slave))
            .stdout(stdio(&pty.slave))
            .stderr(stdio(&pty.slave));
        // SAFETY: only async-signal-safe system calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn the command on the pty");
        // The parent's slave handles must go, or the master never sees the end of the output.
        drop(cmd);
        drop(pty.slave);

        let master = File::from(pty.master);
        let mut reader = master.try_clone().expect("dup the pty master");
        let shared: Shared = Arc::default();
        let collected = Arc::clone(&shared);
        std::thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            loop {
                let read = match reader.read(&mut chunk) {
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    // EIO once the child (and everything it started) closed the slave: the end.
                    Err(_) => 0,
                };
                let (lock, changed) = &*collected;
                let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
                if read == 0 {
                    state.closed = true;
                    changed.notify_all();
                    return;
                }
                state.bytes.extend_from_slice(&chunk[..read]);
                changed.notify_all();
            }
        });
        Pty {
            child,
            master,
            shared,
            matched: 0,
        }
    }

    /// Waits until `text` appears in the stripped output after the previous match; panics
    /// with the stripped output so far when it does not within `timeout` (or the output ends).
    pub fn expect(&mut self, text: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let (lock, changed) = &*self.shared;
        let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let screen = strip(&state.bytes);
            if let Some(at) = screen.get(self.matched..).and_then(|rest| rest.find(text)) {
                self.matched += at + text.len();
                return;
            }
            let now = Instant::now();
            if now >= deadline || state.closed {
                let why = if state.closed {
                    "the output ended"
                } else {
                    "timed out"
                };
                panic!(
                    "expected {text:?} within {timeout:?} after offset {} ({why}); output so far:\n{screen}",
                    self.matched
                );
            }
            state = changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Types `bytes` (e.g. `b"y"`, `b"\r"` for Enter, `b"\x1b[B"` for ↓, `b"\x03"` for Ctrl-C).
    pub fn send(&mut self, bytes: &[u8]) {
        self.master
            .write_all(bytes)
            .and_then(|()| self.master.flush())
            .expect("write to the pty");
    }

    /// The stripped output so far.
    pub fn output(&self) -> String {
        let (lock, _) = &*self.shared;
        strip(&lock.lock().unwrap_or_else(|e| e.into_inner()).bytes)
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the child to exit and returns its exit code (128 + the signal when a signal
    /// ended it) and all its stripped output; kills it after `timeout` (code 137).
    pub fn wait(self, timeout: Duration) -> (i32, String) {
        let (code, raw) = self.wait_raw(timeout);
        (code, strip(&raw))
    }

    /// [`Pty::wait`] with the output as written, escape sequences included.
    pub fn wait_raw(mut self, timeout: Duration) -> (i32, Vec<u8>) {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for the child") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                break self.child.wait().expect("wait for the killed child");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let code = status
            .code()
            .or_else(|| status.signal().map(|signal| 128 + signal))
            .unwrap_or(-1);
        // The rest of the output: until the end of the pty, or a moment when a grandchild keeps
        // the slave open.
        let drain_until = Instant::now() + DRAIN;
        let (lock, changed) = &*self.shared;
        let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
        while !state.closed {
            let now = Instant::now();
            if now >= drain_until {
                break;
            }
            state = changed
                .wait_timeout(state, drain_until - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        (code, state.bytes.clone())
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn close_on_exec(fd: &OwnedFd) {
    // SAFETY: plain fcntl calls on a descriptor we own.
    let ok = unsafe {
        let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFD);
        flags >= 0 && libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, flags | libc::FD_CLOEXEC) >= 0
    };
    assert!(ok, "fcntl(FD_CLOEXEC): {}", std::io::Error::last_os_error());
}

/// `bytes` as text without escape sequences or carriage returns; an escape sequence cut off
/// at the end (still arriving) is left out, so the result only ever grows as output arrives.
pub fn strip(bytes: &[u8]) -> String {
    const ESC: u8 = 0x1b;
    const BEL: u8 = 0x07;
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if byte == b'\r' {
            i += 1;
            continue;
        }
        if byte != ESC {
            out.push(byte);
            i += 1;
            continue;
        }
        let Some(&kind) = bytes.get(i + 1) else { break };
        match kind {
            // CSI: parameters and intermediates, then one final byte in 0x40..=0x7e.
            b'[' => {
                let Some(end) = bytes[i + 2..]
                    .iter()
                    .position(|b| (0x40..=0x7e).contains(b))
                else {
                    break;
                };
                let final_at = i + 2 + end;
                if matches!(bytes[final_at], b'H' | b'f') {
                    out.push(b'\n');
                }
                i = final_at + 1;
            }
            // OSC and DCS (and SOS, PM, APC): up to BEL or ESC \.
            b']' | b'P' | b'X' | b'^' | b'_' => {
                let body = &bytes[i + 2..];
                let bel = body.iter().position(|&b| b == BEL).map(|at| (at, 1));
                let st = body
                    .windows(2)
                    .position(|w| w == [ESC, b'\\'])
                    .map(|at| (at, 2));
                let end = match (bel, st) {
                    (Some(a), Some(b)) => a.min(b),
                    (Some(end), None) | (None, Some(end)) => end,
                    (None, None) => break,
                };
                i += 2 + end.0 + end.1;
            }
            // Character sets: ESC ( B and the like.
            b'(' | b')' | b'*' | b'+' | b'-' | b'.' | b'/' => {
                if i + 2 >= bytes.len() {
                    break;
                }
                i += 3;
            }
            // Any other escape: ESC and one byte (ESC 7, ESC 8, ESC =, ESC >, ESC M, ...).
            _ => i += 2,
        }
    }
    // A character still arriving is left out too.
    let complete = match std::str::from_utf8(&out) {
        Err(e) if e.error_len().is_none() => e.valid_up_to(),
        _ => out.len(),
    };
    String::from_utf8_lossy(&out[..complete]).into_owned()
}

#[test]
fn strip_removes_escape_sequences() {
    let raw = b"\x1b[?1049h\x1b[1;1H\x1b[2Khead\x1b[2;1Hbody \x1b[1m\x1b[34mSELECT\x1b[0m\r\n\
        \x1b]0;title\x07\x1b(Bdone\x1b7\x1b8!";
    assert_eq!(strip(raw), "\nhead\nbody SELECT\ndone!");
    // Cut-off sequences and characters are left out until complete.
    assert_eq!(strip(b"ok\x1b[1"), "ok");
    assert_eq!(strip(b"ok\x1b]0;ti"), "ok");
    assert_eq!(strip("ok é".as_bytes().split_last().unwrap().1), "ok ");
}

#[test]
fn pty_runs_a_shell_prompt() {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", r#"printf "name? "; read x; echo "got [$x]""#]);
    let mut pty = Pty::spawn(cmd, 80, 24);
    pty.expect("name? ", Duration::from_secs(10));
    pty.send(b"abc\r");
    pty.expect("got [abc]", Duration::from_secs(10));
    let (code, output) = pty.wait(Duration::from_secs(10));
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("name? abc\ngot [abc]"), "{output:?}");
}
