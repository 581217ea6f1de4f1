//! The schema files an environment selects, in build order: each `include_dirs` entry (a
//! directory, or the upstream map form with `recursive`, `include`, `exclude`, `order` and
//! `auto_discover`) minus `exclude_dirs`, each file once (the first entry that selects it owns
//! it), grouped by `order` low to high, each group sorted as `build.sort_mode` says.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::Project;
use crate::error::Failure;

/// The pattern a bare `include_dirs` entry (and a map without `include`) selects files with.
pub const DEFAULT_INCLUDE: &str = "**/*.sql";

/// One `include_dirs` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncludeDir {
    /// The directory, relative to the project root (or absolute).
    pub path: PathBuf,
    /// Descend into subdirectories.
    pub recursive: bool,
    /// Globs (gitignore dialect, relative to `path`) a file must match to be selected.
    pub include: Vec<String>,
    /// Globs that remove a file the `include` globs selected.
    pub exclude: Vec<String>,
    /// The block of the build the entry's files land in (lower first).
    pub order: i64,
    /// A missing directory is an error (bare entries, `auto_discover: false`); otherwise the
    /// entry is skipped.
    pub required: bool,
}

impl IncludeDir {
    /// A bare entry: the whole tree's `.sql` files; the directory must exist.
    pub fn bare(path: impl Into<PathBuf>) -> Self {
        IncludeDir {
            path: path.into(),
            recursive: true,
            include: vec![DEFAULT_INCLUDE.to_string()],
            exclude: Vec::new(),
            order: 0,
            required: true,
        }
    }
}

/// How files are sorted inside one `order` block (`build.sort_mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortMode {
    /// Confiture's default: path components in natural order (`2_x` before `10_x`).
    #[default]
    Natural,
    /// Upstream's default (`sort_mode: alphabetical`): path components as text.
    Alphabetical,
    /// Upstream's `sort_mode: hex`: numbered names (a prefix of hex digits with at least one
    /// decimal digit, before `_`) first, by value — in base 16 among siblings of which one has
    /// a hex letter, else base 10 — then the others by name.
    Numbered,
}

/// One selected file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaFile {
    /// The file on disk (canonical).
    pub path: PathBuf,
    /// The path as shown and ordered: relative to the project root when inside it.
    pub relative: String,
}

/// What a missing `include_dirs` directory means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingDirs {
    /// A required entry's directory must exist (a build).
    Fail,
    /// Skip every missing directory (a lint, which reads what is there).
    Skip,
}

/// The environment's schema files in build order; `skip` (a build's own output) is never
/// selected.
pub fn select(
    project: &Project,
    skip: Option<&Path>,
    missing: MissingDirs,
) -> anyhow::Result<Vec<SchemaFile>> {
    let env_file = project.show(&project.env.file);
    let excludes: Vec<PathBuf> = project
        .env
        .exclude_dirs
        .iter()
        .filter_map(|dir| project.path(dir).canonicalize().ok())
        .collect();
    let skip = skip.and_then(|p| p.canonicalize().ok());
    let mut entries: Vec<&IncludeDir> = project.env.include_dirs.iter().collect();
    entries.sort_by_key(|entry| entry.order);
    let mut owned = HashSet::new();
    let mut blocks: BTreeMap<i64, Vec<SchemaFile>> = BTreeMap::new();
    for entry in entries {
        let absolute = project.path(&entry.path);
        let Some(root) = absolute.canonicalize().ok().filter(|p| p.is_dir()) else {
            if entry.required && missing == MissingDirs::Fail {
                return Err(Failure::config(format!(
                    "include dir `{}` (include_dirs in {env_file}) does not exist",
                    entry.path.display()
                ))
                .hint(format!(
                    "create {}, or fix include_dirs in {env_file} (an entry with \
                     `auto_discover: true` may be missing)",
                    project.show(&absolute)
                ))
                .into());
            }
            continue;
        };
        let mut walker = Walker {
            entry,
            excludes: &excludes,
            visited: HashSet::new(),
            found: Vec::new(),
        };
        walker.walk(&root, "")?;
        for path in walker.found {
            if skip.as_deref() != Some(path.as_path()) && owned.insert(path.clone()) {
                blocks.entry(entry.order).or_default().push(SchemaFile {
                    relative: project.show(&path),
                    path,
                });
            }
        }
    }
    let mode = project.env.sort_mode;
    let mut files = Vec::new();
    for (_, mut block) in blocks {
        sort(&mut block, mode);
        files.extend(block);
    }
    Ok(files)
}

