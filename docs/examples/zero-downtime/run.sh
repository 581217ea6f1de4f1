#!/usr/bin/env bash
# zero-downtime: linking orders to customers by id without blocking traffic — expand
# (nullable column, index built CONCURRENTLY, constraints NOT VALID), backfill in batches, then
# VALIDATE — shown by the risk levels of `migrate status`, `migrate up --dry-run` and the
# wizard's review, next to the same change written in one go (flagged CRITICAL).
#
# Runs in a copy of this directory (`cargo xtask example zero-downtime`), with `confiture` and
# `psql` on PATH and DATABASE_URL (an empty database) set.
set -euo pipefail
exec 2>&1
# Print each confiture command before it runs.
trap 'case $BASH_COMMAND in confiture*|*=*confiture*) printf "\n$ %s\n" "$BASH_COMMAND" ;; esac' DEBUG

step() { printf '\n==> %s\n' "$*"; }
fail() { echo "FAILED: $*"; exit 1; }
sql() { psql -X -q -v ON_ERROR_STOP=1 -tA -d "$DATABASE_URL" -c "$1"; }
expect() { # expect VALUE QUERY: the query must return VALUE
    local got
    got=$(sql "$2")
    test "$got" = "$1" || fail "\`$2\` returned '$got', expected '$1'"
    echo "ok: $2 -> $1"
}

step "The starting point: customers, and orders that name their customer by email"
confiture migrate up --target 20250401000100
expect 1000 "SELECT count(*) FROM orders"

step "The change written in one go (unsafe/migrations/): CRITICAL"
status=0
confiture --env unsafe migrate status > status.txt || status=$?
cat status.txt
test "$status" = 2 || fail "expected exit code 2 (no tracking table for unsafe/ yet), got $status"
grep -q "pending  20250401000200_link_orders_to_customers  CRITICAL: UPDATE without WHERE" status.txt \
    || fail "the one-go migration is not CRITICAL"
confiture --env unsafe migrate up --dry-run | tee dry-run.txt
grep -q CRITICAL dry-run.txt || fail "the dry run does not say CRITICAL"

step "The wizard's review marks every risky statement; answer no to applying it"
status=0
printf 'y\nn\n' | CONFITURE_USER=ana@example.org confiture --env unsafe migrate wizard --review | tee wizard.txt || status=$?
test "$status" = 7 || fail "expected exit code 7 (declined), got $status"
grep -q '>> 5 | CREATE INDEX orders_customer_id_idx' wizard.txt || fail "CREATE INDEX not marked"
grep -q 'HIGH: SET NOT NULL on customer_id' wizard.txt || fail "SET NOT NULL not marked"
expect 0 "SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'customer_id'"

step "Expand/contract instead (db/migrations/): low risk but for the batched backfill"
status=0
confiture migrate status > status.txt || status=$?
cat status.txt
test "$status" = 1 || fail "expected exit code 1 (pending migrations), got $status"
test "$(grep -c '  pending  .*  LOW: ' status.txt)" = 4 || fail "expected 4 low-risk pending migrations"
grep -q 'pending  20250401000500_backfill_orders_customer_id  *HIGH' status.txt \
    || fail "the backfill is not HIGH"
if grep -q CRITICAL status.txt; then fail "a safe migration is CRITICAL"; fi
confiture migrate up --dry-run

step "Expand: the column, the index (CONCURRENTLY, no transaction), the constraints (NOT VALID)"
confiture migrate up --target 20250401000400
expect t "SELECT indisvalid FROM pg_index WHERE indexrelid = 'orders_customer_id_idx'::regclass"
expect "false false" "SELECT string_agg(convalidated::text, ' ' ORDER BY conname) FROM pg_constraint WHERE conrelid = 'orders'::regclass AND conname LIKE 'orders_customer_id_%'"

step "Backfill and validate, reviewed in the wizard (line mode: answers from stdin)"
printf 'y\ny\ny\ny\n' | CONFITURE_USER=ana@example.org confiture migrate wizard --review | tee wizard.txt
grep -q 'Wizard: 2 applied, 0 scheduled, 0 not applied' wizard.txt || fail "the wizard did not apply both"
expect 0 "SELECT count(*) FROM orders WHERE customer_id IS NULL"
expect "true true" "SELECT string_agg(convalidated::text, ' ' ORDER BY conname) FROM pg_constraint WHERE conrelid = 'orders'::regclass AND conname LIKE 'orders_customer_id_%'"
expect 6 "SELECT count(*) FROM tb_confiture"
confiture migrate status
confiture migrate audit

echo
echo "zero-downtime: all steps passed"
