use super::*;

fn texts(sql: &str) -> Vec<&str> {
    split_statements(sql).into_iter().map(|s| s.text).collect()
}

fn problems(sql: &str) -> Vec<(Unterminated, usize)> {
    split_with_comments(sql)
        .problems
        .into_iter()
        .map(|p| (p.what, p.line))
        .collect()
}

#[test]
fn splits_on_top_level_semicolons_with_lines_and_offsets() {
    let sql = "CREATE TABLE a (id int);\n\nINSERT INTO a VALUES (1);\n  SELECT 1";
    let stmts = split_statements(sql);
    assert_eq!(stmts.len(), 3);
    assert_eq!(stmts[0].text, "CREATE TABLE a (id int)");
    assert_eq!((stmts[0].line, stmts[0].offset), (1, 0));
    assert_eq!(stmts[1].text, "INSERT INTO a VALUES (1)");
    assert_eq!(stmts[1].line, 3);
    assert_eq!(stmts[2].text, "SELECT 1");
    assert_eq!(stmts[2].line, 4);
    assert_eq!(&sql[stmts[2].offset..], "SELECT 1");
}

#[test]
fn single_quotes_with_doubled_quotes() {
    assert_eq!(
        texts("SELECT 'a;b''c;'; SELECT 2"),
        vec!["SELECT 'a;b''c;'", "SELECT 2"]
    );
}

#[test]
fn escape_strings_with_backslashes() {
    assert_eq!(
        texts(r"SELECT E'it\'s; fine'; SELECT e'\\'; SELECT 3"),
        vec![r"SELECT E'it\'s; fine'", r"SELECT e'\\'", "SELECT 3"]
    );
    // A plain string ending in a backslash is not an escape.
    assert_eq!(
        texts(r"SELECT 'C:\'; SELECT 4"),
        vec![r"SELECT 'C:\'", "SELECT 4"]
    );
    // An identifier ending in e before a quote is not an E string.
    assert_eq!(
        texts(r"SELECT name'x\'; SELECT 5"),
        vec![r"SELECT name'x\'", "SELECT 5"]
    );
}

