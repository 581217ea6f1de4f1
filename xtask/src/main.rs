//! Project tasks: `cargo xtask build-plugins`.

mod plugins;

use std::path::Path;

fn main() -> anyhow::Result<()> {
    let workspace_root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ sits in the workspace root");
    match std::env::args().nth(1).as_deref() {
        Some("build-plugins") => {
            let built = plugins::build_plugins(workspace_root)?;
            println!("{} plugin components in target/plugins/", built.len());
            Ok(())
        }
        other => anyhow::bail!("unknown task {other:?}; tasks: build-plugins"),
    }
}
