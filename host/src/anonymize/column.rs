//! Column types as PostgreSQL's `format_type` prints them, and [`check_value`]: whether a
//! text-form value is acceptable for a type (used on every WebAssembly strategy's output).
//! Values are checked in the ISO forms PostgreSQL prints (`DateStyle` ISO).

use std::fmt;
use std::net::IpAddr;

/// The base type of a column, with the modifiers strategies need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `text`.
    Text,
    /// `character varying(n)`; `None` without a length.
    Varchar(Option<u32>),
    /// `character(n)`, blank-padded; `None` for a bare `bpchar`.
    Char(Option<u32>),
    /// `smallint` (16 bits).
    SmallInt,
    /// `integer` (32 bits).
    Integer,
    /// `bigint` (64 bits).
    BigInt,
    /// `numeric(precision, scale)`; `None` when unconstrained.
    Numeric(Option<(u32, u32)>),
    /// `real` (32-bit float).
    Real,
    /// `double precision`.
    Double,
    /// `date`.
    Date,
    /// `timestamp without time zone` (any precision).
    Timestamp,
    /// `timestamp with time zone` (any precision).
    TimestampTz,
    /// `uuid`.
    Uuid,
    /// `json`.
    Json,
    /// `jsonb`.
    Jsonb,
    /// `inet`.
    Inet,
    /// `cidr`.
    Cidr,
    /// `bytea`.
    Bytea,
    /// `boolean`.
    Boolean,
    /// Any other type (user types, domains, enums, `citext`, ...), kept by name.
    Other(String),
}

/// A column's type: a base [`Kind`], possibly as an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnType {
    kind: Kind,
    array: bool,
}

impl ColumnType {
    /// Parses `format_type` output (`character varying(255)`, `numeric(10,2)`, `text[]`,
    /// `timestamp(3) with time zone`, ...). Common aliases (`varchar(n)`, `int4`,
    /// `timestamptz`) are accepted too; anything unknown becomes [`Kind::Other`].
    pub fn parse(type_name: &str) -> Self {
        let mut name = type_name.trim();
        let mut array = false;
        while let Some(element) = name.strip_suffix("[]") {
            name = element.trim_end();
            array = true;
        }
        let kind = parse_kind(name).unwrap_or_else(|| Kind::Other(name.to_string()));
        Self { kind, array }
    }

    /// The base kind (the element type of an array).
    pub fn kind(&self) -> &Kind {
        &self.kind
    }

    /// True for an array type.
    pub fn is_array(&self) -> bool {
        self.array
    }

    /// The most characters a value may have: `n` of `varchar(n)` / `char(n)`, else `None`.
    pub fn max_chars(&self) -> Option<usize> {
        match self.kind {
            Kind::Varchar(Some(n)) | Kind::Char(Some(n)) if !self.array => Some(n as usize),
            _ => None,
        }
    }

    /// True for scalar text-like columns: text, varchar, char and unknown types (domains over
    /// text, `citext`, enums; PostgreSQL checks those itself).
    pub fn is_textual(&self) -> bool {
        !self.array
            && matches!(
                self.kind,
                Kind::Text | Kind::Varchar(_) | Kind::Char(_) | Kind::Other(_)
            )
    }

