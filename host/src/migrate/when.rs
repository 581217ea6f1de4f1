//! Times given on the command line for `--schedule` and `migrate schedule --at`.

use chrono::{DateTime, Duration, NaiveDateTime, Timelike, Utc};

use crate::error::Failure;

/// Parses `text` relative to `now`: RFC 3339 (`2026-12-03T02:00:00+01:00`), a UTC date and
/// time (`2026-12-03 02:00`, seconds optional, `T` or a space between), or an offset from now
/// (`+30m`, `+2h`, `+1d`, `+90s`). Times in the past are refused.
pub fn parse_time(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, Failure> {
    let text = text.trim();
    let at = relative(text, now)
        .or_else(|| DateTime::parse_from_rfc3339(text).ok().map(|t| t.to_utc()))
        .or_else(|| utc_date_time(text))
        .ok_or_else(|| {
            Failure::config(format!("`{text}` is not a time"))
                .hint("write e.g. `2026-12-03 02:00` (UTC), `2026-12-03T02:00:00+01:00`, or `+2h`")
        })?;
    let at = at.with_nanosecond(0).unwrap_or(at);
    if at < now - Duration::seconds(60) {
        return Err(Failure::config(format!(
            "{} is in the past (it is {} now)",
            at.format("%Y-%m-%d %H:%M:%S UTC"),
            now.format("%Y-%m-%d %H:%M:%S UTC")
        ))
        .hint("give a time to come, e.g. `+10m`"));
    }
    Ok(at)
}

fn relative(text: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let rest = text.strip_prefix('+')?;
    let split = rest.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = rest.split_at(split);
    let n: i64 = digits.parse().ok()?;
    let step = match unit {
        "s" => Duration::try_seconds(n)?,
        "m" | "min" => Duration::try_minutes(n)?,
        "h" => Duration::try_hours(n)?,
        "d" => Duration::try_days(n)?,
        _ => return None,
    };
    now.checked_add_signed(step)
}

fn utc_date_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.strip_suffix(" UTC").unwrap_or(text).replace('T', " ");
    ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(&text, format).ok())
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-02T10:00:00Z")
            .unwrap()
            .to_utc()
    }

    #[test]
    fn accepted_forms() {
        let at = |t| parse_time(t, now()).unwrap().to_rfc3339();
        assert_eq!(at("+30m"), "2026-12-02T10:30:00+00:00");
        assert_eq!(at("+2h"), "2026-12-02T12:00:00+00:00");
        assert_eq!(at("+1d"), "2026-12-03T10:00:00+00:00");
        assert_eq!(at("2026-12-03 02:00"), "2026-12-03T02:00:00+00:00");
        assert_eq!(at("2026-12-03T02:00:30"), "2026-12-03T02:00:30+00:00");
        assert_eq!(at("2026-12-03T02:00:00+01:00"), "2026-12-03T01:00:00+00:00");
    }

    #[test]
    fn refused_forms() {
        for bad in ["tomorrow", "+5y", "+m", "2026-13-01 00:00", ""] {
            let f = parse_time(bad, now()).unwrap_err();
            assert!(f.message.contains("is not a time"), "{bad}: {}", f.message);
        }
        let f = parse_time("2026-12-01 09:00", now()).unwrap_err();
        assert!(f.message.contains("in the past"), "{}", f.message);
        // Within the minute of grace: still accepted.
        assert!(parse_time("2026-12-02 09:59:30", now()).is_ok());
    }
}