/// The files one entry selects.
struct Walker<'a> {
    entry: &'a IncludeDir,
    excludes: &'a [PathBuf],
    visited: HashSet<PathBuf>,
    found: Vec<PathBuf>,
}

impl Walker<'_> {
    /// Visits `dir` (canonical), whose path relative to the entry is `relative` (`a/b/` or
    /// empty), skipping excluded and already visited directories (symbolic link loops).
    fn walk(&mut self, dir: &Path, relative: &str) -> anyhow::Result<()> {
        if self.excludes.iter().any(|ex| dir.starts_with(ex))
            || !self.visited.insert(dir.to_path_buf())
        {
            return Ok(());
        }
        let mut entries: Vec<(String, PathBuf)> = Vec::new();
        for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(path) = entry.path().canonicalize() else {
                continue; // a dangling symbolic link
            };
            entries.push((name, path));
        }
        entries.sort();
        for (name, path) in entries {
            let inner = format!("{relative}{name}");
            if path.is_dir() {
                if self.entry.recursive {
                    self.walk(&path, &format!("{inner}/"))?;
                }
            } else if self.entry.include.iter().any(|g| glob_matches(&inner, g))
                && !self.entry.exclude.iter().any(|g| glob_matches(&inner, g))
                && !self.excludes.iter().any(|ex| path.starts_with(ex))
            {
                self.found.push(path);
            }
        }
        Ok(())
    }
}

/// Sorts one block by `mode`, on the paths relative to the project root.
fn sort(files: &mut [SchemaFile], mode: SortMode) {
    match mode {
        SortMode::Natural => files.sort_by(|a, b| natural_path_cmp(&a.relative, &b.relative)),
        SortMode::Alphabetical => files.sort_by_cached_key(|f| components(&f.relative)),
        SortMode::Numbered => {
            let paths: Vec<Vec<String>> = files.iter().map(|f| components(&f.relative)).collect();
            let hex_parents = hex_parents(&paths);
            files.sort_by_cached_key(|f| numbered_key(&components(&f.relative), &hex_parents));
        }
    }
}

fn components(path: &str) -> Vec<String> {
    Path::new(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect()
}

/// The prefix of a numbered name: hex digits before the first `_`, with a decimal digit.
fn numeric_prefix(name: &str) -> Option<&str> {
    let (prefix, _) = name.split_once('_')?;
    (!prefix.is_empty()
        && prefix.chars().all(|c| c.is_ascii_hexdigit())
        && prefix.chars().any(|c| c.is_ascii_digit()))
    .then_some(prefix)
}

/// The parent directories (as component lists) among whose children a prefix has a hex letter.
fn hex_parents(paths: &[Vec<String>]) -> HashSet<Vec<String>> {
    let mut hex = HashSet::new();
    for parts in paths {
        for (index, name) in parts.iter().enumerate() {
            if numeric_prefix(name).is_some_and(|p| p.chars().any(|c| c.is_ascii_alphabetic())) {
                hex.insert(parts[..index].to_vec());
            }
        }
    }
    hex
}

/// Upstream's numbered sort key: per component (0, value, rest) for numbered names,
/// (1, 0, name) for others; the path itself breaks ties.
fn numbered_key(
    parts: &[String],
    hex_parents: &HashSet<Vec<String>>,
) -> (Vec<(u8, u128, String)>, Vec<String>) {
    let key = parts
        .iter()
        .enumerate()
        .map(|(index, name)| match numeric_prefix(name) {
            None => (1, 0, name.clone()),
            Some(prefix) => {
                let radix = if hex_parents.contains(&parts[..index].to_vec()) {
                    16
                } else {
                    10
                };
                let value = u128::from_str_radix(prefix, radix).unwrap_or(u128::MAX);
                (0, value, name[prefix.len() + 1..].to_string())
            }
        })
        .collect();
    (key, parts.to_vec())
}

/// Compares two relative paths component by component, each in natural order.
pub fn natural_path_cmp(a: &str, b: &str) -> Ordering {
    let (pa, pb) = (components(a), components(b));
    for (x, y) in pa.iter().zip(&pb) {
        match natural_cmp(x, y) {
            Ordering::Equal => continue,
            other => return other,
        }
    }
    pa.len().cmp(&pb.len()).then_with(|| a.cmp(b))
}

/// Natural order of two names: digit runs compare as numbers, the rest as text.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a, b);
    loop {
        match (x.is_empty(), y.is_empty()) {
            (true, true) => return a.cmp(b),
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        let (run_x, rest_x) = split_run(x);
        let (run_y, rest_y) = split_run(y);
        let digits = |s: &str| s.starts_with(|c: char| c.is_ascii_digit());
        let order = match (digits(run_x), digits(run_y)) {
            (true, true) => {
                let (tx, ty) = (run_x.trim_start_matches('0'), run_y.trim_start_matches('0'));
                tx.len().cmp(&ty.len()).then_with(|| tx.cmp(ty))
            }
            // A number sorts before text, as in `1_x` before `a_x`.
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => run_x.cmp(run_y),
        };
        if order != Ordering::Equal {
            return order;
        }
        (x, y) = (rest_x, rest_y);
    }
}

/// The leading run of digits or of non-digits, and the rest.
fn split_run(s: &str) -> (&str, &str) {
    let digit = s.starts_with(|c: char| c.is_ascii_digit());
    let end = s
        .find(|c: char| c.is_ascii_digit() != digit)
        .unwrap_or(s.len());
    s.split_at(end)
}

/// True when `path` (`/`-separated, relative to an `include_dirs` entry) matches `pattern` in
/// upstream's gitignore dialect: a pattern without `/` matches the file name at any depth; one
/// with `/` is anchored at the entry (a leading `/` is redundant, a trailing `/` takes what is
/// beneath); `**` spans zero or more components; `*`, `?` and `[...]` (`[!...]` negated) stay
/// inside one component. A `..` component matches nothing.
pub fn glob_matches(path: &str, pattern: &str) -> bool {
    let mut text = pattern.trim().trim_start_matches('/').to_string();
    if text.is_empty() {
        return false;
    }
    if text.ends_with('/') {
        text.push_str("**");
    }
    if !text.contains('/') {
        text = format!("**/{text}");
    }
    let mut pattern: Vec<&str> = Vec::new();
    for part in text.split('/') {
        if part == ".." {
            return false;
        }
        if !(part == "**" && pattern.last() == Some(&"**")) {
            pattern.push(part);
        }
    }
    let parts: Vec<&str> = path.split('/').collect();
    match_components(&pattern, &parts)
}

/// Matches glob components against path components (`**` spans any number of them).
fn match_components(pattern: &[&str], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((&"**", rest)) => (0..=path.len()).any(|skip| match_components(rest, &path[skip..])),
        Some((first, rest)) => path
            .split_first()
            .is_some_and(|(name, tail)| match_name(first, name) && match_components(rest, tail)),
    }
}