    /// The bit width of a scalar integer column (16, 32 or 64), else `None`.
    pub fn integer_bits(&self) -> Option<u32> {
        match self.kind {
            _ if self.array => None,
            Kind::SmallInt => Some(16),
            Kind::Integer => Some(32),
            Kind::BigInt => Some(64),
            _ => None,
        }
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Text => f.write_str("text")?,
            Kind::Varchar(None) => f.write_str("character varying")?,
            Kind::Varchar(Some(n)) => write!(f, "character varying({n})")?,
            Kind::Char(None) => f.write_str("bpchar")?,
            Kind::Char(Some(n)) => write!(f, "character({n})")?,
            Kind::SmallInt => f.write_str("smallint")?,
            Kind::Integer => f.write_str("integer")?,
            Kind::BigInt => f.write_str("bigint")?,
            Kind::Numeric(None) => f.write_str("numeric")?,
            Kind::Numeric(Some((p, s))) => write!(f, "numeric({p},{s})")?,
            Kind::Real => f.write_str("real")?,
            Kind::Double => f.write_str("double precision")?,
            Kind::Date => f.write_str("date")?,
            Kind::Timestamp => f.write_str("timestamp without time zone")?,
            Kind::TimestampTz => f.write_str("timestamp with time zone")?,
            Kind::Uuid => f.write_str("uuid")?,
            Kind::Json => f.write_str("json")?,
            Kind::Jsonb => f.write_str("jsonb")?,
            Kind::Inet => f.write_str("inet")?,
            Kind::Cidr => f.write_str("cidr")?,
            Kind::Bytea => f.write_str("bytea")?,
            Kind::Boolean => f.write_str("boolean")?,
            Kind::Other(name) => f.write_str(name)?,
        }
        if self.array {
            f.write_str("[]")?;
        }
        Ok(())
    }
}

/// The kind for a scalar type name, or `None` when it is not one this module knows.
fn parse_kind(name: &str) -> Option<Kind> {
    // Pull the `(...)` modifiers out, wherever they are (`timestamp(3) with time zone`).
    let lower = name.to_ascii_lowercase();
    let mut base = String::with_capacity(lower.len());
    let mut args = None;
    let mut rest = lower.as_str();
    while let Some(open) = rest.find('(') {
        let close = open + rest[open..].find(')')?;
        if args.is_some() {
            return None;
        }
        base.push_str(&rest[..open]);
        args = Some(
            rest[open + 1..close]
                .split(',')
                .map(|arg| arg.trim().parse::<u32>().ok())
                .collect::<Option<Vec<u32>>>()?,
        );
        rest = &rest[close + 1..];
    }
    base.push_str(rest);
    let base = base.split_whitespace().collect::<Vec<_>>().join(" ");
    let args = args.unwrap_or_default();
    let length = |default: Option<u32>| match args.as_slice() {
        [] => Some(default),
        [n] => Some(Some(*n)),
        _ => None,
    };
    let no_args = |kind: Kind| args.is_empty().then_some(kind);
    match base.as_str() {
        "text" => no_args(Kind::Text),
        "character varying" | "varchar" => length(None).map(Kind::Varchar),
        "character" | "char" => length(Some(1)).map(Kind::Char),
        "bpchar" => length(None).map(Kind::Char),
        "smallint" | "int2" => no_args(Kind::SmallInt),
        "integer" | "int" | "int4" => no_args(Kind::Integer),
        "bigint" | "int8" => no_args(Kind::BigInt),
        "numeric" | "decimal" => match args.as_slice() {
            [] => Some(Kind::Numeric(None)),
            [p] => Some(Kind::Numeric(Some((*p, 0)))),
            [p, s] if s <= p => Some(Kind::Numeric(Some((*p, *s)))),
            _ => None,
        },
        "real" | "float4" => no_args(Kind::Real),
        "double precision" | "float8" | "float" => no_args(Kind::Double),
        "date" => no_args(Kind::Date),
        "timestamp" | "timestamp without time zone" => Some(Kind::Timestamp),
        "timestamp with time zone" | "timestamptz" => Some(Kind::TimestampTz),
        "uuid" => no_args(Kind::Uuid),
        "json" => no_args(Kind::Json),
        "jsonb" => no_args(Kind::Jsonb),
        "inet" => no_args(Kind::Inet),
        "cidr" => no_args(Kind::Cidr),
        "bytea" => no_args(Kind::Bytea),
        "boolean" | "bool" => no_args(Kind::Boolean),
        _ => None,
    }
}

