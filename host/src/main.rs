//! The `confiture` binary.

/// mimalloc: the parser and the sync pipeline allocate many small values on several threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    if let Some(code) = confiture::plugins::compile::child_main_if_asked() {
        return code;
    }
    let cli = match confiture::cli::parse() {
        Ok(cli) => cli,
        Err(code) => return exit(code),
    };
    let out = confiture::output::Output::new(cli.format);
    let mut builder = if applies_migrations(&cli) {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            return exit(out.error(&anyhow::Error::new(err).context("starting the runtime")));
        }
    };
    match runtime.block_on(confiture::cli::dispatch(cli)) {
        Ok(code) => exit(code),
        Err(err) => exit(out.error(&err)),
    }
}

/// `migrate up` and `migrate down` wait on PostgreSQL one round trip after another and do
/// nothing in parallel, so they run on a current-thread runtime: each answer wakes the command
/// on the thread that read it, instead of being handed from the connection's task on a worker
/// to the main thread and back (about 40 thread switches per migration on the multi-threaded
/// runtime, against 2 for `psql -f`). Hook calls still run on a blocking thread. Every other
/// command keeps a worker per core (the wizard's prompts leave it with `block_in_place`, through
/// `bridge::run_blocking`).
fn applies_migrations(cli: &confiture::cli::Cli) -> bool {
    use confiture::cli::{Command, MigrateCommand};
    matches!(
        &cli.command,
        Command::Migrate(MigrateCommand::Up(_) | MigrateCommand::Down(_))
    )
}

fn exit(code: confiture::error::ExitCode) -> std::process::ExitCode {
    std::process::ExitCode::from(code.code() as u8)
}
