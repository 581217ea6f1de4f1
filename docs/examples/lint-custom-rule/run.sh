#!/usr/bin/env bash
# lint-custom-rule: `confiture lint` with a custom rule written as a WebAssembly plugin
# (tenant-lint: every table has a tenant_id column), configured in the environment file, and
# its SARIF report for CI.
#
# Runs in a copy of this directory (`cargo xtask example lint-custom-rule`), with `confiture`
# on PATH and CONFITURE_PLUGINS (the directory holding the built plugins) set. No database.
set -euo pipefail
exec 2>&1
# Print each confiture command before it runs.
trap 'case $BASH_COMMAND in confiture*|*=*confiture*) printf "\n$ %s\n" "$BASH_COMMAND" ;; esac' DEBUG

step() { printf '\n==> %s\n' "$*"; }
fail() { echo "FAILED: $*"; exit 1; }
expect_status() { test "$2" = "$1" || fail "expected exit code $1, got $2"; }

step "Install the rule: drop the component into plugins/"
cp "$CONFITURE_PLUGINS/tenant-lint.wasm" plugins/
confiture lint --list-rules | grep -A1 tenant_id_required

step "Lint the schema and the migrations: invoices has no tenant_id"
status=0
confiture lint | tee lint.txt || status=$?
expect_status 1 "$status"
grep -q "critical  tenant_id_required  table public.invoices has no tenant_id column" lint.txt \
    || fail "no tenant_id_required finding for invoices"
test "$(grep -c tenant_id_required lint.txt)" = 1 || fail "exempt or suppressed tables were reported"
grep -q "1 suppressed" lint.txt || fail "the deploy_log suppression was not counted"

step "The same for CI: a SARIF file for code scanning, annotations for the pull request"
status=0
confiture lint --format sarif --output lint.sarif || status=$?
expect_status 1 "$status"
grep -q '"ruleId": "tenant_id_required"' lint.sarif || fail "lint.sarif has no tenant_id_required result"
grep -q '"uri": "db/schema/10_tables/40_invoices.sql"' lint.sarif || fail "lint.sarif has no location"
grep -q '"id": "tenant_id_required"' lint.sarif || fail "lint.sarif does not describe the rule"
echo "ok: lint.sarif has the tenant_id_required result at db/schema/10_tables/40_invoices.sql"
status=0
confiture lint --format github | tee annotations.txt || status=$?
expect_status 1 "$status"
grep -q '^::error file=db/schema/10_tables/40_invoices.sql,line=2,col=1,title=tenant_id_required' annotations.txt \
    || fail "no ::error annotation for invoices"

step "Add the column in a migration: the lint passes"
cp drafts/add_invoices_tenant_id.sql db/migrations/20250301000200_add_invoices_tenant_id.up.sql
confiture lint

echo
echo "lint-custom-rule: all steps passed"