/// Checks that `value` (a text form) is acceptable for `column`. The message says what is
/// wrong without quoting the value. Unknown types pass: PostgreSQL checks them at `COPY`.
pub fn check_value(column: &ColumnType, value: &str) -> Result<(), String> {
    if value.contains('\0') {
        return Err("contains a NUL character, which PostgreSQL text cannot hold".into());
    }
    if column.array {
        return check_array(value);
    }
    match &column.kind {
        Kind::Text | Kind::Varchar(None) | Kind::Char(None) | Kind::Other(_) => Ok(()),
        Kind::Varchar(Some(n)) | Kind::Char(Some(n)) => {
            // PostgreSQL drops excess trailing spaces instead of failing.
            let chars = value.trim_end_matches(' ').chars().count();
            if chars > *n as usize {
                Err(format!("has {chars} characters; the column holds {n}"))
            } else {
                Ok(())
            }
        }
        Kind::SmallInt => check_integer::<i16>(value, "smallint"),
        Kind::Integer => check_integer::<i32>(value, "integer"),
        Kind::BigInt => check_integer::<i64>(value, "bigint"),
        Kind::Numeric(spec) => check_numeric(value, *spec),
        Kind::Real => check_float(value, true),
        Kind::Double => check_float(value, false),
        Kind::Date => check_datetime(value, Precision::Date),
        Kind::Timestamp => check_datetime(value, Precision::Timestamp),
        Kind::TimestampTz => check_datetime(value, Precision::TimestampTz),
        Kind::Uuid => check_uuid(value),
        Kind::Json | Kind::Jsonb => serde_json::from_str::<serde::de::IgnoredAny>(value)
            .map(|_| ())
            .map_err(|error| {
                format!(
                    "is not valid JSON ({} at line {} column {})",
                    json_problem(&error),
                    error.line(),
                    error.column()
                )
            }),
        Kind::Inet => check_ip(value, false),
        Kind::Cidr => check_ip(value, true),
        Kind::Bytea => check_bytea(value),
        Kind::Boolean => check_boolean(value),
    }
}

fn json_problem(error: &serde_json::Error) -> &'static str {
    match error.classify() {
        serde_json::error::Category::Eof => "ends early",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data | serde_json::error::Category::Io => "bad data",
    }
}

fn check_integer<T: std::str::FromStr>(value: &str, name: &str) -> Result<(), String> {
    value
        .trim()
        .parse::<T>()
        .map(|_| ())
        .map_err(|_| format!("is not a {name} (a whole number in the {name} range)"))
}

fn check_float(value: &str, single: bool) -> Result<(), String> {
    let parsed: f64 = value
        .trim()
        .parse()
        .map_err(|_| "is not a floating-point number".to_string())?;
    if single && parsed.is_finite() && (parsed as f32).is_infinite() {
        return Err("is out of range for type real".into());
    }
    Ok(())
}

/// A decimal in text form: sign, digits before and after the point, exponent.
pub(crate) struct Decimal<'a> {
    /// True for a leading `-`.
    pub(crate) negative: bool,
    /// Digits before the point.
    pub(crate) integer: &'a str,
    /// Digits after the point.
    pub(crate) fraction: &'a str,
    /// The exponent after `e`, 0 without one.
    pub(crate) exponent: i32,
}

/// Splits a plain decimal (`-12.50`, `3e5`); `None` when it is not one.
pub(crate) fn parse_decimal(value: &str) -> Option<Decimal<'_>> {
    let (negative, rest) = match value.as_bytes().first()? {
        b'-' => (true, &value[1..]),
        b'+' => (false, &value[1..]),
        _ => (false, value),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(at) => (&rest[..at], rest[at + 1..].parse::<i32>().ok()?),
        None => (rest, 0),
    };
    let (integer, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if integer.is_empty() && fraction.is_empty() || !digits(integer) || !digits(fraction) {
        return None;
    }
    Some(Decimal {
        negative,
        integer,
        fraction,
        exponent,
    })
}

