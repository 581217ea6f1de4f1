//! `cargo xtask mutants`: cargo-mutants (crates.io, pinned, installed under `target/tools/`
//! when missing) on the files that hold Confiture's guarantees, each group of files against
//! the tests that cover it. It edits the worktree in place (`--in-place`) so the warm release
//! build is reused instead of copied and rebuilt cold; nothing else may build or edit the
//! worktree while it runs. A group covered by end-to-end tests runs in two passes: every
//! mutant against the unit tests, then only the ones they missed against the end-to-end
//! tests. Results land in `target/mutants/<group>/mutants.out/`.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::tools::Tools;
use crate::workspace::cargo_tool;

/// Files holding one guarantee, and the tests covering them (unit tests of their modules,
/// then the end-to-end tests of what they guarantee).
pub struct Group {
    /// Its name on the command line.
    pub name: &'static str,
    /// cargo-mutants `--file` globs, relative to the workspace root.
    pub files: &'static [&'static str],
    /// Whether end-to-end tests cover it too: the mutants its unit tests miss are then run
    /// again against them (see [`Pass`]).
    pub end_to_end: bool,
    /// Test-name filters, for the test binaries.
    pub filters: &'static [&'static str],
}

/// One cargo-mutants run over a group's mutants, against one test target: only that target
/// is rebuilt for each mutant (every cargo call of cargo-mutants gets it).
struct Pass {
    /// The cargo test-target option (`--lib`, `--test=e2e`).
    target: &'static str,
    /// Whether it tests only the mutants the previous pass missed or timed out on (named one
    /// by one with `--re`, so a shard's second pass tests that shard's mutants and no others).
    only_left: bool,
}

/// Every mutant against the library's unit tests: a few seconds of build and test each.
const UNIT_PASS: Pass = Pass {
    target: "--lib",
    only_left: false,
};
/// The mutants the unit tests missed, against the end-to-end tests: rebuilding the e2e
/// binary and starting servers costs a minute or two a mutant, so only these pay it.
const E2E_PASS: Pass = Pass {
    target: "--test=e2e",
    only_left: true,
};

impl Group {
    fn passes(&self) -> &'static [Pass] {
        if self.end_to_end {
            &[UNIT_PASS, E2E_PASS]
        } else {
            &[UNIT_PASS]
        }
    }
}

/// The groups, cheapest first (key derivation and strategies run unit tests only).
pub const GROUPS: &[Group] = &[
    Group {
        name: "keys",
        files: &["host/src/anonymize/keys.rs"],
        end_to_end: false,
        filters: &["anonymize::"],
    },
    Group {
        name: "strategies",
        files: &[
            "host/src/anonymize/strategy.rs",
            "host/src/anonymize/builtin.rs",
            "host/src/anonymize/builtin/**",
        ],
        end_to_end: false,
        filters: &["anonymize::"],
    },
    Group {
        name: "applier",
        files: &["host/src/migrate/apply/**"],
        end_to_end: true,
        filters: &[
            "migrate",
            "hooks_lifecycle",
            "hooks_policies",
            "hooks_db",
            "wizard_tty_failure",
            "ops_connections",
        ],
    },
    Group {
        name: "hooks",
        files: &["host/src/hooks/dispatch.rs"],
        end_to_end: true,
        filters: &["hooks"],
    },
    Group {
        name: "sandbox",
        files: &[
            "host/src/plugins/sandbox.rs",
            "host/src/plugins/calls.rs",
            "host/src/plugins/engine.rs",
        ],
        end_to_end: true,
        filters: &[
            "plugins::",
            "plugins_sandbox",
            "plugins_versions",
            "hooks_hostile",
            "hooks_policies",
            // The one test that compiles a component past `ANNOUNCE_BYTES` cold.
            "plugins_languages::the_python_lint_rule_reports_in_confiture_lint",
        ],
    },
    Group {
        name: "sync",
        files: &["host/src/sync/run.rs", "host/src/sync/pipeline.rs"],
        end_to_end: true,
        filters: &["sync"],
    },
];

