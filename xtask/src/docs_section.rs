//! The generated sections of `docs/benchmarks.md`: each benchmark owns the text between its
//! `<!-- NAME:start -->` and `<!-- NAME:end -->` markers and rewrites only that.

use std::path::Path;

use anyhow::Context;

/// Puts `body` between the markers `start` and `end` of `file`: replaces what they enclose, or
/// appends the markers and `body` at the end of the file when they are not both there (in
/// order). The rest of the file is left byte for byte as it was.
pub fn write(file: &Path, start: &str, end: &str, body: &str) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let section = format!("{start}\n{}\n{end}", body.trim_matches('\n'));
    let updated = match (text.find(start), text.find(end)) {
        (Some(a), Some(b)) if a < b => {
            format!("{}{section}{}", &text[..a], &text[b + end.len()..])
        }
        _ => format!("{}\n\n{section}\n", text.trim_end()),
    };
    std::fs::write(file, updated).with_context(|| format!("writing {}", file.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_between_the_markers_or_appends() {
        let dir = std::env::temp_dir().join(format!("xtask-docs-section-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("benchmarks.md");
        std::fs::write(&file, "# Benchmarks\n\nintro\n").unwrap();
        write(&file, "<!-- x:start -->", "<!-- x:end -->", "first\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "# Benchmarks\n\nintro\n\n<!-- x:start -->\nfirst\n<!-- x:end -->\n"
        );
        std::fs::write(
            &file,
            "a\n<!-- x:start -->\nold\n<!-- x:end -->\nb\n<!-- y:start -->\n<!-- y:end -->\n",
        )
        .unwrap();
        write(&file, "<!-- x:start -->", "<!-- x:end -->", "new").unwrap();
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "a\n<!-- x:start -->\nnew\n<!-- x:end -->\nb\n<!-- y:start -->\n<!-- y:end -->\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
