//! `date_shift`: dates and timestamps moved by a keyed number of days.

use std::fmt::Write as _;

use anyhow::{Context, Result, anyhow};
use chrono::{Datelike, NaiveDate, TimeDelta};

use crate::anonymize::column::{ColumnType, Kind, parse_iso_date};
use crate::anonymize::keys::{pick, strategy_key, word};
use crate::anonymize::params::{ParamReader, Params};
use crate::anonymize::strategy::unsupported;
use crate::anonymize::writer::map_values;
use crate::anonymize::{KeyedHasher, Strategy, TextBatch};

/// Moves each date or timestamp by a keyed, never-zero number of days within ±`max_days`.
/// Only the `YYYY-MM-DD` part changes: the time, fractional seconds and UTC offset stay as
/// PostgreSQL printed them. `infinity` and `-infinity` stay.
#[derive(Debug)]
pub struct DateShift {
    key: KeyedHasher,
    max_days: u32,
}

impl DateShift {
    /// Param `max_days` (1 to 36500, default 30). Needs the secret.
    pub fn from_params(params: &Params, hasher: Option<KeyedHasher>) -> Result<Self> {
        let mut reader = ParamReader::new("date_shift", params);
        let max_days = reader.integer("max_days", 1, 36_500)?.unwrap_or(30) as u32;
        reader.finish()?;
        Ok(DateShift {
            key: strategy_key("date_shift", hasher)?,
            max_days,
        })
    }

    /// The shift for `value`: in `-max_days..=-1` or `1..=max_days`.
    fn days(&self, value: &str) -> i64 {
        let max = i64::from(self.max_days);
        let draw = pick(word(&self.key.hash(value.as_bytes()), 0), 2 * max as usize) as i64;
        if draw < max {
            draw - max
        } else {
            draw - max + 1
        }
    }
}

impl Strategy for DateShift {
    fn name(&self) -> &str {
        "date_shift"
    }