/// Part of a group to run: some of its files (the ones just changed), one shard of its
/// mutants (a long group spread over several runs or machines), or both.
#[derive(Debug, Default)]
pub struct Narrowing {
    /// Files of the group (empty: all of them).
    pub files: Vec<String>,
    /// cargo-mutants `--shard K/N`: the K-th of N parts, counted from 0.
    pub shard: Option<String>,
}

impl Narrowing {
    /// Checks the narrowing against the groups it applies to: `--file` needs exactly one
    /// group, and each file must be one of that group's.
    fn check(&self, groups: &[&Group]) -> Result<()> {
        if let Some(shard) = &self.shard {
            let parts = shard.split_once('/').and_then(|(k, n)| {
                Some((k.trim().parse::<u32>().ok()?, n.trim().parse::<u32>().ok()?))
            });
            if !matches!(parts, Some((k, n)) if k < n) {
                bail!("--shard {shard}: expected K/N with K < N, e.g. 0/4");
            }
        }
        if self.files.is_empty() {
            return Ok(());
        }
        let [group] = groups else {
            bail!("--file narrows one group: name it with one --group");
        };
        for file in &self.files {
            if !group.files.iter().any(|glob| covers(glob, file)) {
                bail!(
                    "--file {file} is not a file of the {} group ({})",
                    group.name,
                    group.files.join(" ")
                );
            }
        }
        Ok(())
    }
}

/// True when the group's `glob` (a path, or a folder ending in `/**`) covers `file`.
fn covers(glob: &str, file: &str) -> bool {
    match glob.strip_suffix("/**") {
        Some(folder) => file
            .strip_prefix(folder)
            .is_some_and(|rest| rest.starts_with('/')),
        None => glob == file,
    }
}

