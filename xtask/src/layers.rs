//! `cargo xtask layers`: the host's top-level modules (`host/src/<module>`) import one way.
//! Every `crate::<module>` path in host/src (in `use` lines and in code; comments and string
//! literals are skipped) is an edge of the module graph; an edge into a module of the same or a
//! higher layer fails the check with its file:line, unless [`DEBT`] lists it for that file;
//! so does a use of clap outside `cli/`.
//! docs/architecture.md explains the layers and what removing each debt takes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::Context;

/// The host's layers, lowest first: a module imports only modules of lower layers (modules of
/// one layer do not import each other).
const LAYERS: &[(&str, &[&str])] = &[
    (
        "foundation",
        &["bridge", "error", "identity", "parallel", "strings", "text"],
    ),
    ("terminal output, SQL analysis", &["output", "sql"]),
    ("risk of statements", &["risk"]),
    ("database", &["db"]),
    ("project and settings", &["project"]),
    ("per-run context", &["context"]),
    ("plugin runtime", &["plugins"]),
    ("plugin-backed services", &["anonymize", "hooks"]),
    ("migrations", &["migrate"]),
    (
        "other features",
        &["init", "lint", "schema", "sync", "wizard"],
    ),
    ("command line", &["cli"]),
];

/// An upward import allowed in exactly these files (paths under host/src) until it is removed;
/// docs/architecture.md lists each with what removing it takes.
struct Debt {
    from: &'static str,
    to: &'static str,
    files: &'static [&'static str],
}

/// Today's known upward imports: none. An upward import not listed here fails the check, and
/// so does an entry that no longer happens (remove it).
const DEBT: &[Debt] = &[];

/// One `crate::<to>` path in a file of module `from`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Import {
    from: String,
    to: String,
    /// The file, relative to host/src.
    file: String,
    line: usize,
}

/// Scans host/src, prints the cycles between top-level modules and every upward import that
/// [`DEBT`] does not allow; 0 when there is none.
pub fn run(root: &Path) -> anyhow::Result<u8> {
    let src = root.join("host/src");
    let (modules, imports) = scan(&src)?;
    for cycle in cycles(&imports) {
        println!("layers: import cycle between {}", cycle.join(", "));
    }
    let mut problems = check(&modules, &imports, LAYERS, DEBT);
    problems.extend(clap_outside_the_command_line(&src)?);
    for problem in &problems {
        eprintln!("layers: {problem}");
    }
    let upward = imports
        .iter()
        .filter(|i| is_upward(LAYERS, i).unwrap_or(false))
        .count();
    println!(
        "layers: {} imports between {} top-level modules, {upward} of them upward (allowlisted debt: {} edges)",
        imports.len(),
        modules.len(),
        DEBT.len()
    );
    Ok(u8::from(!problems.is_empty()))
}

/// The top-level modules of `src` (its `.rs` files and directories, but `lib.rs` and `main.rs`)
/// and every import from one into another.
fn scan(src: &Path) -> anyhow::Result<(BTreeSet<String>, Vec<Import>)> {
    let mut modules = BTreeSet::new();
    let mut imports = Vec::new();
    let entries = std::fs::read_dir(src).with_context(|| format!("reading {}", src.display()))?;
    for entry in entries {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let module = name.strip_suffix(".rs").unwrap_or(name);
        if path.is_file() && (!name.ends_with(".rs") || module == "lib" || module == "main") {
            continue;
        }
        modules.insert(module.to_string());
        for file in rust_files(&path)? {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let relative = file
                .strip_prefix(src)
                .unwrap_or(&file)
                .display()
                .to_string();
            imports.extend(
                crate_paths(&code_only(&text))
                    .into_iter()
                    .filter(|(_, to)| to != module)
                    .map(|(line, to)| Import {
                        from: module.to_string(),
                        to,
                        file: relative.clone(),
                        line,
                    }),
            );
        }
    }
    imports.sort_by(|a, b| (&a.file, a.line, &a.to).cmp(&(&b.file, b.line, &b.to)));
    Ok((modules, imports))
}

/// Every use of clap outside `cli/` (file:line): its types and traits stay in the command-line
/// layer, and the layers below take plain values.
fn clap_outside_the_command_line(src: &Path) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    for file in rust_files(src)? {
        let relative = file.strip_prefix(src).unwrap_or(&file);
        if relative.starts_with("cli") {
            continue;
        }
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        for line in clap_paths(&code_only(&text)) {
            problems.push(format!(
                "host/src/{}:{line}: uses clap below the command line: implement clap's traits for \
                 this type in cli/values.rs and pass plain values down",
                relative.display()
            ));
        }
    }
    Ok(problems)
}