fn check_numeric(value: &str, spec: Option<(u32, u32)>) -> Result<(), String> {
    let value = value.trim();
    let special = value.to_ascii_lowercase();
    if special == "nan" {
        return Ok(());
    }
    if matches!(
        special.as_str(),
        "infinity" | "+infinity" | "-infinity" | "inf" | "+inf" | "-inf"
    ) {
        return match spec {
            None => Ok(()),
            Some(_) => Err("is infinite, which numeric(p,s) cannot hold".into()),
        };
    }
    let decimal = parse_decimal(value).ok_or("is not a number")?;
    let Some((precision, scale)) = spec else {
        return Ok(());
    };
    // Digits left of the point once the exponent is applied, leading zeros aside.
    let digits = decimal.integer.len() as i64 + i64::from(decimal.exponent);
    let leading_zeros = decimal
        .integer
        .bytes()
        .chain(decimal.fraction.bytes())
        .take_while(|&b| b == b'0')
        .count() as i64;
    let integer_digits = (digits - leading_zeros).max(0);
    let allowed = i64::from(precision - scale);
    if integer_digits > allowed {
        return Err(format!(
            "has {integer_digits} digits before the decimal point; numeric({precision},{scale}) allows {allowed}"
        ));
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq)]
enum Precision {
    Date,
    Timestamp,
    TimestampTz,
}

/// The parts of an ISO date/timestamp as PostgreSQL prints it: `date_end` is where the
/// `YYYY-MM-DD` part ends; the rest (time, offset, ` BC`) follows unchanged.
pub(crate) struct IsoDate {
    /// Year as written (before era).
    pub(crate) year: i32,
    /// Month, 1-12.
    pub(crate) month: u32,
    /// Day of the month.
    pub(crate) day: u32,
    /// Byte length of the `YYYY-MM-DD` part.
    pub(crate) date_end: usize,
    /// True when the value ends in ` BC`.
    pub(crate) bc: bool,
}