/// Runs cargo-mutants on the groups named in `only` (every group when empty), narrowed by
/// `narrowing`, each command limited to `timeout` seconds (by default cargo-mutants scales a
/// mutant's test time limit from the unmutated tests' time: a mutant that loops forever in a
/// one-second unit test costs 20 s, not ten minutes); prints each group's counts and its time
/// per mutant. Returns 0 when every mutant missed or timed out on is explained
/// ([`EXPLAINED`]).
pub fn run(
    root: &Path,
    only: &[String],
    narrowing: &Narrowing,
    timeout: Option<u64>,
) -> Result<u8> {
    for name in only {
        if !GROUPS.iter().any(|g| g.name == name) {
            let names: Vec<&str> = GROUPS.iter().map(|g| g.name).collect();
            bail!(
                "no mutation group {name}; the groups are {}",
                names.join(", ")
            );
        }
    }
    let groups: Vec<&Group> = GROUPS
        .iter()
        .filter(|g| only.is_empty() || only.iter().any(|n| n == g.name))
        .collect();
    narrowing.check(&groups)?;
    let cargo_mutants = Tools::new(root).cargo_mutants()?;
    let dirty = git_status(root)?;
    if !dirty.is_empty() {
        bail!("cargo-mutants edits the worktree in place: commit or stash these first:\n{dirty}");
    }
    let mut clean = true;
    for group in groups {
        let out = root.join("target/mutants").join(group.name);
        std::fs::create_dir_all(&out)?;
        let files: Vec<&str> = if narrowing.files.is_empty() {
            group.files.to_vec()
        } else {
            narrowing.files.iter().map(String::as_str).collect()
        };
        let shard = narrowing
            .shard
            .as_ref()
            .map_or(String::new(), |shard| format!(" (shard {shard})"));
        println!("mutants     {}: {}{shard}", group.name, files.join(" "));
        let started = Instant::now();
        let mut counts: Option<Counts> = None;
        for pass in group.passes() {
            if counts.as_ref().is_some_and(|c| c.missed + c.timeout == 0) {
                break;
            }
            let mut cmd = cargo_tool(&cargo_mutants);
            cmd.current_dir(root)
                .args(["mutants", "--in-place", "--profile", "release"])
                .args(["--package", "confiture", "--test-package", "confiture"])
                .arg("--output")
                .arg(&out)
                // A mutant rebuilds only the host crate: incrementally, ~10 s instead of ~2 min.
                .env("CARGO_PROFILE_RELEASE_INCREMENTAL", "true")
                .env("CARGO_BUILD_JOBS", "2")
                .arg(format!("--cargo-arg={}", pass.target));
            if pass.only_left {
                for name in left_by(&out)? {
                    cmd.args(["--re", &exact_name(&name)]);
                }
            }
            if let Some(timeout) = timeout {
                cmd.args(["--timeout", &timeout.to_string()]);
            }
            for file in &files {
                cmd.args(["--file", file]);
            }
            if let Some(shard) = narrowing.shard.as_ref().filter(|_| !pass.only_left) {
                cmd.args(["--shard", shard]);
            }
            cmd.args(["--", "--"]).args(group.filters);
            let pass_started = Instant::now();
            // cargo-mutants exits 2 when a mutant was missed and 3 on timeouts: read its counts.
            let status = cmd.status().context("starting cargo-mutants")?;
            let these =
                Counts::read(&out.join("mutants.out/outcomes.json")).with_context(|| {
                    format!(
                        "cargo-mutants ended ({status}) without its outcomes for {} ({})",
                        group.name, pass.target
                    )
                })?;
            println!(
                "mutants     {} {}: {} tested: {} caught, {} missed, {} unviable, {} timeout in {:.0} s",
                group.name,
                pass.target,
                these.total,
                these.caught,
                these.missed,
                these.unviable,
                these.timeout,
                pass_started.elapsed().as_secs_f64()
            );
            counts = Some(match counts {
                Some(earlier) => earlier.then(these),
                None => these,
            });
        }
        let counts = counts.unwrap_or_default();
        let seconds = started.elapsed().as_secs_f64();
        let tested = counts.total.max(1) as f64;
        println!(
            "mutants     {}: {} mutants: {} caught, {} missed, {} unviable, {} timeout in {:.0} s \
             ({:.0} s per mutant)",
            group.name,
            counts.total,
            counts.caught,
            counts.missed,
            counts.unviable,
            counts.timeout,
            seconds,
            seconds / tested
        );
        if counts.missed + counts.timeout > 0 {
            let left = left_by(&out)?;
            let new = unexplained(&left, EXPLAINED);
            println!(
                "mutants     {}: {} of the {} missed or timed out are explained in \
                 xtask/mutants-explained.txt (reasons in docs/testing.md)",
                group.name,
                left.len() - new.len(),
                left.len()
            );
            if !new.is_empty() {
                clean = false;
                println!("mutants     {}: not explained:", group.name);
                for name in new {
                    println!("{name}");
                }
            }
        }
        let dirty = git_status(root)?;
        if !dirty.is_empty() {
            bail!(
                "cargo-mutants left the worktree changed (restore it with git checkout):\n{dirty}"
            );
        }
    }
    Ok(if clean { 0 } else { 1 })
}

/// How a group's mutants ended, from cargo-mutants' `outcomes.json`.
#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    total: u64,
    caught: u64,
    missed: u64,
    unviable: u64,
    timeout: u64,
}

impl Counts {
    /// The counts of a group after `next`, a pass over the mutants this one
    /// missed or timed out on: those end as `next` says, the rest as they were.
    fn then(self, next: Counts) -> Counts {
        Counts {
            total: self.total,
            caught: self.caught + next.caught,
            missed: next.missed,
            unviable: self.unviable + next.unviable,
            timeout: next.timeout,
        }
    }