/// Matches one component: `*`, `?`, `[set]`, `[!set]` and literal characters.
fn match_name(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    match_chars(&pattern, &name)
}

fn match_chars(pattern: &[char], name: &[char]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some(('*', rest)) => (0..=name.len()).any(|skip| match_chars(rest, &name[skip..])),
        Some(('?', rest)) => name
            .split_first()
            .is_some_and(|(_, tail)| match_chars(rest, tail)),
        Some(('[', rest)) => match class(rest) {
            Some((negated, set, after)) => name
                .split_first()
                .is_some_and(|(c, tail)| in_class(&set, *c) != negated && match_chars(after, tail)),
            None => name
                .split_first()
                .is_some_and(|(c, tail)| *c == '[' && match_chars(rest, tail)),
        },
        Some((literal, rest)) => name
            .split_first()
            .is_some_and(|(c, tail)| c == literal && match_chars(rest, tail)),
    }
}

/// Reads `[...]` after its `[`: negated, the set, and the pattern after `]`; `None` when the
/// class is not closed (the `[` is then literal).
fn class(after_bracket: &[char]) -> Option<(bool, Vec<char>, &[char])> {
    let (negated, body) = match after_bracket.first() {
        Some('!') => (true, &after_bracket[1..]),
        _ => (false, after_bracket),
    };
    // A `]` first in the set is a member, as in gitignore.
    let close = body.iter().skip(1).position(|c| *c == ']')? + 1;
    Some((negated, body[..close].to_vec(), &body[close + 1..]))
}

