//! The review screen's content as pure functions of the migration, the terminal size and the
//! scroll position: a header, the highlighted SQL with line numbers and risk marks, a status line
//! and the key help. Rows are truncated to the width, never wrapped.

use std::time::Duration;

use anstyle::Style;

use super::highlight::{Segment, highlight};
use super::keys::ReviewKey;
use crate::migrate::report::level_style;
use crate::output::{paint, style};
use crate::risk::Level;
use crate::wizard::prompt::PendingView;

/// The key help shown on the last row.
pub const HELP: &str = "↑/↓ j/k scroll · PgUp/PgDn · g/G top/bottom · Enter/a: done · q: quit";

/// Rows taken by the header (1) and the footer (status and help).
const CHROME_ROWS: usize = 3;

/// One body row: a line of the file, or a reason under a marked line.
#[derive(Debug)]
enum Row {
    Code {
        number: u32,
        mark: Option<Level>,
        segments: Vec<Segment>,
    },
    Reason {
        number: u32,
        level: Level,
        text: String,
    },
}

/// A migration prepared for the review screen (highlighted once, rendered on every redraw).
#[derive(Debug)]
pub struct Review {
    slug: String,
    path: String,
    level: Level,
    no_transaction: bool,
    approvals: Option<String>,
    marks: Vec<(u32, Level, String)>,
    line_count: usize,
    number_width: usize,
    rows: Vec<Row>,
}

impl Review {
    /// Highlights the migration's SQL and lays out its rows: each line, and under each marked
    /// line one row per reason.
    pub fn new(view: &PendingView) -> Self {
        let marks = view.marks();
        let lines = highlight(view.sql);
        let line_count = lines.len();
        let mut rows = Vec::with_capacity(line_count + marks.len());
        for (index, segments) in lines.into_iter().enumerate() {
            let number = index as u32 + 1;
            let here: Vec<_> = marks
                .iter()
                .filter(|(line, _, _)| *line == number)
                .collect();
            rows.push(Row::Code {
                number,
                mark: here.iter().map(|(_, level, _)| *level).max(),
                segments,
            });
            rows.extend(here.into_iter().map(|(_, level, text)| Row::Reason {
                number,
                level: *level,
                text: text.clone(),
            }));
        }
        Review {
            slug: view.slug.clone(),
            path: view.path.clone(),
            level: view.level(),
            no_transaction: view.no_transaction,
            approvals: view.approvals.clone(),
            marks,
            line_count,
            number_width: line_count.max(1).to_string().len(),
            rows,
        }
    }

    /// The largest useful scroll position: the last row at the bottom of the screen.
    pub fn max_top(&self, height: usize) -> usize {
        self.rows.len().saturating_sub(body_height(height))
    }

    /// The scroll position after `key`, clamped to `0..=max_top`.
    pub fn scrolled(&self, top: usize, key: ReviewKey, height: usize) -> usize {
        let page = body_height(height).saturating_sub(1).max(1);
        let top = match key {
            ReviewKey::Up => top.saturating_sub(1),
            ReviewKey::Down => top.saturating_add(1),
            ReviewKey::PageUp => top.saturating_sub(page),
            ReviewKey::PageDown => top.saturating_add(page),
            ReviewKey::Top => 0,
            ReviewKey::Bottom => usize::MAX,
            ReviewKey::Done(_) => top,
        };
        top.min(self.max_top(height))
    }

    /// The screen: `max(height, 4)` rows of at most `width` characters each (styles aside),
    /// showing the body from row `top` (clamped); `remaining` is the time left to answer.
    pub fn render(
        &self,
        width: usize,
        height: usize,
        top: usize,
        remaining: Option<Duration>,
    ) -> Vec<String> {
        let body = body_height(height);
        let top = top.min(self.max_top(height));
        let visible = &self.rows[top..(top + body).min(self.rows.len())];
        let mut screen = Vec::with_capacity(body + CHROME_ROWS);
        screen.push(fit(&self.header(visible, remaining), width));
        screen.extend(visible.iter().map(|row| fit(&self.row(row), width)));
        screen.resize(body + 1, String::new());
        screen.push(fit(&self.status(self.rows.get(top + body)), width));
        screen.push(fit(&[(style::DIM, HELP.to_string())], width));
        screen
    }

    /// `slug [LEVEL] (no transaction) · lines a-b of n · N s left · path`: the path last, as
    /// the first thing to go on a narrow screen.
    fn header(&self, visible: &[Row], remaining: Option<Duration>) -> Vec<(Style, String)> {
        let mut pieces = vec![
            (style::BOLD, self.slug.clone()),
            (Style::new(), " ".to_string()),
            (level_style(self.level), format!("[{}]", self.level.label())),
        ];
        if self.no_transaction {
            pieces.push((style::DIM, " (no transaction)".to_string()));
        }
        let numbers = || {
            visible.iter().filter_map(|row| match row {
                Row::Code { number, .. } => Some(*number),
                Row::Reason { .. } => None,
            })
        };
        if let (Some(first), Some(last)) = (numbers().next(), numbers().next_back()) {
            pieces.push((
                style::DIM,
                format!(" · lines {first}-{last} of {}", self.line_count),
            ));
        }
        if let Some(left) = remaining {
            let seconds = left.as_secs() + u64::from(left.subsec_nanos() > 0);
            pieces.push((style::DIM, format!(" · {seconds} s left")));
        }
        pieces.push((Style::new(), format!(" · {}", self.path)));
        pieces
    }

