#!/usr/bin/env bash
# basic-migration: migrations applied with `confiture migrate up`, and a data-integrity hook
# (email-not-null-hook) that rolls back a migration leaving users without an email.
#
# Runs in a copy of this directory (`cargo xtask example basic-migration`), with `confiture`
# and `psql` on PATH, DATABASE_URL (an empty database) and CONFITURE_PLUGINS (the directory
# holding the built plugins) set.
set -euo pipefail
exec 2>&1
# Print each confiture command before it runs.
trap 'case $BASH_COMMAND in confiture*|*=*confiture*) printf "\n$ %s\n" "$BASH_COMMAND" ;; esac' DEBUG

step() { printf '\n==> %s\n' "$*"; }
sql() { psql -X -q -v ON_ERROR_STOP=1 -tA -d "$DATABASE_URL" -c "$1"; }
expect() { # expect VALUE QUERY: the query must return VALUE
    local got
    got=$(sql "$2")
    if [ "$got" != "$1" ]; then
        echo "FAILED: \`$2\` returned '$got', expected '$1'"
        exit 1
    fi
    echo "ok: $2 -> $1"
}

step "Install the hook: drop the component into plugins/"
cp "$CONFITURE_PLUGINS/email-not-null-hook.wasm" plugins/
confiture hooks list

step "Create the least-privilege role the hook's SQL runs as"
confiture plugins create-role
expect t "SELECT NOT rolsuper AND NOT rolcanlogin FROM pg_roles WHERE rolname = 'confiture_plugin'"

step "Concatenate db/schema/ into one file (no database needed)"
confiture build

step "Apply the two migrations"
# `migrate status` exits 2 while the database has no tracking table, 1 while migrations are
# pending, 0 when everything is applied (the exit codes of upstream Confiture, for CI scripts).
confiture migrate status || test $? = 2
confiture migrate up
expect 3 "SELECT count(*) FROM users"

step "A migration that imports users without an email: the hook rolls it back"
cp drafts/import_legacy_users.broken.sql db/migrations/20250101000300_import_legacy_users.up.sql
status=0
confiture migrate up | tee up.log || status=$?
test "$status" = 1 || { echo "FAILED: expected exit code 1, got $status"; exit 1; }
grep -q "2 row(s) of users have a NULL email" up.log
expect 3 "SELECT count(*) FROM users"
expect 0 "SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'source'"
expect 2 "SELECT count(*) FROM tb_confiture"

step "Fix the migration (placeholder emails, then NOT NULL) and apply it"
cp drafts/import_legacy_users.fixed.sql db/migrations/20250101000300_import_legacy_users.up.sql
confiture migrate up
expect 6 "SELECT count(*) FROM users"
expect 0 "SELECT count(*) FROM users WHERE email IS NULL"
expect 3 "SELECT count(*) FROM tb_confiture"
confiture migrate status

echo
echo "basic-migration: all steps passed"