/// True when `c` is in a class body (`a-z` ranges included).
fn in_class(set: &[char], c: char) -> bool {
    let mut i = 0;
    while i < set.len() {
        if i + 2 < set.len() && set[i + 1] == '-' {
            if (set[i]..=set[i + 2]).contains(&c) {
                return true;
            }
            i += 3;
        } else {
            if set[i] == c {
                return true;
            }
            i += 1;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_follow_upstreams_gitignore_dialect() {
        // No `/`: the file name at any depth.
        assert!(glob_matches("x.sql", "*.sql"));
        assert!(glob_matches("a/b/x.sql", "*.sql"));
        assert!(!glob_matches("a/x.sqlx", "*.sql"));
        // `**` spans zero or more components.
        assert!(glob_matches("x.sql", "**/*.sql"));
        assert!(glob_matches("a/b/x.sql", "**/*.sql"));
        assert!(glob_matches("temp/x.sql", "**/temp/**"));
        assert!(glob_matches("a/b/temp/x.sql", "**/temp/**"));
        assert!(!glob_matches("a/temporary/x.sql", "**/temp/**"));
        // With `/`: anchored at the entry; a trailing `/` takes everything beneath.
        assert!(glob_matches("temp/x.sql", "temp/*.sql"));
        assert!(!glob_matches("a/temp/x.sql", "temp/*.sql"));
        assert!(glob_matches("stats/a/b.sql", "stats/"));
        assert!(glob_matches("stats/a.sql", "/stats/*.sql"));
        // `*` and `?` stay inside a component; classes and negated classes.
        assert!(!glob_matches("a/b.sql", "a*.sql"));
        assert!(glob_matches("v1.sql", "v?.sql"));
        assert!(glob_matches("b.sql", "[abc].sql"));
        assert!(!glob_matches("d.sql", "[abc].sql"));
        assert!(glob_matches("d.sql", "[!abc].sql"));
        assert!(glob_matches("7.sql", "[0-9].sql"));
        assert!(glob_matches("[x.sql", "[x.sql"));
        assert!(glob_matches("Émile.sql", "É*.sql"));
        // Nothing matches an empty pattern or one that climbs out of the entry.
        assert!(!glob_matches("x.sql", ""));
        assert!(!glob_matches("x.sql", "../*.sql"));
    }

    #[test]
    fn natural_order_compares_numbers_by_value() {
        let mut items = vec!["10_x.sql", "2_x.sql", "1_x.sql", "02_y.sql"];
        items.sort_by(|a, b| natural_path_cmp(a, b));
        assert_eq!(items, vec!["1_x.sql", "2_x.sql", "02_y.sql", "10_x.sql"]);
        assert_eq!(natural_cmp("v9", "v10"), Ordering::Less);
        assert_eq!(natural_cmp("a", "ab"), Ordering::Less);
        let mut paths = vec![
            "db/schema/10_tables/2_b.sql",
            "db/schema/2_views/1_v.sql",
            "db/schema/10_tables/10_a.sql",
            "db/schema/10_tables.sql",
        ];
        paths.sort_by(|a, b| natural_path_cmp(a, b));
        assert_eq!(
            paths,
            vec![
                "db/schema/2_views/1_v.sql",
                "db/schema/10_tables/2_b.sql",
                "db/schema/10_tables/10_a.sql",
                "db/schema/10_tables.sql",
            ]
        );
    }

    fn sorted(names: &[&str], mode: SortMode) -> Vec<String> {
        let mut files: Vec<SchemaFile> = names
            .iter()
            .map(|n| SchemaFile {
                path: PathBuf::from(n),
                relative: n.to_string(),
            })
            .collect();
        sort(&mut files, mode);
        files.into_iter().map(|f| f.relative).collect()
    }

    #[test]
    fn the_three_sort_modes() {
        let names = ["s/10_b.sql", "s/9_a.sql", "s/readme.sql", "s/010_c.sql"];
        assert_eq!(
            sorted(&names, SortMode::Natural),
            ["s/9_a.sql", "s/10_b.sql", "s/010_c.sql", "s/readme.sql"]
        );
        assert_eq!(
            sorted(&names, SortMode::Alphabetical),
            ["s/010_c.sql", "s/10_b.sql", "s/9_a.sql", "s/readme.sql"]
        );
        assert_eq!(
            sorted(&names, SortMode::Numbered),
            ["s/9_a.sql", "s/10_b.sql", "s/010_c.sql", "s/readme.sql"]
        );
        // One hex-lettered sibling makes the directory base 16: 0x0a (10) before 0x10 (16).
        assert_eq!(
            sorted(
                &["h/0010_late.sql", "h/000a_mid.sql", "h/0009_early.sql"],
                SortMode::Numbered
            ),
            ["h/0009_early.sql", "h/000a_mid.sql", "h/0010_late.sql"]
        );
        // Without one, `add_` is a word, not the number 0xadd.
        assert_eq!(
            sorted(&["d/add_x.sql", "d/02_y.sql"], SortMode::Numbered),
            ["d/02_y.sql", "d/add_x.sql"]
        );
    }
}
