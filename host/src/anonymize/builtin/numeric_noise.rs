//! `numeric_noise`: numbers moved by a keyed relative amount.

use std::fmt::Write as _;

use anyhow::{Result, anyhow, bail};

use crate::anonymize::column::{ColumnType, Kind, parse_decimal};
use crate::anonymize::keys::{pick, strategy_key, word};
use crate::anonymize::params::{ParamReader, Params};
use crate::anonymize::strategy::unsupported;
use crate::anonymize::writer::map_values;
use crate::anonymize::{KeyedHasher, Strategy, TextBatch};

/// Most digits a numeric value may have here: the mantissa times the noise in millionths
/// (up to 10^6) must fit an `i128` (about 1.7 × 10^38).
const MAX_DIGITS: usize = 31;

/// Multiplies each number by a keyed factor within `1 ± pct/100` (in millionths). Integers
/// stay integers within their type's range, numerics keep their scale and stay within
/// `numeric(p,s)`, floats stay floats (integral-looking floats stay integral); NaN and
/// infinities stay.
#[derive(Debug)]
pub struct NumericNoise {
    key: KeyedHasher,
    /// The largest relative change, in millionths.
    ppm: i128,
}

impl NumericNoise {
    /// Param `pct` (the largest relative change in percent, 0 to 100, default 10). Needs the
    /// secret.
    pub fn from_params(params: &Params, hasher: Option<KeyedHasher>) -> Result<Self> {
        let mut reader = ParamReader::new("numeric_noise", params);
        let pct = reader.number("pct", 0.0, 100.0)?.unwrap_or(10.0);
        reader.finish()?;
        Ok(NumericNoise {
            key: strategy_key("numeric_noise", hasher)?,
            ppm: (pct * 10_000.0).round() as i128,
        })
    }

    /// The keyed factor's offset from 1 for `value`, in millionths.
    fn noise(&self, value: &str) -> i128 {
        let span = (2 * self.ppm + 1) as usize;
        pick(word(&self.key.hash(value.as_bytes()), 0), span) as i128 - self.ppm
    }
}

/// `x * noise / 10^6`, rounded half away from zero.
fn scaled(x: i128, noise: i128) -> i128 {
    let product = x * noise;
    let (quotient, remainder) = (product / 1_000_000, product % 1_000_000);
    quotient + (remainder.abs() >= 500_000) as i128 * remainder.signum()
}

impl Strategy for NumericNoise {
    fn name(&self) -> &str {
        "numeric_noise"
    }

    fn anonymize(&self, column: &ColumnType, values: &TextBatch) -> Result<TextBatch> {
        if column.is_array() {
            return Err(unsupported(
                self.name(),
                column,
                "integer, numeric and float columns",
            ));
        }
        let kind = column.kind().clone();
        let range = match kind {
            Kind::SmallInt => (i128::from(i16::MIN), i128::from(i16::MAX)),
            Kind::Integer => (i128::from(i32::MIN), i128::from(i32::MAX)),
            Kind::BigInt => (i128::from(i64::MIN), i128::from(i64::MAX)),
            Kind::Numeric(_) | Kind::Real | Kind::Double => (0, 0),
            _ => {
                return Err(unsupported(
                    self.name(),
                    column,
                    "integer, numeric and float columns",
                ));
            }
        };
        map_values(self.name(), values, |value, out| {
            let noise = self.noise(value);
            match kind {
                Kind::Real | Kind::Double => {
                    let x: f64 = value
                        .trim()
                        .parse()
                        .map_err(|_| anyhow!("not a floating-point number"))?;
                    if !x.is_finite() {
                        out.push_str(value);
                        return Ok(());
                    }
                    let mut y = x * (1.0 + noise as f64 / 1e6);
                    if !value.contains(['.', 'e', 'E']) {
                        y = y.round();
                    }
                    if kind == Kind::Real {
                        let y = (y as f32).clamp(f32::MIN, f32::MAX);
                        write!(out, "{y}")?;
                    } else {
                        write!(out, "{}", y.clamp(f64::MIN, f64::MAX))?;
                    }
                }
                Kind::Numeric(spec) => {
                    let trimmed = value.trim();
                    if trimmed.eq_ignore_ascii_case("nan")
                        || trimmed.to_ascii_lowercase().ends_with("infinity")
                    {
                        out.push_str(trimmed);
                        return Ok(());
                    }
                    let decimal = parse_decimal(trimmed)
                        .filter(|d| d.exponent == 0)
                        .ok_or_else(|| anyhow!("not a numeric in PostgreSQL's text form"))?;
                    let digits =
                        decimal.integer.trim_start_matches('0').len() + decimal.fraction.len();
                    if digits > MAX_DIGITS {
                        bail!("has more than {MAX_DIGITS} digits, more than numeric_noise handles");
                    }
                    let mut mantissa = decimal
                        .integer
                        .bytes()
                        .chain(decimal.fraction.bytes())
                        .fold(0i128, |n, digit| n * 10 + i128::from(digit - b'0'));
                    if decimal.negative {
                        mantissa = -mantissa;
                    }
                    let mut noisy = mantissa + scaled(mantissa, noise);
                    if let Some((precision, _)) = spec {
                        let limit = 10i128.checked_pow(precision).map_or(i128::MAX, |p| p - 1);
                        noisy = noisy.clamp(-limit, limit);
                    }
                    write_scaled(out.buffer(), noisy, decimal.fraction.len());
                }
                _ => {
                    let x: i128 = value
                        .trim()
                        .parse()
                        .map_err(|_| anyhow!("not an integer"))?;
                    write!(out, "{}", (x + scaled(x, noise)).clamp(range.0, range.1))?;
                }
            }
            Ok(())
        })
    }
}