    /// One body row.
    fn row(&self, row: &Row) -> Vec<(Style, String)> {
        let width = self.number_width;
        match row {
            Row::Code {
                number,
                mark,
                segments,
            } => {
                let gutter = match mark {
                    Some(level) => (level_style(*level), "▶ ".to_string()),
                    None => (Style::new(), "  ".to_string()),
                };
                let mut pieces = vec![gutter, (style::DIM, format!("{number:>width$} │ "))];
                pieces.extend(segments.iter().cloned());
                pieces
            }
            Row::Reason { level, text, .. } => vec![
                (style::DIM, format!("  {:>width$} │ ", "")),
                (level_style(*level), format!("^ {}:", level.label())),
                (Style::new(), format!(" {text}")),
            ],
        }
    }

    /// The status row: the reason of a marked line whose reason rows fall below the screen
    /// (`next` is the first row below it), else a summary of the marks and the approvals.
    fn status(&self, next: Option<&Row>) -> Vec<(Style, String)> {
        if let Some(Row::Reason {
            number,
            level,
            text,
        }) = next
        {
            return vec![
                (Style::new(), format!("line {number}: ")),
                (level_style(*level), format!("^ {}:", level.label())),
                (Style::new(), format!(" {text} (more below)")),
            ];
        }
        let mut pieces = if self.marks.is_empty() {
            vec![(style::OK, "no risky statements".to_string())]
        } else {
            let mut lines: Vec<String> = self.marks.iter().map(|(l, _, _)| l.to_string()).collect();
            lines.dedup();
            vec![(
                level_style(self.level),
                format!(
                    "▶ {} risky statement(s), line(s) {}",
                    lines.len(),
                    lines.join(", ")
                ),
            )]
        };
        if let Some(approvals) = &self.approvals {
            pieces.push((Style::new(), format!(" · approvals: {approvals}")));
        }
        pieces
    }
}

/// Body rows for a screen `height` rows high (at least one).
fn body_height(height: usize) -> usize {
    height.saturating_sub(CHROME_ROWS).max(1)
}

