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
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
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

fn exit(code: confiture::error::ExitCode) -> std::process::ExitCode {
    std::process::ExitCode::from(code.code() as u8)
}