/// Writes `mantissa / 10^scale` with exactly `scale` digits after the point (at least one
/// digit before it), without allocating.
fn write_scaled(out: &mut String, mantissa: i128, scale: usize) {
    // Digits, least significant first: an i128 has at most 39, the scale at most MAX_DIGITS.
    let mut digits = [0u8; 40 + MAX_DIGITS];
    let mut rest = mantissa.unsigned_abs();
    let mut count = 0;
    while rest > 0 || count <= scale {
        digits[count] = b'0' + (rest % 10) as u8;
        rest /= 10;
        count += 1;
    }
    if mantissa < 0 {
        out.push('-');
    }
    for position in (0..count).rev() {
        out.push(char::from(digits[position]));
        if position == scale && scale > 0 {
            out.push('.');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anonymize::testing::{as_values, assert_keyed, build, run, run_err};

    #[test]
    fn rounding_and_scaling() {
        assert_eq!(scaled(1000, 100_000), 100);
        assert_eq!(scaled(-15, 100_000), -2);
        assert_eq!(scaled(14, 100_000), 1);
        let mut out = String::new();
        write_scaled(&mut out, -5, 2);
        assert_eq!(out, "-0.05");
        out.clear();
        write_scaled(&mut out, 12345, 2);
        assert_eq!(out, "123.45");
        out.clear();
        write_scaled(&mut out, 0, 0);
        assert_eq!(out, "0");
        out.clear();
        write_scaled(&mut out, 7, 3);
        assert_eq!(out, "0.007");
        out.clear();
        write_scaled(&mut out, -120, 0);
        assert_eq!(out, "-120");
    }

    #[test]
    fn integers_stay_integers_in_range_and_near() {
        let values = [
            Some("1000000"),
            None,
            Some("-2147483648"),
            Some("2147483647"),
            Some("0"),
        ];
        assert_keyed("numeric_noise", "{}", "integer", &values);
        let out = run(
            &*build("numeric_noise", "{pct: 10}", "s"),
            "integer",
            &values,
        );
        let x: i64 = out[0].as_ref().unwrap().parse().unwrap();
        assert!((900_000..=1_100_000).contains(&x), "{x}");
        assert_eq!(out[4].as_deref(), Some("0"));
        run(
            &*build("numeric_noise", "{pct: 100}", "s"),
            "smallint",
            &[Some("32767"), Some("-32768")],
        );
        run(
            &*build("numeric_noise", "{pct: 100}", "s"),
            "bigint",
            &[Some("9223372036854775807")],
        );
    }

    #[test]
    fn the_noise_spreads_over_the_whole_window_both_ways_and_not_past_it() {
        // pct 0.0005 is a window of ±5 millionths. Each value is m × 10^6, so its noise is
        // exactly (noisy - value) / m.
        let values: Vec<String> = (1_000..3_000i64)
            .map(|m| (m * 1_000_000).to_string())
            .collect();
        let inputs = as_values(&values);
        let out = run(
            &*build("numeric_noise", "{pct: 0.0005}", "s"),
            "bigint",
            &inputs,
        );
        let mut seen = std::collections::BTreeSet::new();
        for (m, noisy) in (1_000..3_000i64).zip(&out) {
            let delta = noisy.as_ref().unwrap().parse::<i64>().unwrap() - m * 1_000_000;
            assert_eq!(delta % m, 0, "{m}: {delta}");
            seen.insert(delta / m);
        }
        assert_eq!(
            seen.into_iter().collect::<Vec<_>>(),
            (-5..=5).collect::<Vec<_>>()
        );
    }

    #[test]
    fn numerics_and_floats_move_by_the_same_keyed_factor_as_integers() {
        // Each value is m × 10^6, so every type computes the same exact result; the signs
        // alternate.
        let strategy = build("numeric_noise", "{pct: 0.0005}", "s");
        let values: Vec<String> = (1_000..1_200i64)
            .map(|m| (if m % 2 == 0 { m } else { -m } * 1_000_000).to_string())
            .collect();
        let inputs = as_values(&values);
        let integers = run(&*strategy, "bigint", &inputs);
        assert_ne!(
            integers,
            run(&*build("numeric_noise", "{}", "s"), "bigint", &inputs)
        );
        assert_eq!(run(&*strategy, "numeric", &inputs), integers);
        assert_eq!(run(&*strategy, "double precision", &inputs), integers);
    }

    #[test]
    fn a_double_keeps_a_doubles_precision_and_a_real_is_written_as_a_real() {
        let strategy = build("numeric_noise", "{}", "s");
        let value = [Some("1.2345678901234")];
        let double: f64 = run(&*strategy, "double precision", &value)[0]
            .as_ref()
            .unwrap()
            .parse()
            .unwrap();
        assert_ne!(f64::from(double as f32), double, "{double}");
        let real = run(&*strategy, "real", &value)[0].clone().unwrap();
        assert_eq!(real.parse::<f32>().unwrap().to_string(), real);
    }

    #[test]
    fn numerics_of_up_to_31_digits_are_moved_and_clamped_to_their_precision() {
        let strategy = build("numeric_noise", "{}", "s");
        let widest = [
            "9".repeat(31),
            format!("{}.{}", "1".repeat(16), "2".repeat(15)),
        ];
        run(&*strategy, "numeric", &[Some(&widest[0]), Some(&widest[1])]);
        for too_wide in [
            "9".repeat(32),
            format!("{}.{}", "1".repeat(16), "2".repeat(16)),
        ] {
            let error = run_err(&*strategy, "numeric", &[Some(&too_wide)]);
            assert!(error.contains("more than 31 digits"), "{error}");
        }
        // Up to 50% more than values near the top of numeric(5,2): about half are clamped.
        let values: Vec<String> = (0..200)
            .map(|i| format!("{}{}.{:02}", ["", "-"][i % 2], 900 + i / 2, i % 97))
            .collect();
        let inputs = as_values(&values);
        let out = run(
            &*build("numeric_noise", "{pct: 50}", "s"),
            "numeric(5,2)",
            &inputs,
        );
        let moved: Vec<f64> = out
            .iter()
            .map(|v| v.as_ref().unwrap().parse().unwrap())
            .collect();
        assert!(moved.iter().all(|v| v.abs() <= 999.99), "{moved:?}");
        assert!(
            moved.contains(&999.99) && moved.contains(&-999.99),
            "{moved:?}"
        );
        assert!(moved.iter().any(|v| v.abs() < 999.99), "{moved:?}");
    }

    #[test]
    fn numerics_keep_scale_and_precision() {
        let values = [
            Some("999.99"),
            Some("-12.50"),
            Some("0.01"),
            Some("NaN"),
            None,
        ];
        let out = run(
            &*build("numeric_noise", "{pct: 50}", "s"),
            "numeric(5,2)",
            &values,
        );
        for v in out.iter().flatten().filter(|v| *v != "NaN") {
            assert_eq!(v.split_once('.').unwrap().1.len(), 2, "{v}");
        }
        let out = run(
            &*build("numeric_noise", "{}", "s"),
            "numeric",
            &[Some("123456789012345678901234567890")],
        );
        assert_eq!(out[0].as_ref().unwrap().len(), 30);
        let error = run_err(
            &*build("numeric_noise", "{}", "s"),
            "numeric",
            &[Some("1e5")],
        );
        assert!(error.contains("value 0"), "{error}");
    }

    #[test]
    fn floats_stay_floats() {
        let values = [Some("1.5"), Some("3e38"), Some("-Infinity"), Some("42")];
        let out = run(&*build("numeric_noise", "{}", "s"), "real", &values);
        assert_eq!(out[2].as_deref(), Some("-Infinity"));
        assert!(!out[3].as_ref().unwrap().contains('.'));
        run(
            &*build("numeric_noise", "{pct: 100}", "s"),
            "double precision",
            &[Some("1.7976931348623157e308")],
        );
        let error = run_err(&*build("numeric_noise", "{}", "s"), "text", &[Some("1")]);
        assert!(error.contains("cannot fill"), "{error}");
    }
}
