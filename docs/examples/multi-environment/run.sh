#!/usr/bin/env bash
# multi-environment: one project, three environments — local, staging, and a protected
# production where a high-risk migration is scheduled by one person, approved by another and
# applied by `migrate run-scheduled`, with everything in the audit trail.
#
# Runs in a copy of this directory (`cargo xtask example multi-environment`), with `confiture`
# and `psql` on PATH and DATABASE_URL, STAGING_DATABASE_URL and PRODUCTION_DATABASE_URL (three
# empty databases) set.
set -euo pipefail
exec 2>&1
# Print each confiture command before it runs.
trap 'case $BASH_COMMAND in confiture*|*=*confiture*) printf "\n$ %s\n" "$BASH_COMMAND" ;; esac' DEBUG

step() { printf '\n==> %s\n' "$*"; }
fail() { echo "FAILED: $*"; exit 1; }
applied() { # applied URL: the migrations recorded in that database's tracking table
    psql -X -q -v ON_ERROR_STOP=1 -tA -d "$1" -c "SELECT count(*) FROM tb_confiture"
}
tables() { # tables URL: the tables of that database's public schema
    psql -X -q -v ON_ERROR_STOP=1 -tA -d "$1" -c "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
}
expect_status() { test "$2" = "$1" || fail "expected exit code $1, got $2"; }

step "local: apply everything"
confiture migrate up
test "$(applied "$DATABASE_URL")" = 3 || fail "local does not have 3 migrations"

step "staging: the same files, another database"
confiture --env staging migrate status || expect_status 2 $? # no tracking table yet
confiture --env staging migrate up
test "$(applied "$STAGING_DATABASE_URL")" = 3 || fail "staging does not have 3 migrations"

step "production: migrate up refuses — the high-risk migration has no approval yet"
status=0
confiture --env production migrate up --yes || status=$?
expect_status 7 "$status"
if tables "$PRODUCTION_DATABASE_URL" | grep -qx accounts; then fail "production was changed"; fi

step "production: the low-risk migrations need no approval (protected: --yes without a terminal)"
confiture --env production migrate status || expect_status 2 $? # still no tracking table
confiture --env production migrate up --yes --target 20250501000200
test "$(applied "$PRODUCTION_DATABASE_URL")" = 2 || fail "production does not have 2 migrations"

step "production: Ana schedules the high-risk one; it is due, but nobody approved it yet"
CONFITURE_USER=ana confiture migrate schedule 20250501000300 --at +1s --env production
sleep 2
status=0
CONFITURE_USER=cron confiture migrate run-scheduled --env production | tee run.txt || status=$?
expect_status 7 "$status"
grep -q "^blocked 20250501000300" run.txt || fail "the unapproved migration was not blocked"
test "$(applied "$PRODUCTION_DATABASE_URL")" = 2 || fail "an unapproved migration ran"

step "production: Bo approves it; the next scheduled run applies it"
CONFITURE_USER=bo confiture migrate approve 20250501000300 --env production --comment "3 rows; runs in ms"
CONFITURE_USER=cron confiture migrate run-scheduled --env production
test "$(applied "$PRODUCTION_DATABASE_URL")" = 3 || fail "production does not have 3 migrations"

step "production: the audit trail and the schedule"
confiture migrate audit --env production | tee audit.txt
for event in "scheduled .*by ana" "blocked .*approvals missing" "approval .*by bo" "applied .*20250501000300"; do
    grep -q "$event" audit.txt || fail "no \`$event\` in the audit trail"
done
confiture migrate schedule list --all --env production
confiture migrate status --env production

echo
echo "multi-environment: all steps passed"