/// The pieces painted and cut to `width` characters, the last one an `…` when cut; control
/// characters become `?` so a file cannot drive the terminal.
fn fit(pieces: &[(Style, String)], width: usize) -> String {
    let total: usize = pieces.iter().map(|(_, text)| text.chars().count()).sum();
    let cut = total > width;
    let mut budget = if cut { width.saturating_sub(1) } else { width };
    let mut out = String::new();
    for (style, text) in pieces {
        if budget == 0 {
            break;
        }
        let shown: String = text
            .chars()
            .take(budget)
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        budget -= shown.chars().count();
        if !shown.is_empty() {
            out.push_str(&paint(*style, shown));
        }
    }
    if cut && width > 0 {
        out.push_str(&paint(style::DIM, "…"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::{Assessment, MigrationRisk, Reason};

    fn view<'a>(sql: &'a str, marks: &[(u32, Level, &str)]) -> PendingView<'a> {
        let statements: Vec<(u32, Assessment)> = marks
            .iter()
            .map(|(line, level, text)| (*line, Assessment::of(vec![Reason::new(*level, *text)])))
            .collect();
        PendingView {
            slug: "20260101000000_demo".into(),
            path: "db/migrations/20260101000000_demo.up.sql".into(),
            sql,
            no_transaction: false,
            risk: MigrationRisk {
                level: marks.iter().map(|m| m.1).max().unwrap_or(Level::Low),
                statements,
            },
            approvals: None,
        }
    }

    fn plain(screen: &[String]) -> Vec<String> {
        screen
            .iter()
            .map(|line| anstream::adapter::strip_str(line).to_string())
            .collect()
    }

    fn numbered(lines: usize) -> String {
        (1..=lines).map(|n| format!("SELECT {n};\n")).collect()
    }

    #[test]
    fn header_body_and_footer() {
        let review = Review::new(&view("SELECT 1;\n", &[]));
        let screen = plain(&review.render(100, 10, 0, Some(Duration::from_millis(41_500))));
        assert_eq!(screen.len(), 10);
        assert_eq!(
            screen[0],
            "20260101000000_demo [LOW] · lines 1-1 of 1 · 42 s left \
             · db/migrations/20260101000000_demo.up.sql"
        );
        assert_eq!(screen[1], "  1 │ SELECT 1;");
        assert_eq!(screen[2], "");
        assert_eq!(screen[8], "no risky statements");
        assert_eq!(screen[9], HELP);
    }

    #[test]
    fn keywords_are_styled_on_screen() {
        let review = Review::new(&view("SELECT 1;\n", &[]));
        let screen = review.render(80, 10, 0, None);
        let keyword = paint(crate::wizard::tui::highlight::KEYWORD, "SELECT");
        assert!(screen[1].contains(&keyword), "{:?}", screen[1]);
    }

    #[test]
    fn marked_lines_show_marker_and_reason() {
        let sql = "CREATE TABLE a (id int);\nDROP TABLE b;\nSELECT 1;\n";
        let review = Review::new(&view(sql, &[(2, Level::Critical, "drops table b")]));
        let raw = review.render(80, 12, 0, None);
        let screen = plain(&raw);
        assert_eq!(screen[1], "  1 │ CREATE TABLE a (id int);");
        assert_eq!(screen[2], "▶ 2 │ DROP TABLE b;");
        assert_eq!(screen[3], "    │ ^ CRITICAL: drops table b");
        assert_eq!(screen[4], "  3 │ SELECT 1;");
        assert!(raw[2].starts_with(&paint(style::ERR, "▶ ")), "{:?}", raw[2]);
        assert_eq!(screen[10], "▶ 1 risky statement(s), line(s) 2");
    }

    #[test]
    fn a_reason_below_the_screen_shows_in_the_status_line() {
        // Five body rows: lines 1-5 fill them, the reason under line 5 does not fit.
        let review = Review::new(&view(&numbered(5), &[(5, Level::High, "locks t")]));
        let screen = plain(&review.render(80, 8, 0, None));
        assert_eq!(screen[5], "▶ 5 │ SELECT 5;");
        assert_eq!(screen[6], "line 5: ^ HIGH: locks t (more below)");
        // One row down, the reason is in the body and the status is the summary again.
        let screen = plain(&review.render(80, 8, 1, None));
        assert_eq!(screen[5], "    │ ^ HIGH: locks t");
        assert_eq!(screen[6], "▶ 1 risky statement(s), line(s) 5");
    }

    #[test]
    fn scrolling_clamps_at_the_bottom_and_the_top() {
        let review = Review::new(&view(&numbered(100), &[(50, Level::High, "why")]));
        let height = 24;
        // 101 rows (100 lines and a reason), 21 of them on screen.
        assert_eq!(review.max_top(height), 80);
        assert_eq!(review.scrolled(0, ReviewKey::Bottom, height), 80);
        assert_eq!(review.scrolled(80, ReviewKey::Down, height), 80);
        assert_eq!(review.scrolled(75, ReviewKey::PageDown, height), 80);
        assert_eq!(review.scrolled(80, ReviewKey::PageUp, height), 60);
        assert_eq!(review.scrolled(0, ReviewKey::Up, height), 0);
        assert_eq!(review.scrolled(3, ReviewKey::PageUp, height), 0);
        assert_eq!(review.scrolled(80, ReviewKey::Top, height), 0);
        let past_the_end = review.render(80, height, 1000, None);
        assert_eq!(past_the_end, review.render(80, height, 80, None));
        let screen = plain(&past_the_end);
        assert_eq!(screen[21], "  100 │ SELECT 100;");
        assert!(screen[0].contains("lines 80-100 of 100"), "{}", screen[0]);
    }

    #[test]
    fn long_lines_are_truncated_to_the_width() {
        let sql = format!("SELECT '{}';\n", "x".repeat(200));
        let review = Review::new(&view(&sql, &[(1, Level::High, &"y".repeat(100))]));
        let screen = plain(&review.render(40, 8, 0, None));
        for line in &screen {
            assert!(line.chars().count() <= 40, "{line:?}");
        }
        assert_eq!(screen[1].chars().count(), 40);
        assert!(screen[1].starts_with("▶ 1 │ SELECT 'xxx"));
        assert!(screen[1].ends_with("x…"));
        assert!(screen[2].ends_with("y…"));
        // Narrower than the gutter: still cut, never wrapped.
        for line in plain(&review.render(3, 8, 0, None)) {
            assert!(line.chars().count() <= 3, "{line:?}");
        }
    }

    #[test]
    fn control_characters_cannot_reach_the_terminal() {
        let review = Review::new(&view("SELECT '\x1b[2J';\n", &[]));
        let screen = review.render(80, 8, 0, None);
        assert!(!screen[1].contains("\x1b[2J"));
        assert!(plain(&screen)[1].ends_with("SELECT '?[2J';"));
    }

    #[test]
    fn tiny_screens_still_have_one_body_row() {
        let review = Review::new(&view(&numbered(3), &[]));
        let screen = plain(&review.render(80, 2, 0, None));
        assert_eq!(screen.len(), 4);
        assert_eq!(screen[1], "  1 │ SELECT 1;");
        assert_eq!(review.max_top(2), 2);
    }
}
