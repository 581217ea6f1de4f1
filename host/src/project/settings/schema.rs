//! `include_dirs:`, `exclude_dirs:` and `build.sort_mode`: which schema files a build reads,
//! in which order.

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::values::flag;
use super::yaml::{at_line, line_in_block, line_of_key};
use crate::error::Failure;
use crate::project::schema_files::{DEFAULT_INCLUDE, IncludeDir, SortMode};

/// An `include_dirs` entry as written: a path, or upstream's map form.
#[derive(Debug)]
pub(super) enum RawIncludeDir {
    Path(String),
    Map(RawIncludeMap),
}

/// Upstream's map form of an `include_dirs` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIncludeMap {
    path: String,
    #[serde(default, deserialize_with = "flag")]
    recursive: Option<bool>,
    include: Option<Vec<String>>,
    exclude: Option<Vec<String>>,
    #[serde(default, deserialize_with = "flag")]
    auto_discover: Option<bool>,
    order: Option<i64>,
}

impl<'de> Deserialize<'de> for RawIncludeDir {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = RawIncludeDir;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a directory, or a map with `path:` (and recursive, include, exclude, order, auto_discover)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(RawIncludeDir::Path(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                RawIncludeMap::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawIncludeDir::Map)
            }
        }
        de.deserialize_any(EntryVisitor)
    }
}

/// Validates `include_dirs`: paths, and upstream's map form with its defaults.
pub(super) fn include_dirs(
    raw: Vec<RawIncludeDir>,
    shown: &str,
    text: &str,
    expand: &impl Fn(&str, String) -> Result<String, Failure>,
) -> Result<Vec<IncludeDir>, Failure> {
    raw.into_iter()
        .map(|entry| match entry {
            RawIncludeDir::Path(path) => Ok(IncludeDir::bare(expand("include_dirs", path)?)),
            RawIncludeDir::Map(map) => {
                let include = map.include.unwrap_or_else(|| vec![DEFAULT_INCLUDE.to_string()]);
                let exclude = map.exclude.unwrap_or_default();
                if let Some(bad) = include
                    .iter()
                    .chain(&exclude)
                    .find(|g| g.split('/').any(|part| part == ".."))
                {
                    return Err(Failure::config(format!(
                        "{}: include_dirs: the pattern `{bad}` climbs out of its \
                         directory with `..`, so it can match nothing",
                        at_line(shown, line_of_key(text, "path"))
                    ))
                    .hint("patterns are relative to the entry's `path`; add an include_dirs entry for the other directory instead"));
                }
                Ok(IncludeDir {
                    path: PathBuf::from(expand("include_dirs.path", map.path)?),
                    recursive: map.recursive.unwrap_or(true),
                    include,
                    exclude,
                    order: map.order.unwrap_or(0),
                    required: !map.auto_discover.unwrap_or(true),
                })
            }
        })
        .collect()
}

/// `build.sort_mode`: `alphabetical` or `hex`, as upstream spells them.
pub(super) fn sort_mode(mode: &str, shown: &str, text: &str) -> Result<SortMode, Failure> {
    match mode {
        "alphabetical" => Ok(SortMode::Alphabetical),
        "hex" => Ok(SortMode::Numbered),
        other => Err(Failure::config(format!(
            "{}: build.sort_mode: `{other}` is not a sort mode",
            at_line(shown, line_in_block(text, "build", "sort_mode"))
        ))
        .hint("use `alphabetical` (paths as text) or `hex` (numbered names by value); leave it out for natural order")),
    }
}

pub(super) fn expand_paths(
    key: &str,
    dirs: Vec<String>,
    expand: &impl Fn(&str, String) -> Result<String, Failure>,
) -> Result<Vec<PathBuf>, Failure> {
    dirs.into_iter()
        .map(|d| expand(key, d).map(PathBuf::from))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::settings::testing::{failure, parse};

    #[test]
    fn sort_mode_and_patterns_are_checked() {
        let f = failure("build:\n  sort_mode: natural\n");
        assert!(
            f.message
                .contains("local.yaml:2: build.sort_mode: `natural`"),
            "{}",
            f.message
        );
        assert_eq!(
            parse("build:\n  sort_mode: alphabetical\n")
                .unwrap()
                .sort_mode,
            SortMode::Alphabetical
        );
        assert_eq!(parse("name: x\n").unwrap().sort_mode, SortMode::Natural);
        let f = failure("include_dirs:\n  - path: db/schema\n    exclude: [\"../x/*.sql\"]\n");
        assert!(f.message.contains("`../x/*.sql`"), "{}", f.message);
    }
}
