#!/usr/bin/env bash
# production-sync: copy a "production" database with personal data into the local one with
# `confiture sync --anonymize` — built-in strategies, a Rust strategy plugin (email-strategy)
# and a Python one (python-strategy) — and check that no original email or phone survives.
#
# Runs in a copy of this directory (`cargo xtask example production-sync`), with `confiture`
# and `psql` on PATH, SOURCE_DATABASE_URL ("production") and DATABASE_URL (local) — two empty
# databases — and CONFITURE_PLUGINS (the directory holding the built plugins) set.
set -euo pipefail
exec 2>&1
# Print each confiture command before it runs.
trap 'case $BASH_COMMAND in confiture*|*=*confiture*) printf "\n$ %s\n" "$BASH_COMMAND" ;; esac' DEBUG

step() { printf '\n==> %s\n' "$*"; }
fail() { echo "FAILED: $*"; exit 1; }
src() { psql -X -q -v ON_ERROR_STOP=1 -tA -d "$SOURCE_DATABASE_URL" -c "$1"; }
dst() { psql -X -q -v ON_ERROR_STOP=1 -tA -d "$DATABASE_URL" -c "$1"; }
same() { # same QUERY: the query returns the same on production and local
    test "$(src "$1")" = "$(dst "$1")" || fail "\`$1\` differs between production and local"
    echo "ok: same on both: $1"
}

# Keyed strategies derive everything from this secret. Keep the real one in a secret store,
# the same on every run; this default is for the example only.
export ANONYMIZATION_SECRET="${ANONYMIZATION_SECRET:-example-only-secret-not-for-real-data}"

step "Install the strategy plugins: drop the components into plugins/"
cp "$CONFITURE_PLUGINS/email-strategy.wasm" "$CONFITURE_PLUGINS/python-strategy.wasm" plugins/
confiture plugins list

step "Stand up \"production\": the schema, then rows with personal data"
confiture --env production build --apply --yes
psql -X -q -v ON_ERROR_STOP=1 -d "$SOURCE_DATABASE_URL" -f db/seed/production_data.sql

step "The local database: the same schema, empty"
confiture build --apply

step "Dry run: the plan and five rows before/after per column; nothing is written"
confiture sync --from production --to local --anonymize --dry-run
test "$(dst 'SELECT count(*) FROM customers')" = 0 || fail "the dry run wrote rows"

step "Sync, anonymizing on the way"
confiture sync --from production --to local --anonymize

step "Check: same row counts, no original email or phone, keys still join"
for table in customers orders products; do same "SELECT count(*) FROM $table"; done
same "SELECT md5(string_agg(format('%s|%s|%s', id, name, price_cents), ',' ORDER BY id)) FROM products"
query="SELECT email FROM customers UNION SELECT customer_email FROM orders UNION SELECT phone FROM customers"
src "$query" | sort > original.txt
dst "$query" | sort > copied.txt
test "$(wc -l < original.txt)" -gt 200 || fail "the source has no personal data"
if comm -12 original.txt copied.txt | grep -q .; then
    fail "original values survived: $(comm -12 original.txt copied.txt | head -3)"
fi
echo "ok: none of the $(wc -l < original.txt) original emails and phones is in local"
# email_keep_domain keeps the domain, phone_mask the last two digits (per customer id).
same "SELECT string_agg(format('%s %s %s', id, split_part(email, '@', 2), right(phone, 2)), ',' ORDER BY id) FROM customers"
test "$(dst "SELECT count(*) FROM customers WHERE email !~ '^user_[0-9a-f]{12}@'")" = 0 \
    || fail "an email was not rewritten by email_keep_domain"
test "$(dst "SELECT count(*) FROM orders o JOIN customers c ON c.email = o.customer_email")" = 1000 \
    || fail "orders.customer_email does not join customers.email any more"
test "$(dst "SELECT count(*) FROM orders WHERE shipping_address <> '1 Example Street'")" = 0 \
    || fail "a shipping address was not redacted"
echo "ok: domains and last phone digits kept, every order still joins its customer"

step "The other way round is refused: production is protected"
status=0
confiture sync --from local --to production || status=$?
test "$status" = 7 || fail "expected exit code 7, got $status"

echo
echo "production-sync: all steps passed"
