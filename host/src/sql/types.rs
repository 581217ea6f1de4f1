//! Column types written the way PostgreSQL names them (`format_type`): `int4` and `int` are
//! `integer`, `varchar(20)` is `character varying(20)`, `timestamptz` is
//! `timestamp with time zone`, `serial` is `integer` plus a serial flag.

use sqlparser::ast::{ArrayElemTypeDef, DataType};

use super::names;

/// A column type in PostgreSQL's canonical spelling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnType {
    /// Lower case, canonical, e.g. `bigint`, `numeric(10,2)`, `text[]`, `app.mood`.
    pub name: String,
    /// Declared `smallserial`, `serial` or `bigserial` (the name is then the integer type).
    pub serial: bool,
}

/// The canonical form of a parsed type.
pub fn normalise(data_type: &DataType) -> ColumnType {
    match data_type {
        DataType::Array(
            ArrayElemTypeDef::SquareBracket(inner, _)
            | ArrayElemTypeDef::AngleBracket(inner)
            | ArrayElemTypeDef::Parenthesis(inner)
            | ArrayElemTypeDef::ParenthesisNotNull(inner)
            | ArrayElemTypeDef::Qualified(inner, _),
        ) => ColumnType {
            name: format!("{}[]", normalise(inner).name),
            serial: false,
        },
        DataType::Custom(name, modifiers) => {
            let parts = names::parts(name);
            let quoted = name
                .0
                .last()
                .and_then(|part| part.as_ident())
                .is_some_and(|id| id.quote_style.is_some());
            let builtin = match parts.as_slice() {
                [one] if !quoted => Some(one.as_str()),
                [schema, one] if !quoted && schema == "pg_catalog" => Some(one.as_str()),
                _ => None,
            };
            let args = if modifiers.is_empty() {
                String::new()
            } else {
                let modifiers: Vec<String> = modifiers.iter().map(ToString::to_string).collect();
                format!("({})", modifiers.join(","))
            };
            match builtin {
                Some(base) => canonical(&format!("{base}{args}").to_lowercase()),
                None => ColumnType {
                    name: format!("{}{args}", parts.join(".")),
                    serial: false,
                },
            }
        }
        other => canonical(&other.to_string().to_lowercase()),
    }
}

/// Canonical spelling of a built-in type written as lower-case text, e.g. `varchar(20)`.
pub fn canonical(written: &str) -> ColumnType {
    let written = written.trim();
    let (base, args, rest) = match written.find('(') {
        Some(open) => {
            let close = written[open..]
                .find(')')
                .map_or(written.len(), |c| open + c + 1);
            (
                written[..open].trim(),
                written[open..close].replace(' ', ""),
                written[close..].trim(),
            )
        }
        None => (written, String::new(), ""),
    };
    let base = base.split_whitespace().collect::<Vec<_>>().join(" ");
    let serial = matches!(
        base.as_str(),
        "serial" | "serial4" | "bigserial" | "serial8" | "smallserial" | "serial2"
    );
    let with_tz = |tz: bool, name: &str| {
        let zone = if tz { "with" } else { "without" };
        format!("{name}{args} {zone} time zone")
    };
    let name = match base.as_str() {
        "int" | "int4" | "integer" | "serial" | "serial4" => "integer".to_string(),
        "int8" | "bigint" | "bigserial" | "serial8" => "bigint".to_string(),
        "int2" | "smallint" | "smallserial" | "serial2" => "smallint".to_string(),
        "bool" | "boolean" => "boolean".to_string(),
        "float8" | "double precision" | "double" => "double precision".to_string(),
        "float4" | "real" => "real".to_string(),
        "float" => match args.trim_matches(|c| c == '(' || c == ')').parse::<u32>() {
            Ok(bits) if bits <= 24 => "real".to_string(),
            _ => "double precision".to_string(),
        },
        "varchar" | "character varying" | "char varying" => format!("character varying{args}"),
        "char" | "character" | "bpchar" => format!("character{args}"),
        "varbit" | "bit varying" => format!("bit varying{args}"),
        "decimal" | "dec" | "numeric" => format!("numeric{args}"),
        "timestamptz" => with_tz(true, "timestamp"),
        "timetz" => with_tz(true, "time"),
        "timestamp" | "time" => with_tz(rest.starts_with("with time zone"), &base),
        "timestamp with time zone" | "time with time zone" => {
            with_tz(true, base.split(' ').next().unwrap_or_default())
        }
        "timestamp without time zone" | "time without time zone" => {
            with_tz(false, base.split(' ').next().unwrap_or_default())
        }
        _ => {
            return ColumnType {
                name: written.split_whitespace().collect::<Vec<_>>().join(" "),
                serial: false,
            };
        }
    };
    ColumnType { name, serial }
}