/// Parses the leading `YYYY-MM-DD` (a year of four or more digits) and a trailing ` BC`.
pub(crate) fn parse_iso_date(value: &str) -> Option<IsoDate> {
    let bytes = value.as_bytes();
    let year_len = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if !(4..=7).contains(&year_len) || bytes.len() < year_len + 6 {
        return None;
    }
    let two = |at: usize| -> Option<u32> {
        let pair = bytes.get(at..at + 2)?;
        pair.iter()
            .all(u8::is_ascii_digit)
            .then(|| u32::from(pair[0] - b'0') * 10 + u32::from(pair[1] - b'0'))
    };
    if bytes[year_len] != b'-' || bytes[year_len + 3] != b'-' {
        return None;
    }
    let year: i32 = value[..year_len].parse().ok()?;
    let month = two(year_len + 1)?;
    let day = two(year_len + 4)?;
    let bc = value.ends_with(" BC");
    let astronomical = if bc { 1 - year } else { year };
    if year == 0
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(astronomical, month)
    {
        return None;
    }
    Some(IsoDate {
        year,
        month,
        day,
        date_end: year_len + 6,
        bc,
    })
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if year.rem_euclid(4) == 0
            && (year.rem_euclid(100) != 0 || year.rem_euclid(400) == 0) =>
        {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn check_datetime(value: &str, precision: Precision) -> Result<(), String> {
    let what = match precision {
        Precision::Date => "a date (YYYY-MM-DD)",
        Precision::Timestamp => "a timestamp (YYYY-MM-DD HH:MM:SS[.ffffff])",
        Precision::TimestampTz => {
            "a timestamp with time zone (YYYY-MM-DD HH:MM:SS[.ffffff]+HH[:MM])"
        }
    };
    let bad = || format!("is not {what}");
    if matches!(value, "infinity" | "-infinity") {
        return Ok(());
    }
    let date = parse_iso_date(value).ok_or_else(bad)?;
    let max_year = match precision {
        Precision::Date => 5_874_897,
        _ => 294_276,
    };
    if (date.bc && date.year > 4713) || (!date.bc && date.year > max_year) {
        return Err(format!("{} (the year is out of range)", bad()));
    }
    let mut rest = &value[date.date_end..];
    if date.bc {
        rest = &rest[..rest.len() - 3];
    }
    if rest.is_empty() {
        return Ok(());
    }
    if precision == Precision::Date {
        return Err(bad());
    }
    let rest = rest
        .strip_prefix(' ')
        .or_else(|| rest.strip_prefix('T'))
        .ok_or_else(bad)?;
    let after_time = check_time(rest).ok_or_else(bad)?;
    match (precision, after_time) {
        (_, "") => Ok(()),
        (Precision::TimestampTz, offset) if check_offset(offset) => Ok(()),
        _ => Err(bad()),
    }
}

/// Checks a leading `HH:MM[:SS[.fff]]` and returns what follows it.
fn check_time(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let number = |at: usize, max: u32| -> Option<()> {
        let pair = bytes.get(at..at + 2)?;
        let n = pair
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| u32::from(pair[0] - b'0') * 10 + u32::from(pair[1] - b'0'))?;
        (n <= max).then_some(())
    };
    number(0, 24)?;
    (bytes.get(2) == Some(&b':')).then_some(())?;
    number(3, 59)?;
    let mut end = 5;
    if bytes.get(5) == Some(&b':') {
        number(6, 60)?;
        end = 8;
        if bytes.get(8) == Some(&b'.') {
            let digits = bytes[9..].iter().take_while(|b| b.is_ascii_digit()).count();
            if digits == 0 {
                return None;
            }
            end = 9 + digits;
        }
    }
    Some(&text[end..])
}

/// `+HH`, `+HH:MM`, `+HH:MM:SS`, `+HHMM` (or `-`), or `Z`.
fn check_offset(offset: &str) -> bool {
    if offset == "Z" {
        return true;
    }
    let Some(rest) = offset.strip_prefix(['+', '-']) else {
        return false;
    };
    let fields: Vec<&str> = if rest.len() == 4 && !rest.contains(':') {
        vec![&rest[..2], &rest[2..]]
    } else {
        rest.split(':').collect()
    };
    fields.len() <= 3
        && fields.iter().enumerate().all(|(i, field)| {
            let max = if i == 0 { 15 } else { 59 };
            field.len() == 2 && field.parse::<u32>().is_ok_and(|n| n <= max)
        })
}

fn check_uuid(value: &str) -> Result<(), String> {
    let bad =
        || "is not a UUID (32 hex digits, e.g. 123e4567-e89b-42d3-a456-426614174000)".to_string();
    let inner = value
        .strip_prefix('{')
        .map(|v| v.strip_suffix('}').ok_or_else(bad))
        .transpose()?
        .unwrap_or(value);
    let mut digits = 0;
    let mut previous_hyphen = true;
    for byte in inner.bytes() {
        if byte == b'-' {
            // PostgreSQL takes a hyphen after any group of four digits.
            if previous_hyphen || digits % 4 != 0 || digits == 32 {
                return Err(bad());
            }
            previous_hyphen = true;
        } else if byte.is_ascii_hexdigit() {
            digits += 1;
            previous_hyphen = false;
        } else {
            return Err(bad());
        }
    }
    if digits == 32 && !previous_hyphen {
        Ok(())
    } else {
        Err(bad())
    }
}

/// Splits `address[/prefix]` into the address and its prefix length.
pub(crate) fn parse_ip(value: &str) -> Option<(IpAddr, Option<u8>)> {
    let (address, prefix) = match value.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix.parse::<u8>().ok()?)),
        None => (value, None),
    };
    let address: IpAddr = address.parse().ok()?;
    let bits = if address.is_ipv4() { 32 } else { 128 };
    match prefix {
        Some(p) if p > bits => None,
        _ => Some((address, prefix)),
    }
}