#[test]
fn double_quoted_identifiers() {
    assert_eq!(
        texts(r#"CREATE TABLE "a;""b" (x int); SELECT 1"#),
        vec![r#"CREATE TABLE "a;""b" (x int)"#, "SELECT 1"]
    );
}

#[test]
fn dollar_quotes_plain_and_tagged() {
    let sql = "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n\
               DO $body$ BEGIN PERFORM 1; RAISE NOTICE '$$;'; END $body$;\n\
               SELECT $1, a$b FROM t";
    let stmts = texts(sql);
    assert_eq!(stmts.len(), 3, "{stmts:?}");
    assert!(stmts[0].ends_with("LANGUAGE sql"));
    assert!(stmts[1].starts_with("DO $body$") && stmts[1].ends_with("END $body$"));
    assert_eq!(stmts[2], "SELECT $1, a$b FROM t");
}

#[test]
fn a_dollar_inside_an_identifier_does_not_open_a_quote() {
    assert_eq!(
        texts("SELECT a$b$c FROM t; SELECT 2"),
        vec!["SELECT a$b$c FROM t", "SELECT 2"]
    );
}

#[test]
fn comments_line_and_nested_block() {
    let sql = "-- intro; not a statement\n\
               /* outer /* inner; */ still; comment */\n\
               SELECT 1; -- trailing; comment\n\
               SELECT /* ; */ 2;";
    let stmts = split_statements(sql);
    assert_eq!(stmts.len(), 2, "{stmts:?}");
    assert_eq!(stmts[0].text, "SELECT 1");
    assert_eq!(stmts[0].line, 3);
    assert_eq!(stmts[1].text, "SELECT /* ; */ 2");
    assert_eq!(stmts[1].line, 4, "a statement starts at its first token");
}

#[test]
fn comment_only_statements_are_dropped() {
    assert!(texts("-- nothing here;\n/* nor; here */ ;\n;  ;\n").is_empty());
    assert!(texts("").is_empty());
    assert_eq!(texts("SELECT 1;\n-- the end\n"), vec!["SELECT 1"]);
}

#[test]
fn unterminated_constructs_run_to_the_end_and_are_reported_where_they_open() {
    let sql = "SELECT 1;\nSELECT 'oops;\nSELECT 2";
    assert_eq!(texts(sql), vec!["SELECT 1", "SELECT 'oops;\nSELECT 2"]);
    assert_eq!(problems(sql), vec![(Unterminated::String, 2)]);
    assert_eq!(
        problems("SELECT 1;\n\nSELECT $f$ a; b"),
        vec![(Unterminated::DollarQuote, 3)]
    );
    assert_eq!(
        problems("SELECT 1 /* a;\n b"),
        vec![(Unterminated::BlockComment, 1)]
    );
    assert_eq!(
        problems("SELECT \"a;\nb"),
        vec![(Unterminated::QuotedIdentifier, 1)]
    );
    // An unclosed parenthesis is reported once, and the statements after it are still cut at
    // their semicolons (psql would send them as one broken statement).
    let sql = "SELECT 1;\nSELECT (1; -- x\nSELECT ((2;\nSELECT 3;";
    assert_eq!(problems(sql), vec![(Unterminated::Parenthesis, 2)]);
    assert_eq!(
        texts(sql),
        vec!["SELECT 1", "SELECT (1", "SELECT ((2", "SELECT 3"]
    );
    assert_eq!(split_with_comments(sql).comments.len(), 1);
    assert_eq!(split_statements(sql)[3].line, 4);
    assert_eq!(
        problems("SELECT E'a\\';\nSELECT 2;"),
        vec![(Unterminated::String, 1)]
    );
    let problem = split_with_comments("SELECT 'x").problems[0];
    assert_eq!(
        problem.to_string(),
        "unterminated quoted string starting at line 1"
    );
    assert!(problems("SELECT ')'; SELECT (1);").is_empty());
}

#[test]
fn begin_atomic_bodies_keep_their_semicolons() {
    let sql = "CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql\n\
               BEGIN ATOMIC\n  SELECT a + b;\n  SELECT CASE WHEN a > 0 THEN 1 ELSE 0 END;\nEND;\n\
               create or replace procedure p() language sql begin atomic insert into t values (1); end;\n\
               SELECT 'after';";
    let stmts = split_statements(sql);
    let got: Vec<_> = stmts.iter().map(|s| s.line).collect();
    assert_eq!(got, vec![1, 6, 7], "{stmts:?}");
    assert!(stmts[0].text.ends_with("END"), "{}", stmts[0].text);
    assert!(stmts[1].text.ends_with("end"), "{}", stmts[1].text);
    assert!(problems(sql).is_empty());
    // Outside a routine, BEGIN and END are transaction control and end at their semicolon.
    assert_eq!(
        texts("BEGIN; SELECT 1; END; CREATE TABLE begin_end (begin int);"),
        vec![
            "BEGIN",
            "SELECT 1",
            "END",
            "CREATE TABLE begin_end (begin int)"
        ]
    );
    assert_eq!(
        problems("CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC SELECT 1;"),
        vec![(Unterminated::AtomicBody, 2)]
    );
}

#[test]
fn multi_action_rules_stay_whole() {
    let sql = "CREATE RULE r AS ON INSERT TO t DO ALSO (\n  INSERT INTO log VALUES (1);\n  \
               UPDATE c SET n = n + 1;\n);\nSELECT 2;";
    let stmts = texts(sql);
    assert_eq!(stmts.len(), 2, "{stmts:?}");
    assert!(stmts[0].ends_with(")"));
}

#[test]
fn a_byte_order_mark_and_crlf_line_ends() {
    let sql = "\u{feff}CREATE TABLE a (id int);\r\n-- note\r\nSELECT 1;\r\n";
    let split = split_with_comments(sql);
    let got: Vec<_> = split
        .statements
        .iter()
        .map(|s| (s.line, s.text, s.offset))
        .collect();
    assert_eq!(
        got,
        vec![(1, "CREATE TABLE a (id int)", 3), (3, "SELECT 1", 38)]
    );
    assert_eq!(split.comments[0].text, "-- note");
}

#[test]
fn multibyte_text_keeps_offsets_on_char_boundaries() {
    let sql = "SELECT 'é;ü'; SELECT 'ß'; SELECT ñandú FROM t";
    let stmts = split_statements(sql);
    assert_eq!(stmts[1].text, "SELECT 'ß'");
    assert_eq!(&sql[stmts[1].offset..stmts[1].offset + 11], "SELECT 'ß'");
    assert_eq!(stmts[2].text, "SELECT ñandú FROM t");
}

#[test]
fn copy_from_stdin_data_is_kept_with_its_statement() {
    let sql = "COPY public.t (id, note) FROM stdin;\n\
               1\tsemi; colon\n\
               2\t-- not a comment; 'nor a quote\n\
               \\.\n\
               SELECT pg_catalog.setval('t_id_seq', 2, true);\n\
               copy t FROM STDIN WITH (FORMAT csv);\n\
               3,\"x;y\"\n\
               \\.\r\n\
               ALTER TABLE t OWNER TO me;";
    let split = split_with_comments(sql);
    let stmts: Vec<_> = split.statements.iter().map(|s| (s.line, s.text)).collect();
    assert_eq!(
        stmts,
        vec![
            (1, "COPY public.t (id, note) FROM stdin"),
            (5, "SELECT pg_catalog.setval('t_id_seq', 2, true)"),
            (6, "copy t FROM STDIN WITH (FORMAT csv)"),
            (9, "ALTER TABLE t OWNER TO me"),
        ]
    );
    let data = split.statements[0].copy_data.unwrap();
    assert_eq!(
        data.text,
        "1\tsemi; colon\n2\t-- not a comment; 'nor a quote\n"
    );
    assert_eq!(data.line, 2);
    assert_eq!(split.statements[2].copy_data.unwrap().text, "3,\"x;y\"\n");
    assert!(split.statements[1].copy_data.is_none());
    assert!(split.comments.is_empty(), "{:?}", split.comments);
    assert!(split.meta_commands.is_empty() && split.problems.is_empty());
}

#[test]
fn copy_to_stdout_and_from_a_file_have_no_data() {
    assert_eq!(
        texts("COPY t TO STDOUT; COPY t FROM '/tmp/stdin'; SELECT 1"),
        vec!["COPY t TO STDOUT", "COPY t FROM '/tmp/stdin'", "SELECT 1"]
    );
}

#[test]
fn unterminated_copy_data_runs_to_the_end() {
    let sql = "SELECT 0;\nCOPY t FROM stdin;\n1\n2;\nSELECT 3;";
    assert_eq!(texts(sql), vec!["SELECT 0", "COPY t FROM stdin"]);
    assert_eq!(problems(sql), vec![(Unterminated::CopyData, 2)]);
}

#[test]
fn psql_meta_commands_are_reported_not_run() {
    let sql = "\\restrict abc123\n\nSET x = 1;\n\\connect other\nSELECT '\\n';\n\\i other.sql\n\
               SELECT 1 \\gset\n\\unrestrict abc123\n";
    let split = split_with_comments(sql);
    let stmts: Vec<_> = split.statements.iter().map(|s| (s.line, s.text)).collect();
    assert_eq!(
        stmts,
        vec![(3, "SET x = 1"), (5, "SELECT '\\n'"), (7, "SELECT 1")]
    );
    let metas: Vec<_> = split
        .meta_commands
        .iter()
        .map(|m| (m.line, m.name(), m.text))
        .collect();
    assert_eq!(
        metas,
        vec![
            (1, "\\restrict", "\\restrict abc123"),
            (4, "\\connect", "\\connect other"),
            (6, "\\i", "\\i other.sql"),
            (7, "\\gset", "\\gset"),
            (8, "\\unrestrict", "\\unrestrict abc123"),
        ]
    );
}

#[test]
fn a_comment_inside_a_statement_does_not_move_its_line() {
    let sql = "SELECT 1;\nCREATE TABLE t (\n  -- note\n  id int -- why\n);\nSELECT 2;";
    let split = split_with_comments(sql);
    let lines: Vec<_> = split.statements.iter().map(|s| s.line).collect();
    assert_eq!(lines, vec![1, 2, 6]);
    let comments: Vec<_> = split
        .comments
        .iter()
        .map(|c| (c.line, c.own_line))
        .collect();
    assert_eq!(comments, vec![(3, true), (4, false)]);
}

#[test]
fn comments_are_returned_with_lines_and_placement() {
    let sql =
        "-- head\nSELECT 1; -- tail\n  -- indented\nSELECT '--no', $$ -- no $$ /* -- no */;\n";
    let comments: Vec<_> = split_with_comments(sql)
        .comments
        .into_iter()
        .map(|c| (c.line, c.text, c.own_line))
        .collect();
    assert_eq!(
        comments,
        vec![
            (1, "-- head", true),
            (2, "-- tail", false),
            (3, "-- indented", true)
        ]
    );
}

#[test]
fn lines_stay_right_over_many_statements() {
    let sql: String = (0..5000).map(|n| format!("SELECT {n};\n\n")).collect();
    let stmts = split_statements(&sql);
    assert_eq!(stmts.len(), 5000);
    assert_eq!((stmts[4999].line, stmts[4999].text), (9999, "SELECT 4999"));
}

#[test]
fn a_carriage_return_ends_a_line_comment_as_in_postgresql() {
    assert_eq!(
        texts("CREATE TABLE a (id int);\n-- x\rCOMMIT;\nCREATE TABLE b (id int);\n"),
        [
            "CREATE TABLE a (id int)",
            "COMMIT",
            "CREATE TABLE b (id int)"
        ]
    );
}