/// True when changing a column from type `old` to `new` (canonical spellings, see
/// [`normalise`]) needs no table rewrite — PostgreSQL's binary-coercible changes: a
/// `character varying` or `numeric` that only widens (or loses its limit), any string type to
/// `text` or to unbounded `character varying`, `text` to `character varying` without a limit,
/// `cidr` to `inet`, a `bit varying` that widens. Everything else (`integer` to `text`
/// included) rewrites. The one decision shared by risk classification and lint.
pub fn binary_coercible(old: &str, new: &str) -> bool {
    if old == new {
        return true;
    }
    /// `(base, modifiers)`: `character varying(20)` is `("character varying", Some("20"))`.
    fn split(t: &str) -> (&str, Option<&str>) {
        match t.split_once('(') {
            Some((base, rest)) => (base, rest.strip_suffix(')')),
            None => (t, None),
        }
    }
    let (old_base, old_mods) = split(old);
    let (new_base, new_mods) = split(new);
    let unbounded_string = |base: &str, mods: Option<&str>| {
        base == "text" || (base == "character varying" && mods.is_none())
    };
    let is_string = |base: &str| matches!(base, "text" | "character varying");
    match (old_base, new_base) {
        _ if is_string(old_base) && unbounded_string(new_base, new_mods) => true,
        ("character varying", "character varying") | ("bit varying", "bit varying") => {
            match (old_mods, new_mods) {
                (_, None) => true,
                (Some(n), Some(m)) => wider(n, m),
                (None, Some(_)) => false,
            }
        }
        ("numeric", "numeric") => match (old_mods, new_mods) {
            (_, None) => true,
            (Some(old), Some(new)) => {
                let precision_scale = |m: &str| -> Option<(u32, u32)> {
                    let (p, s) = m.split_once(',').unwrap_or((m, "0"));
                    Some((p.trim().parse().ok()?, s.trim().parse().ok()?))
                };
                match (precision_scale(old), precision_scale(new)) {
                    (Some((p1, s1)), Some((p2, s2))) => s1 == s2 && p2 >= p1,
                    _ => false,
                }
            }
            (None, Some(_)) => false,
        },
        ("cidr", "inet") => old_mods.is_none() && new_mods.is_none(),
        _ => false,
    }
}

