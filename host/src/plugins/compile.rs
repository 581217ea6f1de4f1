//! Compiling a component to native code, bounded in size, time and memory.
//!
//! Cranelift's time and memory grow with the component, before any per-call limit applies, in
//! every command that loads plugins; a hostile 12 MB component can take the host down. So the
//! `confiture` binary compiles in a child process — itself, started with [`CHILD_ARG`] — whose
//! data segment is capped with `RLIMIT_DATA` (and CPU time with `RLIMIT_CPU`, should the parent
//! die), which the parent kills at the time limit. The child writes the serialized artifact on
//! stdout; it is the same engine configuration, so the parent loads it as is. Components above
//! the size limit are refused before anything else. Library embedders that trust their
//! components may compile in process ([`Compiler::InProcess`]).

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use wasmtime::Engine;
use wasmtime::component::Component;

use crate::error::Failure;
use crate::project::settings::plugins::PluginSandbox;

/// The first argument that makes `confiture` a compiling child.
pub const CHILD_ARG: &str = "__confiture-compile-plugin";
/// The child's exit code for a file that is not a valid component.
const INVALID: i32 = 2;
/// The most of the child's stderr kept for a message.
const STDERR_KEPT: usize = 4096;
const MIB: u64 = 1024 * 1024;

/// Bounds on compiling one component (`plugin_sandbox:` in the environment file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompileLimits {
    /// Largest component file, in MiB.
    pub max_component_mb: u64,
    /// Longest compilation, wall time.
    pub timeout: Duration,
    /// Most memory (data segment) the compiling process may use, in MiB.
    pub memory_mb: u64,
}

impl CompileLimits {
    /// The limits `plugin_sandbox:` sets, the defaults for what it leaves out.
    pub fn from_settings(settings: &PluginSandbox) -> Self {
        let default = CompileLimits::default();
        CompileLimits {
            max_component_mb: settings
                .max_component_mb
                .unwrap_or(default.max_component_mb),
            timeout: settings
                .compile_timeout_ms
                .map_or(default.timeout, Duration::from_millis),
            memory_mb: settings.compile_memory_mb.unwrap_or(default.memory_mb),
        }
    }
}

impl Default for CompileLimits {
    /// 64 MiB, 180 s and 2048 MiB: the 18 MB Python example compiles in about 35 s and 570 MiB
    /// on a loaded two-core machine.
    fn default() -> Self {
        CompileLimits {
            max_component_mb: 64,
            timeout: Duration::from_secs(180),
            memory_mb: 2048,
        }
    }
}

/// Where components are compiled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Compiler {
    /// In this process: only the size limit applies (for embedders and tests that trust their
    /// components).
    #[default]
    InProcess,
    /// In a child process running this `confiture` binary, bounded by every limit.
    Child(PathBuf),
}

impl Compiler {
    /// A child process running the current executable.
    pub fn child() -> anyhow::Result<Self> {
        Ok(Compiler::Child(std::env::current_exe()?))
    }
}

/// A compiled component and, when it came from a child, its serialized artifact.
pub(crate) struct Compiled {
    pub component: Component,
    pub artifact: Option<Vec<u8>>,
}

/// Refuses a component file above the size limit, naming it.
pub(crate) fn check_size(shown: &str, len: usize, limits: &CompileLimits) -> Result<(), Failure> {
    if len as u64 > limits.max_component_mb * MIB {
        return Err(Failure::config(format!(
            "{shown} is {} MiB, above the {} MiB limit for a plugin component",
            (len as u64).div_ceil(MIB),
            limits.max_component_mb
        ))
        .hint(
            "if you trust it, raise `plugin_sandbox.max_component_mb` in the environment file; \
             otherwise remove it from the plugins directory",
        ));
    }
    Ok(())
}

/// Compiles `bytes` (the component in `shown`) with `compiler` under `limits`.
pub(crate) fn compile(
    engine: &Engine,
    compiler: &Compiler,
    limits: &CompileLimits,
    shown: &str,
    bytes: &[u8],
) -> Result<Compiled, Failure> {
    let invalid = |e: String| {
        Failure::config(format!("{shown} is not a valid component: {e}"))
            .hint("the file is corrupt or truncated; rebuild the plugin")
    };
    match compiler {
        Compiler::InProcess => Component::from_binary(engine, bytes)
            .map(|component| Compiled {
                component,
                artifact: None,
            })
            .map_err(|e| invalid(format!("{:#}", anyhow::Error::from(e)))),
        Compiler::Child(exe) => {
            let artifact = match in_child(exe, limits, bytes) {
                Ok(artifact) => artifact,
                Err(Child::Invalid(why)) => return Err(invalid(why)),
                Err(Child::TimedOut) => {
                    return Err(Failure::config(format!(
                        "compiling {shown} took longer than {} ms, and was stopped",
                        limits.timeout.as_millis()
                    ))
                    .hint(
                        "if you trust it, raise `plugin_sandbox.compile_timeout` in the \
                         environment file; otherwise remove it from the plugins directory",
                    ));
                }
                Err(Child::OutOfMemory) => {
                    return Err(Failure::config(format!(
                        "compiling {shown} needed more than {} MiB of memory, and was stopped",
                        limits.memory_mb
                    ))
                    .hint(
                        "if you trust it, raise `plugin_sandbox.compile_memory_mb` in the \
                         environment file; otherwise remove it from the plugins directory",
                    ));
                }
                Err(Child::Failed(why)) => {
                    return Err(Failure::config(format!(
                        "compiling {shown} failed in the compiling process: {why}"
                    )));
                }
            };
            // SAFETY: the artifact was just produced by this same binary, with the same engine
            // configuration, from the bytes given, in a child that only compiles; wasmtime
            // checks the engine configuration recorded in its header as well.
            let component = unsafe { Component::deserialize(engine, &artifact) }
                .map_err(|e| invalid(format!("{:#}", anyhow::Error::from(e))))?;
            Ok(Compiled {
                component,
                artifact: Some(artifact),
            })
        }
    }
}