fn check_ip(value: &str, cidr: bool) -> Result<(), String> {
    let (address, prefix) = parse_ip(value.trim()).ok_or_else(|| {
        format!(
            "is not an {} (an IPv4 or IPv6 address with an optional /prefix)",
            if cidr { "cidr" } else { "inet" }
        )
    })?;
    if let (true, Some(prefix)) = (cidr, prefix) {
        let host_bits = match address {
            IpAddr::V4(v4) => {
                u128::from(u32::from(v4) & u32::MAX.checked_shr(u32::from(prefix)).unwrap_or(0))
            }
            IpAddr::V6(v6) => {
                u128::from(v6) & u128::MAX.checked_shr(u32::from(prefix)).unwrap_or(0)
            }
        };
        if host_bits != 0 {
            return Err("has bits set to the right of its cidr prefix".into());
        }
    }
    Ok(())
}

fn check_bytea(value: &str) -> Result<(), String> {
    if let Some(hex) = value.strip_prefix("\\x") {
        let mut digits = 0usize;
        for byte in hex.bytes() {
            if byte.is_ascii_hexdigit() {
                digits += 1;
            } else if !(byte.is_ascii_whitespace() && digits.is_multiple_of(2)) {
                return Err("is not bytea hex (\\x followed by pairs of hex digits)".into());
            }
        }
        return if digits.is_multiple_of(2) {
            Ok(())
        } else {
            Err("has an odd number of hex digits for bytea".into())
        };
    }
    // Escape format: a backslash starts `\\` or a three-digit octal escape.
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            match bytes.get(i + 1..i + 4) {
                _ if bytes.get(i + 1) == Some(&b'\\') => i += 2,
                Some([a, b, c])
                    if (b'0'..=b'3').contains(a)
                        && (b'0'..=b'7').contains(b)
                        && (b'0'..=b'7').contains(c) =>
                {
                    i += 4
                }
                _ => return Err("has a backslash that starts no bytea escape".into()),
            }
        } else {
            i += 1;
        }
    }
    Ok(())
}

fn check_boolean(value: &str) -> Result<(), String> {
    const ACCEPTED: &[&str] = &[
        "t", "tr", "tru", "true", "f", "fa", "fal", "fals", "false", "y", "ye", "yes", "n", "no",
        "on", "of", "off", "1", "0",
    ];
    let value = value.trim().to_ascii_lowercase();
    if ACCEPTED.contains(&value.as_str()) {
        Ok(())
    } else {
        Err("is not a boolean (true/false, t/f, yes/no, on/off, 1/0)".into())
    }
}