/// True when the length limit `new` is at least `old` (both decimal).
fn wider(old: &str, new: &str) -> bool {
    match (old.trim().parse::<u64>(), new.trim().parse::<u64>()) {
        (Ok(n), Ok(m)) => m >= n,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn binary_coercible_changes() {
        use super::binary_coercible as ok;
        assert!(ok("character varying(100)", "character varying(200)"));
        assert!(!ok("character varying(200)", "character varying(100)"));
        assert!(ok("character varying(100)", "text"));
        assert!(ok("character varying(100)", "character varying"));
        assert!(ok("text", "character varying"));
        assert!(!ok("text", "character varying(10)"));
        assert!(!ok("integer", "text"), "int to text rewrites");
        assert!(!ok("integer", "bigint"));
        assert!(ok("numeric(10,2)", "numeric(12,2)"));
        assert!(!ok("numeric(10,2)", "numeric(12,3)"));
        assert!(ok("numeric(10,2)", "numeric"));
        assert!(!ok("numeric", "numeric(10,2)"));
        assert!(ok("cidr", "inet"));
        assert!(!ok("inet", "cidr"));
        assert!(ok("bit varying(4)", "bit varying(8)"));
        assert!(
            !ok("character(10)", "character(20)"),
            "char(n) pads: rewrite"
        );
    }

    use super::*;
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::parser::Parser;

    fn of(written: &str) -> (String, bool) {
        let t = Parser::new(&PostgreSqlDialect {})
            .try_with_sql(written)
            .and_then(|mut p| p.parse_data_type())
            .unwrap_or_else(|e| panic!("{written}: {e}"));
        let c = normalise(&t);
        (c.name, c.serial)
    }

    #[test]
    fn integer_and_serial_types() {
        for t in ["int", "INT4", "integer", "Integer"] {
            assert_eq!(of(t), ("integer".into(), false), "{t}");
        }
        for t in ["int8", "BIGINT"] {
            assert_eq!(of(t), ("bigint".into(), false), "{t}");
        }
        assert_eq!(of("int2"), ("smallint".into(), false));
        assert_eq!(of("smallint"), ("smallint".into(), false));
        assert_eq!(of("serial"), ("integer".into(), true));
        assert_eq!(of("SERIAL4"), ("integer".into(), true));
        assert_eq!(of("bigserial"), ("bigint".into(), true));
        assert_eq!(of("serial8"), ("bigint".into(), true));
        assert_eq!(of("smallserial"), ("smallint".into(), true));
    }

    #[test]
    fn character_types() {
        assert_eq!(of("varchar(255)").0, "character varying(255)");
        assert_eq!(of("VARCHAR").0, "character varying");
        assert_eq!(of("character varying(20)").0, "character varying(20)");
        assert_eq!(of("char(3)").0, "character(3)");
        assert_eq!(of("text").0, "text");
        assert_eq!(of("TEXT[]").0, "text[]");
        assert_eq!(of("varchar(10)[]").0, "character varying(10)[]");
    }

    #[test]
    fn time_types() {
        assert_eq!(of("timestamp").0, "timestamp without time zone");
        assert_eq!(of("TIMESTAMPTZ").0, "timestamp with time zone");
        assert_eq!(of("timestamptz(3)").0, "timestamp(3) with time zone");
        assert_eq!(of("timestamp with time zone").0, "timestamp with time zone");
        assert_eq!(
            of("timestamp(6) without time zone").0,
            "timestamp(6) without time zone"
        );
        assert_eq!(of("time").0, "time without time zone");
        assert_eq!(of("timetz").0, "time with time zone");
        assert_eq!(of("date").0, "date");
        assert_eq!(of("interval").0, "interval");
    }

    #[test]
    fn other_builtin_types() {
        assert_eq!(of("bool").0, "boolean");
        assert_eq!(of("BOOLEAN").0, "boolean");
        assert_eq!(of("float8").0, "double precision");
        assert_eq!(of("double precision").0, "double precision");
        assert_eq!(of("float4").0, "real");
        assert_eq!(of("real").0, "real");
        assert_eq!(of("decimal(10, 2)").0, "numeric(10,2)");
        assert_eq!(of("numeric").0, "numeric");
        assert_eq!(of("jsonb").0, "jsonb");
        assert_eq!(of("uuid").0, "uuid");
        assert_eq!(of("bytea").0, "bytea");
        assert_eq!(of("inet").0, "inet");
        assert_eq!(of("pg_catalog.int4").0, "integer");
    }

    #[test]
    fn user_types_keep_their_schema_and_quoted_case() {
        assert_eq!(of("app.Mood").0, "app.mood");
        assert_eq!(of("\"Mood\"").0, "Mood");
        assert_eq!(of("citext").0, "citext");
        assert_eq!(of("app.mood[]").0, "app.mood[]");
    }
}