/// The 1-based lines of `code` where a path starts with `clap::`.
fn clap_paths(code: &str) -> Vec<usize> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut lines = Vec::new();
    for (number, line) in code.lines().enumerate() {
        let mut rest = line;
        let mut before: Option<char> = None;
        while let Some(at) = rest.find("clap") {
            let previous = rest[..at].chars().next_back().or(before);
            let after = rest[at + 4..].trim_start();
            if previous.is_none_or(|c| !is_ident(c) && c != ':') && after.starts_with("::") {
                lines.push(number + 1);
                break;
            }
            before = rest[..at + 4].chars().next_back();
            rest = &rest[at + 4..];
        }
    }
    lines
}

/// `path` if it is a `.rs` file, else the `.rs` files under it, recursively.
fn rust_files(path: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).with_context(|| format!("reading {}", path.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(rust_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    Ok(files)
}

/// The layer index of `module`, if it has one.
fn layer_of(layers: &[(&str, &[&str])], module: &str) -> Option<usize> {
    layers.iter().position(|(_, ms)| ms.contains(&module))
}

/// Whether `import` points into the same or a higher layer; None when a module has no layer.
fn is_upward(layers: &[(&str, &[&str])], import: &Import) -> Option<bool> {
    Some(layer_of(layers, &import.to)? >= layer_of(layers, &import.from)?)
}

/// What is wrong: a module without a layer, an upward import not in `debt` (file:line), and a
/// `debt` entry whose import no longer happens.
fn check(
    modules: &BTreeSet<String>,
    imports: &[Import],
    layers: &[(&str, &[&str])],
    debt: &[Debt],
) -> Vec<String> {
    let mut problems = Vec::new();
    for module in modules {
        if layer_of(layers, module).is_none() {
            problems.push(format!(
                "host/src/{module} is in no layer: add it to LAYERS in xtask/src/layers.rs and to docs/architecture.md"
            ));
        }
    }
    let mut used: BTreeSet<(&str, &str, &str)> = BTreeSet::new();
    for import in imports {
        if is_upward(layers, import) != Some(true) {
            continue;
        }
        let allowed = debt.iter().find(|d| {
            d.from == import.from && d.to == import.to && d.files.contains(&import.file.as_str())
        });
        match allowed {
            Some(d) => {
                used.insert((d.from, d.to, &import.file));
            }
            None => {
                let name = |m: &str| layer_of(layers, m).map_or("", |l| layers[l].0);
                problems.push(format!(
                    "host/src/{}:{}: `{}` ({}) imports `crate::{}` ({}), a layer that is not below it",
                    import.file,
                    import.line,
                    import.from,
                    name(&import.from),
                    import.to,
                    name(&import.to)
                ));
            }
        }
    }
    for d in debt {
        for file in d.files {
            if !used.contains(&(d.from, d.to, *file)) {
                problems.push(format!(
                    "allowlisted `{} -> {}` no longer happens in host/src/{file}: remove it from DEBT in xtask/src/layers.rs",
                    d.from, d.to
                ));
            }
        }
    }
    problems
}

/// The strongly connected components of the import graph with more than one module (each a
/// set of modules that import each other through some path), sorted.
fn cycles(imports: &[Import]) -> Vec<Vec<String>> {
    let mut reach: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for import in imports {
        reach
            .entry(import.from.as_str())
            .or_default()
            .insert(import.to.as_str());
        reach.entry(import.to.as_str()).or_default();
    }
    // Transitive closure: a few dozen modules, so repeating until nothing changes is enough.
    loop {
        let mut changed = false;
        let modules: Vec<&str> = reach.keys().copied().collect();
        for module in &modules {
            let via: BTreeSet<&str> = reach[module]
                .iter()
                .flat_map(|next| reach[next].iter().copied())
                .collect();
            let set = reach.get_mut(module).expect("every module has an entry");
            let before = set.len();
            set.extend(via);
            changed |= set.len() != before;
        }
        if !changed {
            break;
        }
    }
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut components = Vec::new();
    for (module, reachable) in &reach {
        if seen.contains(*module) || !reachable.contains(module) {
            continue;
        }
        let component: Vec<String> = reachable
            .iter()
            .filter(|other| reach[*other].contains(module))
            .map(|m| m.to_string())
            .collect();
        seen.extend(component.iter().cloned());
        if component.len() > 1 {
            components.push(component);
        }
    }
    components
}

/// `text` with comments and the contents of string and character literals replaced by spaces;
/// line breaks are kept, so line numbers still hold.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, c: char| out.push(if c == '\n' { '\n' } else { ' ' });
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                blank(&mut out, chars[i]);
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, chars[i]);
                    i += 1;
                }
            }
        } else if c == 'r'
            && (i == 0
                || !is_ident(chars[i - 1])
                || (chars[i - 1] == 'b' && (i < 2 || !is_ident(chars[i - 2]))))
            && raw_string_hashes(&chars[i + 1..]).is_some()
        {
            let hashes = raw_string_hashes(&chars[i + 1..]).unwrap_or(0);
            out.push('r');
            i += 1;
            for _ in 0..=hashes {
                out.push(chars[i]);
                i += 1;
            }
            let closing: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            while i < chars.len() && !chars[i..].starts_with(&closing) {
                blank(&mut out, chars[i]);
                i += 1;
            }
            for _ in 0..closing.len().min(chars.len() - i) {
                out.push(chars[i]);
                i += 1;
            }
        } else if c == '"' {
            out.push('"');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    blank(&mut out, chars[i]);
                    i += 1;
                }
                blank(&mut out, chars[i]);
                i += 1;
            }
            if i < chars.len() {
                out.push('"');
                i += 1;
            }
        } else if c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A character literal ('x', '\n', '\''); a lifetime ('a) has no closing quote.
            out.push('\'');
            i += 1;
            if chars.get(i) == Some(&'\\') {
                out.push(' ');
                i += 1;
            }
            while i < chars.len() && chars[i] != '\'' {
                blank(&mut out, chars[i]);
                i += 1;
            }
            if i < chars.len() {
                out.push('\'');
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The number of `#` of a raw string starting after its `r` (`r"`, `r#"`, …), if it is one.
fn raw_string_hashes(after_r: &[char]) -> Option<usize> {
    let hashes = after_r.iter().take_while(|c| **c == '#').count();
    (after_r.get(hashes) == Some(&'"')).then_some(hashes)
}

/// Every `crate::<module>` in `code` (also each `<module>` of `crate::{a::x, b}`), with its
/// 1-based line.
fn crate_paths(code: &str) -> Vec<(usize, String)> {
    let chars: Vec<char> = code.chars().collect();
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let skip_space = |mut i: usize| {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        i
    };
    let line_at = |i: usize| 1 + chars[..i].iter().filter(|c| **c == '\n').count();
    let ident_at = |i: usize| -> String {
        chars[i..]
            .iter()
            .take_while(|c| is_ident(**c))
            .collect::<String>()
    };
    let keyword: Vec<char> = "crate".chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i + keyword.len() <= chars.len() {
        let at_word = chars[i..].starts_with(&keyword)
            && (i == 0 || !is_ident(chars[i - 1]))
            && chars.get(i + keyword.len()).is_none_or(|c| !is_ident(*c));
        if !at_word {
            i += 1;
            continue;
        }
        i = skip_space(i + keyword.len());
        if !(chars.get(i) == Some(&':') && chars.get(i + 1) == Some(&':')) {
            continue;
        }
        i = skip_space(i + 2);
        if chars.get(i) == Some(&'{') {
            // A group: the first segment of each item at its top level.
            let mut depth = 0;
            let mut expect_item = true;
            while i < chars.len() {
                match chars[i] {
                    '{' => {
                        depth += 1;
                        expect_item = depth == 1;
                    }
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => expect_item = true,
                    c if expect_item && is_ident(c) => {
                        let name = ident_at(i);
                        found.push((line_at(i), name.clone()));
                        expect_item = false;
                        i += name.chars().count();
                        continue;
                    }
                    _ => {}
                }
                i += 1;
            }
        } else {
            let name = ident_at(i);
            if !name.is_empty() {
                found.push((line_at(i), name));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn import(from: &str, to: &str, file: &str, line: usize) -> Import {
        Import {
            from: from.into(),
            to: to.into(),
            file: file.into(),
            line,
        }
    }

    const TEST_LAYERS: &[(&str, &[&str])] = &[
        ("low", &["error", "text"]),
        ("middle", &["db"]),
        ("high", &["cli"]),
    ];

    fn modules() -> BTreeSet<String> {
        ["error", "text", "db", "cli"]
            .into_iter()
            .map(String::from)
            .collect()
    }

    #[test]
    fn paths_in_use_lines_groups_and_code_are_found_and_comments_and_strings_are_not() {
        let code = code_only(concat!(
            "//! Mentions crate::cli in a doc comment.\n",
            "use crate::db::connect;\n",
            "use crate::{error::Failure, text::{self, neutralise}};\n",
            "/* crate::cli /* nested */ crate::cli */\n",
            "fn f<'a>(x: &'a str) -> char { let _ = \"crate::cli \\\" crate::cli\"; 'c' }\n",
            "let _ = r#\"crate::cli \"quoted\" crate::cli\"#; let q = '\"';\n",
            "let _ = crate :: output :: paint(crate::cli::Globals::default());\n",
            "pub(crate) fn g() {}\n",
        ));
        assert_eq!(
            crate_paths(&code),
            vec![
                (2, "db".to_string()),
                (3, "error".to_string()),
                (3, "text".to_string()),
                (7, "output".to_string()),
                (7, "cli".to_string()),
            ]
        );
        assert_eq!(code.lines().count(), 8, "line breaks are kept");
    }

    #[test]
    fn an_upward_import_fails_with_its_file_and_line() {
        let imports = [
            import("db", "error", "db/connect.rs", 3),
            import("db", "cli", "db/connect.rs", 9),
            import("text", "error", "text.rs", 2),
        ];
        let problems = check(&modules(), &imports, TEST_LAYERS, &[]);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0]
                .starts_with("host/src/db/connect.rs:9: `db` (middle) imports `crate::cli` (high)"),
            "{problems:?}"
        );
        assert!(
            problems[1]
                .starts_with("host/src/text.rs:2: `text` (low) imports `crate::error` (low)"),
            "modules of one layer do not import each other: {problems:?}"
        );
    }

    #[test]
    fn debt_allows_an_upward_import_only_in_its_files_and_must_still_happen() {
        let debt = [Debt {
            from: "db",
            to: "cli",
            files: &["db/commands.rs", "db/gone.rs"],
        }];
        let imports = [
            import("db", "cli", "db/commands.rs", 4),
            import("db", "cli", "db/connect.rs", 7),
        ];
        let problems = check(&modules(), &imports, TEST_LAYERS, &debt);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with("host/src/db/connect.rs:7:"),
            "{problems:?}"
        );
        assert!(
            problems[1].contains("`db -> cli` no longer happens in host/src/db/gone.rs"),
            "{problems:?}"
        );
    }

    #[test]
    fn a_module_without_a_layer_fails() {
        let mut modules = modules();
        modules.insert("newcomer".into());
        let problems = check(&modules, &[], TEST_LAYERS, &[]);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("host/src/newcomer is in no layer"));
    }

    #[test]
    fn cycles_are_the_modules_that_reach_each_other() {
        let imports = [
            import("db", "cli", "db/a.rs", 1),
            import("cli", "text", "cli/a.rs", 1),
            import("text", "db", "text.rs", 1),
            import("cli", "error", "cli/a.rs", 2),
            import("output", "sql", "output.rs", 1),
            import("sql", "output", "sql/a.rs", 1),
        ];
        assert_eq!(
            cycles(&imports),
            vec![
                vec!["cli".to_string(), "db".to_string(), "text".to_string()],
                vec!["output".to_string(), "sql".to_string()],
            ]
        );
        assert!(cycles(&imports[3..4]).is_empty());
    }

    #[test]
    fn clap_paths_are_found_in_use_lines_and_derives_and_not_in_other_names() {
        let code = code_only(concat!(
            "use clap::ValueEnum;\n",
            "#[derive(Debug, clap::ValueEnum)]\n",
            "// clap::Parser in a comment\n",
            "let _ = \"clap::Parser\"; let myclap = 1; other::clap::X;\n",
            "use clap :: { Parser };\n",
        ));
        assert_eq!(clap_paths(&code), vec![1, 2, 5]);
    }

    #[test]
    fn the_host_keeps_its_layers() {
        let src = crate::workspace::root().join("host/src");
        let (modules, imports) = scan(&src).unwrap();
        let mut problems = check(&modules, &imports, LAYERS, DEBT);
        problems.extend(clap_outside_the_command_line(&src).unwrap());
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