/// How compiling in the child went wrong.
enum Child {
    Invalid(String),
    TimedOut,
    OutOfMemory,
    Failed(String),
}

fn in_child(exe: &std::path::Path, limits: &CompileLimits, bytes: &[u8]) -> Result<Vec<u8>, Child> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let cpu_seconds = limits.timeout.as_secs().saturating_mul(threads) + 10;
    let mut child = Command::new(exe)
        // mimalloc commits each 1 GiB arena it reserves, and RLIMIT_DATA counts committed
        // memory: any limit under about 1.1 GiB refused every compile at once. Committing on
        // demand makes the limit count what the compiler really uses.
        .env("MIMALLOC_ARENA_EAGER_COMMIT", "0")
        .arg(CHILD_ARG)
        .arg(limits.memory_mb.to_string())
        .arg(cpu_seconds.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Child::Failed(format!("cannot start {}: {e}", exe.display())))?;
    let (mut stdin, mut stdout, mut stderr) = (
        child.stdin.take().expect("piped"),
        child.stdout.take().expect("piped"),
        child.stderr.take().expect("piped"),
    );
    let deadline = Instant::now() + limits.timeout;
    let (status, artifact, message) = std::thread::scope(|scope| {
        scope.spawn(move || {
            // A child that died early closes the pipe; its status says why.
            let _ = stdin.write_all(bytes);
        });
        let artifact = scope.spawn(move || {
            let mut out = Vec::new();
            stdout.read_to_end(&mut out).map(|_| out)
        });
        let message = scope.spawn(move || {
            let mut err = Vec::new();
            let _ = stderr.read_to_end(&mut err);
            String::from_utf8_lossy(&err[..err.len().min(STDERR_KEPT)]).into_owned()
        });
        let status = wait(&mut child, deadline);
        (
            status,
            artifact.join().expect("reader thread"),
            message.join().expect("reader thread"),
        )
    });
    let Some(status) = status.map_err(|e| Child::Failed(e.to_string()))? else {
        return Err(Child::TimedOut);
    };
    if status.success() {
        return artifact.map_err(|e| Child::Failed(format!("reading its output: {e}")));
    }
    let message = message.trim().to_string();
    if status.code() == Some(INVALID) {
        return Err(Child::Invalid(message));
    }
    if ran_out_of_memory(&status, &message) {
        return Err(Child::OutOfMemory);
    }
    Err(Child::Failed(format!("{status}: {message}")))
}

/// Waits for `child` until `deadline`; `None` (after killing it) when it was still running.
fn wait(child: &mut std::process::Child, deadline: Instant) -> std::io::Result<Option<ExitStatus>> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            child.wait()?;
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// An allocation the data limit refused: Rust aborts with "memory allocation of N bytes
/// failed", mimalloc reports "out of memory", a thread cannot be started (EAGAIN); either way the process dies by SIGABRT (or
/// SIGSEGV/SIGKILL when the limit hit elsewhere).
fn ran_out_of_memory(status: &ExitStatus, message: &str) -> bool {
    use std::os::unix::process::ExitStatusExt;
    message.contains("memory allocation of")
        || message.contains("out of memory")
        // A thread (its stack) that could not be mapped under the data limit.
        || message.contains("Resource temporarily unavailable")
        || matches!(status.signal(), Some(6 | 9 | 11))
}

/// When this process was started as a compiling child (`confiture __confiture-compile-plugin
/// <memory MiB> <cpu seconds>`), compiles the component on stdin and returns the exit code.
pub fn child_main_if_asked() -> Option<std::process::ExitCode> {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if args.first().and_then(|a| a.to_str()) != Some(CHILD_ARG) {
        return None;
    }
    let number = |i: usize| -> u64 {
        args.get(i)
            .and_then(|a| a.to_str())
            .and_then(|a| a.parse().ok())
            .unwrap_or(0)
    };
    Some(std::process::ExitCode::from(
        child(number(1), number(2)) as u8
    ))
}

fn child(memory_mb: u64, cpu_seconds: u64) -> i32 {
    use nix::sys::resource::{Resource, setrlimit};
    // The default hook symbolises a backtrace (under RUST_BACKTRACE) while holding the
    // backtrace lock; an allocation the data limit refuses there calls the out-of-memory hook,
    // which waits for that same lock: the child would hang until the compile timeout. The
    // message alone needs no allocation.
    std::panic::set_hook(Box::new(|info| {
        let _ = writeln!(std::io::stderr(), "{info}");
    }));
    if memory_mb > 0 {
        let bytes = memory_mb.saturating_mul(MIB);
        if let Err(e) = setrlimit(Resource::RLIMIT_DATA, bytes, bytes) {
            eprintln!("cannot limit the compiling process's memory: {e}");
            return 1;
        }
    }
    if cpu_seconds > 0 {
        let _ = setrlimit(Resource::RLIMIT_CPU, cpu_seconds, cpu_seconds + 5);
    }
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut bytes) {
        eprintln!("cannot read the component: {e}");
        return 1;
    }
    let engine = match super::engine::new_engine() {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("{e:#}");
            return 1;
        }
    };
    let artifact = match Component::from_binary(&engine, &bytes).and_then(|c| c.serialize()) {
        Ok(artifact) => artifact,
        Err(e) => {
            eprintln!("{:#}", anyhow::Error::from(e));
            return INVALID;
        }
    };
    match std::io::stdout().write_all(&artifact) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("cannot write the artifact: {e}");
            1
        }
    }
}