    fn anonymize(&self, column: &ColumnType, values: &TextBatch) -> Result<TextBatch> {
        let supported = matches!(
            column.kind(),
            Kind::Date | Kind::Timestamp | Kind::TimestampTz
        );
        if column.is_array() || !(supported || column.is_textual()) {
            return Err(unsupported(
                self.name(),
                column,
                "date, timestamp and timestamptz columns (and text holding ISO dates)",
            ));
        }
        map_values(self.name(), values, |value, out| {
            if value == "infinity" || value == "-infinity" {
                out.push_str(value);
                return Ok(());
            }
            let iso = parse_iso_date(value).ok_or_else(|| {
                anyhow!("not a date or timestamp in PostgreSQL's ISO form (YYYY-MM-DD...)")
            })?;
            let year = if iso.bc { 1 - iso.year } else { iso.year };
            let shifted = NaiveDate::from_ymd_opt(year, iso.month, iso.day)
                .and_then(|date| date.checked_add_signed(TimeDelta::days(self.days(value))))
                .context("the shifted date is outside the supported range")?;
            let (year, bc) = match shifted.year() {
                y if y <= 0 => (1 - y, true),
                y => (y, false),
            };
            write!(out, "{year:04}-{:02}-{:02}", shifted.month(), shifted.day())?;
            let rest = &value[iso.date_end..];
            out.push_str(rest.strip_suffix(" BC").filter(|_| iso.bc).unwrap_or(rest));
            if bc {
                out.push_str(" BC");
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use crate::anonymize::testing::{as_values, assert_keyed, build, run, run_err};

    fn days_between(a: &str, b: &str) -> i64 {
        let date = |s: &str| NaiveDate::parse_from_str(&s[..10], "%Y-%m-%d").unwrap();
        (date(b) - date(a)).num_days()
    }

    #[test]
    fn shifts_dates_within_the_window() {
        let values: Vec<String> = (1..=28).map(|d| format!("2024-02-{d:02}")).collect();
        let values = as_values(&values);
        assert_keyed("date_shift", "{}", "date", &values);
        let out = run(&*build("date_shift", "{max_days: 5}", "s"), "date", &values);
        for (before, after) in values.iter().zip(&out) {
            let shift = days_between(before.unwrap(), after.as_ref().unwrap());
            assert!((1..=5).contains(&shift.abs()), "{shift}");
        }
    }

    /// The shifts spread over the whole window, both ways: not only the days next to the
    /// original (a mutant narrowing the draw to `max + 2` values survived the window test).
    #[test]
    fn shifts_spread_over_the_whole_window_both_ways() {
        let values: Vec<String> = (0..2_000)
            .map(|d| {
                let date = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap() + chrono::Days::new(d);
                date.to_string()
            })
            .collect();
        let values = as_values(&values);
        let out = run(
            &*build("date_shift", "{max_days: 30}", "s"),
            "date",
            &values,
        );
        let shifts: Vec<i64> = values
            .iter()
            .zip(&out)
            .map(|(before, after)| days_between(before.unwrap(), after.as_ref().unwrap()))
            .collect();
        let distinct: std::collections::HashSet<i64> = shifts.iter().copied().collect();
        assert_eq!(
            distinct.len(),
            60,
            "every shift in -30..=-1 and 1..=30 drawn"
        );
        assert!(shifts.iter().all(|s| (1..=30).contains(&s.abs())));
    }

    /// Dates before Christ stay in their year, a few days away, and keep their ` BC` (mutants
    /// of the year's conversion to and from the proleptic calendar survived the era test).
    #[test]
    fn dates_before_christ_stay_in_their_year() {
        let values = [
            Some("0044-03-15 BC"),
            Some("1000-06-15 BC"),
            Some("0002-07-20 BC"),
        ];
        let out = run(&*build("date_shift", "{max_days: 5}", "s"), "date", &values);
        for (before, after) in values.iter().zip(&out) {
            let (before, after) = (before.unwrap(), after.as_deref().unwrap());
            assert!(
                after.ends_with(" BC") && after.len() == before.len(),
                "{before} → {after}"
            );
            assert_eq!(after[..8], before[..8], "{before} → {after}");
            let day = |v: &str| v[8..10].parse::<i64>().unwrap();
            assert!(
                (1..=5).contains(&(day(after) - day(before)).abs()),
                "{before} → {after}"
            );
        }
    }

    #[test]
    fn keeps_time_offset_and_format() {
        let values = [
            Some("2024-03-01 12:34:56.123+00"),
            None,
            Some("2024-03-01 12:34:56-03:30"),
            Some("infinity"),
        ];
        let out = run(
            &*build("date_shift", "{}", "s"),
            "timestamp with time zone",
            &values,
        );
        assert!(out[0].as_ref().unwrap().ends_with(" 12:34:56.123+00"));
        assert!(out[2].as_ref().unwrap().ends_with(" 12:34:56-03:30"));
        assert_eq!(out[3].as_deref(), Some("infinity"));
        let again = run(
            &*build("date_shift", "{}", "s"),
            "timestamp with time zone",
            &values,
        );
        assert_eq!(out, again);
        let out = run(
            &*build("date_shift", "{}", "s"),
            "timestamp without time zone",
            &[Some("1999-12-31 23:59:59")],
        );
        assert!(out[0].as_ref().unwrap().ends_with(" 23:59:59"));
    }

    #[test]
    fn crosses_the_era_and_rejects_non_dates() {
        let out = run(
            &*build("date_shift", "{max_days: 400}", "s"),
            "date",
            &[Some("0001-01-01"), Some("0001-01-02 BC")],
        );
        assert!(out.iter().flatten().all(|v| v.len() >= 10));
        let error = run_err(
            &*build("date_shift", "{}", "s"),
            "text",
            &[Some("yesterday-ish")],
        );
        assert!(
            error.contains("value 0") && !error.contains("yesterday"),
            "{error}"
        );
        let error = run_err(&*build("date_shift", "{}", "s"), "integer", &[Some("1")]);
        assert!(error.contains("cannot fill"), "{error}");
    }
}