    fn read(path: &Path) -> Result<Counts> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Counts::parse(&serde_json::from_str(&text)?)
    }

    fn parse(outcomes: &Value) -> Result<Counts> {
        let count = |key: &str| {
            outcomes[key]
                .as_u64()
                .with_context(|| format!("outcomes.json has no count {key}"))
        };
        Ok(Counts {
            total: count("total_mutants")?,
            caught: count("caught")?,
            missed: count("missed")?,
            unviable: count("unviable")?,
            timeout: count("timeout")?,
        })
    }
}

/// The names of the mutants the last pass in `out` missed or timed out on.
fn left_by(out: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for file in ["missed.txt", "timeout.txt"] {
        let path = out.join("mutants.out").join(file);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        names.extend(text.lines().filter(|l| !l.is_empty()).map(str::to_string));
    }
    Ok(names)
}

/// The survivors kept on purpose, each explained in docs/testing.md (an equivalent mutant, a
/// loop that never ends): `path: description` lines, cargo-mutants' names without their line
/// and column, which move with every edit above them. A line starting with `#` is a comment.
const EXPLAINED: &str = include_str!("../mutants-explained.txt");

/// `name` without its line and column: `path:LINE:COL: description` as `path: description`.
fn unnumbered(name: &str) -> String {
    let mut parts = name.splitn(4, ':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(path), Some(line), Some(column), Some(rest))
            if line.parse::<u32>().is_ok() && column.parse::<u32>().is_ok() =>
        {
            format!("{path}:{rest}")
        }
        _ => name.to_string(),
    }
}

/// The mutants of `left` (missed or timed out) that no entry of `explained` accounts for;
/// each entry accounts for one mutant, so a second mutant with the same description (on
/// another line) needs an entry of its own.
fn unexplained<'a>(left: &'a [String], explained: &str) -> Vec<&'a str> {
    let mut entries: Vec<&str> = explained
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    left.iter()
        .map(String::as_str)
        .filter(|name| {
            let key = unnumbered(name);
            match entries.iter().position(|e| *e == key) {
                Some(k) => {
                    entries.swap_remove(k);
                    false
                }
                None => true,
            }
        })
        .collect()
}

/// A cargo-mutants `--re` matching the mutant named `name` and no other.
fn exact_name(name: &str) -> String {
    let mut regex = String::from("^");
    for c in name.chars() {
        if "\\.*+?()[]{}|^$".contains(c) {
            regex.push('\\');
        }
        regex.push(c);
    }
    regex.push('$');
    regex
}

