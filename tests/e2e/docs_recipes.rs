//! Every recipe of the plugin authoring guides (and of the strategies guide) runs in a test: a code block introduced by
//! `<!-- recipe: PATH -->` must be the file PATH of the repository, byte for byte, and those
//! files are the example plugins and their native tests, which `cargo xtask test` builds, loads
//! and runs (their own tests, and `plugins_languages` in real syncs, migrations and lints).

use crate::plugins_support::workspace;

/// `(path, code)` of each recipe block of `guide`.
fn recipes(guide: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut lines = guide.lines();
    while let Some(line) = lines.next() {
        let Some(path) = line
            .strip_prefix("<!-- recipe: ")
            .and_then(|rest| rest.strip_suffix(" -->"))
        else {
            continue;
        };
        let fence = lines.next().unwrap_or_default();
        assert!(
            fence.starts_with("```"),
            "{path}: a recipe is followed by a code block"
        );
        let mut code = String::new();
        for line in lines.by_ref() {
            if line == "```" {
                break;
            }
            code.push_str(line);
            code.push('\n');
        }
        found.push((path.to_string(), code));
    }
    found
}

#[test]
fn the_authoring_guides_recipes_are_the_tested_example_files() {
    for (guide, at_least) in [
        ("docs/plugins/authoring-python.md", 6),
        ("docs/plugins/authoring-js.md", 4),
        ("docs/plugins/authoring-c.md", 1),
        ("docs/plugins/authoring-rust.md", 1),
        ("docs/guides/custom-anonymization-strategies.md", 2),
    ] {
        let path = workspace().join(guide);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{guide}: {e}"));
        let recipes = recipes(&text);
        assert!(
            recipes.len() >= at_least,
            "{guide} has {} recipes, expected at least {at_least}",
            recipes.len()
        );
        for (file, code) in recipes {
            let actual = std::fs::read_to_string(workspace().join(&file))
                .unwrap_or_else(|e| panic!("{guide}: recipe {file}: {e}"));
            assert!(
                actual == code,
                "{guide}: the recipe of {file} differs from the file; copy the file into the guide"
            );
        }
    }
}