/// Arrays: an optional `[lo:hi]...=` prefix, then balanced braces outside quoted elements.
fn check_array(value: &str) -> Result<(), String> {
    let bad = |why: &str| format!("is not an array literal ({why})");
    let mut body = value.trim();
    if body.starts_with('[') {
        let equals = body
            .find('=')
            .ok_or_else(|| bad("dimensions without `=`"))?;
        body = body[equals + 1..].trim_start();
    }
    if !body.starts_with('{') || !body.ends_with('}') {
        return Err(bad("it must be wrapped in { }"));
    }
    let mut depth = 0usize;
    let mut quoted = false;
    let mut escaped = false;
    for (at, c) in body.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            '{' if !quoted => depth += 1,
            '}' if !quoted => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| bad("a } closes nothing"))?;
                if depth == 0 && at + 1 != body.len() {
                    return Err(bad("text after the closing }"));
                }
            }
            _ => {}
        }
    }
    if quoted || escaped || depth != 0 {
        return Err(bad("unbalanced braces or quotes"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(type_name: &str, value: &str) -> bool {
        check_value(&ColumnType::parse(type_name), value).is_ok()
    }

    #[test]
    fn parses_format_type_output() {
        let cases = [
            ("text", Kind::Text),
            ("character varying(255)", Kind::Varchar(Some(255))),
            ("character varying", Kind::Varchar(None)),
            ("character(2)", Kind::Char(Some(2))),
            ("bpchar", Kind::Char(None)),
            ("integer", Kind::Integer),
            ("bigint", Kind::BigInt),
            ("smallint", Kind::SmallInt),
            ("numeric(10,2)", Kind::Numeric(Some((10, 2)))),
            ("numeric", Kind::Numeric(None)),
            ("double precision", Kind::Double),
            ("real", Kind::Real),
            ("date", Kind::Date),
            ("timestamp without time zone", Kind::Timestamp),
            ("timestamp(3) with time zone", Kind::TimestampTz),
            ("timestamp with time zone", Kind::TimestampTz),
            ("uuid", Kind::Uuid),
            ("jsonb", Kind::Jsonb),
            ("json", Kind::Json),
            ("inet", Kind::Inet),
            ("cidr", Kind::Cidr),
            ("bytea", Kind::Bytea),
            ("boolean", Kind::Boolean),
            ("VARCHAR(12)", Kind::Varchar(Some(12))),
            ("mood", Kind::Other("mood".into())),
            ("public.\"Mood\"", Kind::Other("public.\"Mood\"".into())),
            ("\"char\"", Kind::Other("\"char\"".into())),
            ("numeric(2,5)", Kind::Other("numeric(2,5)".into())),
        ];
        for (name, kind) in cases {
            let parsed = ColumnType::parse(name);
            assert_eq!(parsed.kind(), &kind, "{name}");
            assert!(!parsed.is_array(), "{name}");
        }
        let array = ColumnType::parse("character varying(20)[]");
        assert!(array.is_array());
        assert_eq!(array.kind(), &Kind::Varchar(Some(20)));
        assert_eq!(array.max_chars(), None);
        assert_eq!(array.to_string(), "character varying(20)[]");
        assert_eq!(ColumnType::parse("character(2)").max_chars(), Some(2));
        assert_eq!(ColumnType::parse("integer[]").kind(), &Kind::Integer);
        assert_eq!(ColumnType::parse("bigint").integer_bits(), Some(64));
        assert!(ColumnType::parse("citext").is_textual());
        assert!(!ColumnType::parse("text[]").is_textual());
    }

    #[test]
    fn integers_respect_their_ranges() {
        assert!(ok("smallint", "-32768") && ok("smallint", "32767"));
        assert!(!ok("smallint", "32768"));
        assert!(ok("integer", "2147483647") && !ok("integer", "2147483648"));
        assert!(ok("bigint", "-9223372036854775808") && !ok("bigint", "9223372036854775808"));
        assert!(!ok("integer", "1.5") && !ok("integer", "") && !ok("integer", "abc"));
    }

    #[test]
    fn numerics_respect_precision_and_scale() {
        assert!(ok("numeric(5,2)", "999.99") && ok("numeric(5,2)", "-0.01"));
        assert!(!ok("numeric(5,2)", "1000.00"));
        assert!(ok("numeric(5,2)", "0001.5"), "leading zeros do not count");
        assert!(ok("numeric(5,2)", "1.5e2") && !ok("numeric(5,2)", "1.5e3"));
        assert!(ok("numeric", "123456789012345678901234567890.5"));
        assert!(
            ok("numeric", "NaN") && ok("numeric", "-Infinity") && !ok("numeric(5,2)", "Infinity")
        );
        assert!(!ok("numeric", "1.2.3") && !ok("numeric", "-") && !ok("numeric", "."));
        assert!(ok("double precision", "1.5e300") && ok("double precision", "-Infinity"));
        assert!(!ok("real", "1e300") && ok("real", "3.5"));
        assert!(!ok("double precision", "x"));
    }

    #[test]
    fn dates_and_timestamps_in_iso_form() {
        assert!(ok("date", "2024-02-29") && !ok("date", "2023-02-29"));
        assert!(ok("date", "0044-03-15 BC") && ok("date", "infinity"));
        assert!(
            !ok("date", "2024-13-01")
                && !ok("date", "24-01-01")
                && !ok("date", "2024-01-01 10:00:00")
        );
        assert!(ok(
            "timestamp without time zone",
            "2024-03-01 12:34:56.123456"
        ));
        assert!(ok("timestamp without time zone", "2024-03-01 12:34:56"));
        assert!(ok("timestamp without time zone", "2024-03-01T12:34"));
        assert!(!ok("timestamp without time zone", "2024-03-01 12:34:56+00"));
        assert!(!ok("timestamp without time zone", "2024-03-01 25:00:00"));
        let tz = "timestamp with time zone";
        assert!(ok(tz, "2024-03-01 12:34:56.123+00") && ok(tz, "2024-03-01 12:34:56-03:30"));
        assert!(ok(tz, "1900-01-01 00:00:00+00:53:28") && ok(tz, "2024-03-01 12:34:56Z"));
        assert!(!ok(tz, "2024-03-01 12:34:56+0") && !ok(tz, "2024-03-01 12:34:56 UTC+"));
        assert!(!ok(tz, "2024-03-01 12:34:56.+00"));
    }

    #[test]
    fn uuids_json_ip_bytea_boolean() {
        assert!(ok("uuid", "123e4567-e89b-42d3-a456-426614174000"));
        assert!(ok("uuid", "{123E4567E89B42D3A456426614174000}"));
        assert!(
            !ok("uuid", "123e4567-e89b-42d3-a456-42661417400")
                && !ok("uuid", "123e4567-e89b-42d3-a456-42661417400g")
        );
        assert!(!ok("uuid", "-123e4567e89b42d3a456426614174000"));
        assert!(ok("jsonb", r#"{"a": [1, 2.5, null]}"#) && !ok("json", "{a: 1}"));
        assert!(
            ok("inet", "192.168.0.1") && ok("inet", "10.1.2.3/8") && ok("inet", "2001:db8::1/64")
        );
        assert!(!ok("inet", "300.1.1.1") && !ok("inet", "10.0.0.1/33"));
        assert!(
            ok("cidr", "10.0.0.0/8") && !ok("cidr", "10.0.0.1/8") && ok("cidr", "2001:db8::/32")
        );
        assert!(
            !ok("cidr", "2001:db8::1/32") && ok("cidr", "10.0.0.1/32") && ok("cidr", "0.0.0.0/0")
        );
        assert!(ok("bytea", "\\xdeadBEEF") && ok("bytea", "\\x") && !ok("bytea", "\\xabc"));
        assert!(ok("bytea", "plain\\\\text\\001") && !ok("bytea", "bad\\9"));
        assert!(
            ok("boolean", "t")
                && ok("boolean", "FALSE")
                && ok("boolean", "off")
                && !ok("boolean", "o")
        );
    }

    #[test]
    fn character_lengths_count_characters() {
        assert!(ok("character varying(3)", "héé") && !ok("character varying(3)", "héél"));
        assert!(
            ok("character varying(3)", "abc   "),
            "excess trailing spaces are dropped"
        );
        assert!(ok("character(2)", "ab") && !ok("character(2)", "abc"));
        assert!(ok("text", "anything at all") && !ok("text", "nul\0"));
        assert!(ok("mood", "whatever"));
    }

    #[test]
    fn arrays_need_balanced_braces() {
        assert!(ok("text[]", "{a,b,\"c}\"}") && ok("integer[]", "{{1,2},{3,4}}"));
        assert!(ok("integer[]", "[0:1]={1,2}") && ok("text[]", "{}"));
        assert!(!ok("text[]", "{a,b") && !ok("text[]", "a,b") && !ok("text[]", "{a}}"));
        assert!(!ok("text[]", "{\"a}") && !ok("text[]", "{a}{b}"));
    }
}