/// `git status --porcelain` of the worktree (empty when clean).
fn git_status(root: &Path) -> Result<String> {
    let out = Command::new("git")
        .current_dir(root)
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .context("running git status")?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_come_from_the_outcomes_summary() {
        let outcomes = serde_json::json!({
            "total_mutants": 49, "caught": 40, "missed": 3, "unviable": 5, "timeout": 1,
            "success": 0, "failure": 0, "outcomes": []
        });
        assert_eq!(
            Counts::parse(&outcomes).unwrap(),
            Counts {
                total: 49,
                caught: 40,
                missed: 3,
                unviable: 5,
                timeout: 1
            }
        );
        assert!(Counts::parse(&serde_json::json!({"caught": 1})).is_err());
    }

    #[test]
    fn an_end_to_end_pass_settles_only_what_the_unit_pass_left() {
        let unit = Counts {
            total: 20,
            caught: 12,
            missed: 4,
            unviable: 3,
            timeout: 1,
        };
        let e2e = Counts {
            total: 5,
            caught: 3,
            missed: 1,
            unviable: 0,
            timeout: 1,
        };
        assert_eq!(
            unit.then(e2e),
            Counts {
                total: 20,
                caught: 15,
                missed: 1,
                unviable: 3,
                timeout: 1
            }
        );
        let passes = |name: &str| {
            let group = GROUPS.iter().find(|g| g.name == name).unwrap();
            group
                .passes()
                .iter()
                .map(|p| (p.target, p.only_left))
                .collect::<Vec<_>>()
        };
        assert_eq!(passes("keys"), [("--lib", false)]);
        assert_eq!(passes("sandbox"), [("--lib", false), ("--test=e2e", true)]);
    }

    #[test]
    fn a_second_pass_names_each_left_mutant_exactly() {
        let name = "host/src/a.rs:1:2: replace + with * in <impl Strategy for A>::f -> Result<(u8, [u8; 2])>";
        assert_eq!(
            exact_name("a.rs:1:2: replace * with + in f(x)"),
            r"^a\.rs:1:2: replace \* with \+ in f\(x\)$"
        );
        assert_eq!(
            exact_name(name),
            r"^host/src/a\.rs:1:2: replace \+ with \* in <impl Strategy for A>::f -> Result<\(u8, \[u8; 2\]\)>$"
        );
    }

    #[test]
    fn only_survivors_without_an_explanation_fail_the_run() {
        let left: Vec<String> = [
            "host/src/a.rs:10:5: replace f -> bool with true",
            "host/src/a.rs:40:5: replace f -> bool with true",
            "host/src/a.rs:12:9: replace < with <= in g",
            "host/src/b.rs:3:1: replace h with ()",
        ]
        .map(str::to_string)
        .to_vec();
        let explained = "# a: equivalent\nhost/src/a.rs: replace f -> bool with true\n\n\
                         host/src/a.rs: replace < with <= in g\n";
        // One entry explains one mutant: the second `f` on another line is not explained.
        assert_eq!(
            unexplained(&left, explained),
            [
                "host/src/a.rs:40:5: replace f -> bool with true",
                "host/src/b.rs:3:1: replace h with ()"
            ]
        );
        assert_eq!(
            unnumbered("host/src/a.rs:12:9: replace a::<u8>::f with 1"),
            "host/src/a.rs: replace a::<u8>::f with 1"
        );
        for entry in EXPLAINED
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        {
            let path = entry.split(": ").next().unwrap();
            assert!(
                GROUPS
                    .iter()
                    .any(|g| g.files.iter().any(|f| covers(f, path))),
                "xtask/mutants-explained.txt names {path}, in no group: {entry}"
            );
        }
    }

    #[test]
    fn a_narrowing_names_one_group_its_own_files_and_a_valid_shard() {
        let applier: Vec<&Group> = GROUPS.iter().filter(|g| g.name == "applier").collect();
        let narrowing = |files: &[&str], shard: Option<&str>| Narrowing {
            files: files.iter().map(|f| f.to_string()).collect(),
            shard: shard.map(str::to_string),
        };
        let guard = "host/src/migrate/apply/guard.rs";
        narrowing(&[guard], Some("1/4")).check(&applier).unwrap();
        narrowing(&[], None)
            .check(&GROUPS.iter().collect::<Vec<_>>())
            .unwrap();
        let error = |n: Narrowing, groups: &[&Group]| n.check(groups).unwrap_err().to_string();
        assert!(error(narrowing(&["host/src/main.rs"], None), &applier).contains("not a file"));
        assert!(
            error(narrowing(&["host/src/migrate/applyx.rs"], None), &applier)
                .contains("not a file")
        );
        let all: Vec<&Group> = GROUPS.iter().collect();
        assert!(error(narrowing(&[guard], None), &all).contains("one --group"));
        for bad in ["4/4", "1", "a/b", "2/1"] {
            assert!(
                error(narrowing(&[], Some(bad)), &applier).contains("K/N"),
                "{bad}"
            );
        }
    }

    #[test]
    fn every_group_names_files_that_exist() {
        let root = crate::workspace::root();
        for group in GROUPS {
            for file in group.files {
                let plain = file.trim_end_matches("/**");
                assert!(root.join(plain).exists(), "{}: {file}", group.name);
            }
        }
    }
}
