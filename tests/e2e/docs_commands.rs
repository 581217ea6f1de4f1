//! Every `confiture ...` command shown in the documentation parses with the real CLI
//! definitions, so a renamed flag or subcommand fails the suite instead of rotting in a guide.
//!
//! Commands are taken from fenced `sh`, `bash` and `shell` blocks, and from the lines after a
//! `$ ` prompt in `console` blocks and blocks without a language, of README.md and every Markdown file under docs/,
//! one per pipeline segment (`|`, `&&`, `||`, `;`), after environment assignments
//! (`CONFITURE_USER=ana confiture ...`). The example projects under docs/examples/ run for real
//! in their own tests.

use std::path::{Path, PathBuf};

use clap::Parser;
use confiture::cli::Cli;

/// A command found in a document.
#[derive(Debug)]
struct Shown {
    file: String,
    line: usize,
    words: Vec<String>,
}

#[test]
fn every_documented_command_parses() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut files = vec![root.join("README.md")];
    collect_markdown(&root.join("docs"), &mut files);
    let shown: Vec<Shown> = files
        .iter()
        .flat_map(|f| commands_in(f, &root.display().to_string()))
        .collect();
    assert!(
        shown.len() > 40,
        "found only {} commands: is the extraction broken?",
        shown.len()
    );
    let failures: Vec<String> = shown
        .iter()
        .filter_map(|s| {
            let err = Cli::try_parse_from(&s.words).err()?;
            if matches!(
                err.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            ) {
                return None;
            }
            let first = err.to_string().lines().next().unwrap_or("").to_string();
            Some(format!(
                "{}:{}: `{}`: {first}",
                s.file,
                s.line,
                s.words.join(" ")
            ))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} documented command(s) do not parse:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn extraction_handles_prompts_pipes_assignments_and_comments() {
    let text = "```console\n$ CONFITURE_USER=ana confiture migrate approve 002 --comment 'looks # ok'\n\
                output line\n```\n```sh\nprintf 'y\\n' | confiture migrate wizard \\\n  --review  # comment\n\
                psql \"$(confiture db url)\" && confiture db stop\n```\n```text\nconfiture not-a-command\n```\n";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.md");
    std::fs::write(&file, text).unwrap();
    let found: Vec<(usize, String)> = commands_in(&file, &dir.path().display().to_string())
        .into_iter()
        .map(|s| (s.line, s.words.join(" ")))
        .collect();
    assert_eq!(
        found,
        vec![
            (
                2,
                "confiture migrate approve 002 --comment looks # ok".to_string()
            ),
            (6, "confiture migrate wizard --review".to_string()),
            (8, "confiture db stop".to_string()),
        ]
    );
}

fn collect_markdown(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_markdown(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

/// The `confiture` invocations in a Markdown file's shell blocks.
fn commands_in(file: &Path, root: &str) -> Vec<Shown> {
    let text = std::fs::read_to_string(file).unwrap();
    let shown_file = file
        .display()
        .to_string()
        .trim_start_matches(root)
        .trim_start_matches('/')
        .to_string();
    let mut found = Vec::new();
    let mut block: Option<String> = None;
    let mut pending: Option<(usize, String)> = None;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim_start();
        if let Some(fence) = trimmed.strip_prefix("```") {
            block = match block {
                Some(_) => None,
                None => Some(fence.trim().to_string()),
            };
            pending = None;
            continue;
        }
        let Some(lang) = &block else { continue };
        let command = match lang.as_str() {
            "sh" | "bash" | "shell" => trimmed,
            "console" | "" => match trimmed.strip_prefix("$ ") {
                Some(c) => c,
                None if pending.is_some() => trimmed,
                None => continue,
            },
            _ => continue,
        };
        let (start, mut joined) = pending.take().unwrap_or((number, String::new()));
        if let Some(head) = command.strip_suffix('\\') {
            joined.push_str(head);
            joined.push(' ');
            pending = Some((start, joined));
            continue;
        }
        joined.push_str(command);
        for words in segments(&joined) {
            let words: Vec<String> = words.into_iter().skip_while(|w| is_assignment(w)).collect();
            if words.first().is_some_and(|w| w == "confiture") {
                found.push(Shown {
                    file: shown_file.clone(),
                    line: start,
                    words,
                });
            }
        }
    }
    found
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// Splits a shell line into the words of each command: quotes respected, a `#` comment
/// dropped, `|`, `||`, `&&`, `;` ending a command, redirections and their targets dropped.
fn segments(line: &str) -> Vec<Vec<String>> {
    let mut all = vec![Vec::new()];
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars().peekable();
    let mut skip_next_word = false;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '#') if !in_word => break,
            (None, c) if c.is_whitespace() => {
                finish_word(&mut word, &mut in_word, &mut all, &mut skip_next_word)
            }
            (None, '|' | ';' | '&') => {
                finish_word(&mut word, &mut in_word, &mut all, &mut skip_next_word);
                if chars.peek() == Some(&c) {
                    chars.next();
                }
                all.push(Vec::new());
            }
            (None, '>' | '<') => {
                if in_word && word.chars().all(|d| d.is_ascii_digit()) {
                    word.clear();
                    in_word = false;
                }
                finish_word(&mut word, &mut in_word, &mut all, &mut skip_next_word);
                while chars.peek().is_some_and(|d| matches!(d, '>' | '&')) {
                    chars.next();
                }
                if chars.peek() == Some(&'(') {
                    // Process substitution `>(...)`: not part of this command.
                    let mut depth = 0;
                    for d in chars.by_ref() {
                        depth += match d {
                            '(' => 1,
                            ')' => -1,
                            _ => 0,
                        };
                        if depth == 0 {
                            break;
                        }
                    }
                } else {
                    skip_next_word = true;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    finish_word(&mut word, &mut in_word, &mut all, &mut skip_next_word);
    all.into_iter().filter(|w| !w.is_empty()).collect()
}

/// Ends the word being read: kept, or dropped when it is a redirection's target.
fn finish_word(word: &mut String, in_word: &mut bool, all: &mut [Vec<String>], skip: &mut bool) {
    if *in_word {
        if *skip {
            *skip = false;
            word.clear();
        } else if let Some(last) = all.last_mut() {
            last.push(std::mem::take(word));
        }
        *in_word = false;
    }
}
