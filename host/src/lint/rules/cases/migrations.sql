-- The lint case table: one case per construct a migration linter must judge, each with the
-- verdict our rule must give (flag: at least one finding; pass: none) and, where Squawk has a
-- rule for the construct, the verdict Squawk 2.70 gives (squawk=<rule>:<flag|pass>). A case
-- whose verdict differs from Squawk's says why after `differs:`.
--
-- Header:  -- case: <rule> <flag|pass> [options] [squawk=<rule>:<verdict>] [differs: why]
-- Options: pg=<major>  no-transaction  lock-timeout-off
-- Body:    the migration; or `-- before:` (schema files applied first) then `-- migration:`.
-- Cases are run by lint/rules/cases.rs (part of `cargo xtask test`), which also checks that
-- the risk classification agrees with lint on every migration statement.

-- ===== volatile-default (Squawk: adding-field-with-default)
-- case: volatile-default pass squawk=adding-field-with-default:pass
ALTER TABLE "core_recipe" ADD COLUMN "foo" integer DEFAULT 10;
-- case: volatile-default flag pg=10 squawk=adding-field-with-default:flag
ALTER TABLE "core_recipe" ADD COLUMN "foo" integer DEFAULT 10;
-- case: volatile-default pass squawk=adding-field-with-default:pass
ALTER TABLE "core_recipe" ADD COLUMN "foo" integer;
ALTER TABLE "core_recipe" ALTER COLUMN "foo" SET DEFAULT 10;
-- case: volatile-default flag squawk=adding-field-with-default:flag
alter table t set logged, add column c integer default uuid();
-- case: volatile-default flag squawk=adding-field-with-default:flag
ALTER TABLE recipe ADD COLUMN flag boolean DEFAULT random() > 0.5;
-- case: volatile-default pass squawk=adding-field-with-default:pass
ALTER TABLE recipe ADD COLUMN flag boolean DEFAULT true;
-- case: volatile-default pass squawk=adding-field-with-default:pass
alter table t add column a double precision[] default array[]::double precision[];
alter table t add column b bigint[] default cast(array[] as bigint[]);
alter table t add column c text[] default array['x', 'y']::text[];
-- case: volatile-default pass squawk=adding-field-with-default:pass
ALTER TABLE reviews ADD COLUMN checked_at timestamptz NOT NULL DEFAULT now() - interval '10 years';
-- case: volatile-default pass squawk=adding-field-with-default:pass
ALTER TABLE recipe ADD COLUMN label text DEFAULT 'some text';
-- case: volatile-default pass squawk=adding-field-with-default:pass
ALTER TABLE recipe ADD COLUMN mood mood_kind DEFAULT 'happy';
-- case: volatile-default pass squawk=adding-field-with-default:pass
ALTER TABLE recipe ADD COLUMN data jsonb DEFAULT '{}'::jsonb;
-- case: volatile-default flag squawk=adding-field-with-default:flag
ALTER TABLE recipe ADD COLUMN data jsonb DEFAULT make_payload();
-- case: volatile-default pass squawk=adding-field-with-default:flag differs: now(123) does not exist, so PostgreSQL rejects the statement before anything is locked; we judge functions by name
ALTER TABLE recipe ADD COLUMN at timestamptz DEFAULT now(123);
-- case: volatile-default pass squawk=adding-field-with-default:pass
ALTER TABLE recipe ADD COLUMN at timestamptz DEFAULT now();
-- case: volatile-default pass squawk=adding-field-with-default:pass
alter table t add column c timestamptz default current_timestamp;
-- case: volatile-default pass squawk=adding-field-with-default:pass
alter table accounts add column quota integer default 2 + 2;
-- case: volatile-default flag squawk=adding-field-with-default:flag
ALTER TABLE events ADD COLUMN id7 uuid DEFAULT uuidv7();
-- case: volatile-default flag squawk=adding-field-with-default:flag
ALTER TABLE events ADD COLUMN token text DEFAULT md5(random()::text);
-- case: volatile-default flag squawk=adding-field-with-default:pass differs: a serial's default is nextval(), which is volatile: every existing row gets its own value, so the table is rewritten
ALTER TABLE events ADD COLUMN seq bigserial;
-- case: volatile-default pass
CREATE TABLE fresh (id bigint PRIMARY KEY);
ALTER TABLE fresh ADD COLUMN token uuid DEFAULT gen_random_uuid();
-- case: volatile-default flag
ALTER TABLE events ADD COLUMN token text DEFAULT app.new_token();
-- case: volatile-default pass
ALTER TABLE events ADD COLUMN token text DEFAULT lower('ABC');

-- ===== adding-generated-column (Squawk: adding-field-with-default)
-- case: adding-generated-column flag squawk=adding-field-with-default:flag
ALTER TABLE foo ADD COLUMN bar numeric GENERATED ALWAYS AS (bar + baz) STORED;
-- case: adding-generated-column pass pg=18
ALTER TABLE foo ADD COLUMN bar numeric GENERATED ALWAYS AS (baz * 2) VIRTUAL;
-- case: adding-generated-column flag
ALTER TABLE foo ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
-- case: adding-generated-column pass
ALTER TABLE foo ADD COLUMN plain numeric;

-- ===== adding-required-column (Squawk: adding-required-field)
-- case: adding-required-column pass squawk=adding-required-field:pass
ALTER TABLE "recipe" ADD COLUMN "public" boolean;
-- case: adding-required-column pass squawk=adding-required-field:pass
ALTER TABLE "recipe" ADD COLUMN "public" boolean NOT NULL DEFAULT true;
-- case: adding-required-column flag squawk=adding-required-field:flag
ALTER TABLE "recipe" ADD COLUMN "public" boolean NOT NULL;
-- case: adding-required-column pass squawk=adding-required-field:pass
ALTER TABLE foo ADD COLUMN bar numeric GENERATED ALWAYS AS (bar + baz) STORED NOT NULL;
-- case: adding-required-column pass squawk=adding-required-field:pass
ALTER TABLE foo ADD COLUMN bar numeric GENERATED ALWAYS AS (bar + baz) STORED;
-- case: adding-required-column pass
CREATE TABLE fresh (id bigint PRIMARY KEY);
ALTER TABLE fresh ADD COLUMN name text NOT NULL;

-- ===== set-not-null (Squawk: adding-not-nullable-field)
-- case: set-not-null flag squawk=adding-not-nullable-field:flag
ALTER TABLE "core_recipe" ALTER COLUMN "foo" SET NOT NULL;
-- case: set-not-null pass no-transaction squawk=adding-not-nullable-field:pass
BEGIN;
ALTER TABLE "core_recipe" ADD COLUMN "foo" integer DEFAULT 10 NOT NULL;
ALTER TABLE "core_recipe" ALTER COLUMN "foo" DROP DEFAULT;
COMMIT;
-- case: set-not-null pass squawk=adding-not-nullable-field:pass
ALTER TABLE "core_recipe" ADD COLUMN "foo" integer NOT NULL;
-- case: set-not-null flag no-transaction squawk=adding-not-nullable-field:flag
BEGIN;
ALTER TABLE my_table ALTER COLUMN my_column SET NOT NULL;
UPDATE alembic_version SET version_num = 'b' WHERE alembic_version.version_num = 'a';
COMMIT;
-- case: set-not-null pass no-transaction squawk=adding-not-nullable-field:pass
BEGIN;
ALTER TABLE foo ADD COLUMN bar BIGINT;
ALTER TABLE foo ADD CONSTRAINT bar_not_null CHECK (bar IS NOT NULL) NOT VALID;
COMMIT;
BEGIN;
ALTER TABLE foo VALIDATE CONSTRAINT bar_not_null;
ALTER TABLE foo ALTER COLUMN bar SET NOT NULL;
ALTER TABLE foo DROP CONSTRAINT bar_not_null;
COMMIT;
-- case: set-not-null flag pg=11 no-transaction squawk=adding-not-nullable-field:flag
BEGIN;
ALTER TABLE foo ADD COLUMN bar BIGINT;
ALTER TABLE foo ADD CONSTRAINT bar_not_null CHECK (bar IS NOT NULL) NOT VALID;
COMMIT;
BEGIN;
ALTER TABLE foo VALIDATE CONSTRAINT bar_not_null;
ALTER TABLE foo ALTER COLUMN bar SET NOT NULL;
COMMIT;
-- case: set-not-null flag squawk=adding-not-nullable-field:flag
ALTER TABLE foo ADD CONSTRAINT bar_not_null CHECK (bar IS NOT NULL) NOT VALID;
ALTER TABLE foo ALTER COLUMN bar SET NOT NULL;
-- case: set-not-null pass squawk=adding-not-nullable-field:pass
-- before:
CREATE TABLE foo (bar int);
ALTER TABLE foo ADD CONSTRAINT foo_bar_not_null CHECK (bar IS NOT NULL) NOT VALID;
-- migration:
ALTER TABLE foo VALIDATE CONSTRAINT foo_bar_not_null;
ALTER TABLE foo ALTER COLUMN bar SET NOT NULL;
ALTER TABLE foo DROP CONSTRAINT foo_bar_not_null;
-- case: set-not-null flag pg=11 squawk=adding-not-nullable-field:flag
-- before:
CREATE TABLE foo (bar int);
ALTER TABLE foo ADD CONSTRAINT foo_bar_not_null CHECK (bar IS NOT NULL) NOT VALID;
-- migration:
ALTER TABLE foo VALIDATE CONSTRAINT foo_bar_not_null;
ALTER TABLE foo ALTER COLUMN bar SET NOT NULL;
-- case: set-not-null flag squawk=adding-not-nullable-field:flag
ALTER TABLE foo ADD CONSTRAINT baz_not_null CHECK (baz IS NOT NULL) NOT VALID;
ALTER TABLE foo VALIDATE CONSTRAINT baz_not_null;
ALTER TABLE foo ALTER COLUMN bar SET NOT NULL;
-- case: set-not-null flag
-- before:
CREATE TABLE users (email text, backup_email text CHECK (backup_email IS NOT NULL));
-- migration:
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
-- case: set-not-null pass
-- before:
CREATE TABLE users (email text CHECK (email IS NOT NULL), backup_email text);
-- migration:
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
-- case: set-not-null flag
-- before:
CREATE TABLE users (email text);
ALTER TABLE users ADD CONSTRAINT email_present CHECK (email IS NOT NULL) NOT VALID;
-- migration:
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
-- case: set-not-null flag
-- before:
CREATE TABLE users (email text, phone text, CHECK (email IS NOT NULL OR phone IS NOT NULL));
-- migration:
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
-- case: set-not-null pass
-- before:
CREATE TABLE users (email text, n int, CHECK (n > 0 AND (email IS NOT NULL)));
-- migration:
ALTER TABLE users ALTER COLUMN email SET NOT NULL;

-- ===== constraint-missing-not-valid (Squawk: constraint-missing-not-valid, adding-foreign-key-constraint)
-- case: constraint-missing-not-valid flag squawk=adding-foreign-key-constraint:flag
ALTER TABLE distributors ADD CONSTRAINT distfk FOREIGN KEY (address) REFERENCES addresses (address);
-- case: constraint-missing-not-valid pass squawk=adding-foreign-key-constraint:pass
ALTER TABLE distributors ADD CONSTRAINT distfk FOREIGN KEY (address) REFERENCES addresses (address) NOT VALID;
-- case: constraint-missing-not-valid pass squawk=constraint-missing-not-valid:pass
ALTER TABLE account ADD CONSTRAINT account_pk PRIMARY KEY USING INDEX account_pk_idx;
-- case: constraint-missing-not-valid flag squawk=constraint-missing-not-valid:flag
ALTER TABLE "accounts" ADD CONSTRAINT "positive_balance" CHECK ("balance" >= 0);
-- case: constraint-missing-not-valid pass squawk=constraint-missing-not-valid:pass
ALTER TABLE "accounts" ADD CONSTRAINT "positive_balance" CHECK ("balance" >= 0) NOT VALID;
-- case: constraint-missing-not-valid pass squawk=constraint-missing-not-valid:pass
CREATE TABLE "core_foo" ("id" serial NOT NULL PRIMARY KEY, "age" integer NOT NULL);
ALTER TABLE "core_foo" ADD CONSTRAINT "age_restriction" CHECK ("age" >= 25);
-- case: constraint-missing-not-valid pass no-transaction squawk=constraint-missing-not-valid:pass
BEGIN;
CREATE TABLE "core_foo" ("id" serial NOT NULL PRIMARY KEY, "age" integer NOT NULL);
ALTER TABLE "core_foo" ADD CONSTRAINT "age_restriction" CHECK ("age" >= 25);
COMMIT;
-- case: constraint-missing-not-valid pass squawk=adding-foreign-key-constraint:pass
CREATE TABLE email (id bigint GENERATED ALWAYS AS IDENTITY, user_id bigint, PRIMARY KEY (id), CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES "user" (id));
-- case: constraint-missing-not-valid pass squawk=adding-foreign-key-constraint:pass
CREATE TABLE t (id bigserial NOT NULL, other_id integer NOT NULL REFERENCES other_table (id) ON DELETE CASCADE);
-- case: constraint-missing-not-valid pass squawk=adding-foreign-key-constraint:pass
CREATE TABLE "emails" ("id" uuid NOT NULL, "user_id" uuid NOT NULL);
ALTER TABLE "emails" ADD CONSTRAINT "fk_user" FOREIGN KEY ("user_id") REFERENCES "user" ("id");
-- case: constraint-missing-not-valid flag no-transaction squawk=adding-foreign-key-constraint:flag
BEGIN;
ALTER TABLE "email" ADD COLUMN "user_id" INT;
ALTER TABLE "email" ADD CONSTRAINT "fk_user" FOREIGN KEY ("user_id") REFERENCES "user" ("id");
COMMIT;
-- case: constraint-missing-not-valid flag squawk=adding-foreign-key-constraint:flag
ALTER TABLE "emails" ADD COLUMN "user_id" INT REFERENCES "user" ("id");
-- case: constraint-missing-not-valid flag
ALTER TABLE orders ADD COLUMN qty int CHECK (qty > 0);

-- ===== validate-in-same-transaction (Squawk: constraint-missing-not-valid)
-- case: validate-in-same-transaction flag no-transaction squawk=constraint-missing-not-valid:flag
BEGIN;
ALTER TABLE "app_email" ADD CONSTRAINT "fk_user" FOREIGN KEY (user_id) REFERENCES "app_user" (id) NOT VALID;
ALTER TABLE "app_email" VALIDATE CONSTRAINT "fk_user";
COMMIT;
-- case: validate-in-same-transaction flag squawk=constraint-missing-not-valid:flag
ALTER TABLE "app_email" ADD CONSTRAINT "fk_user" FOREIGN KEY (user_id) REFERENCES "app_user" (id) NOT VALID;
ALTER TABLE "app_email" VALIDATE CONSTRAINT "fk_user";
-- case: validate-in-same-transaction pass no-transaction squawk=constraint-missing-not-valid:pass
ALTER TABLE distributors ADD CONSTRAINT distfk FOREIGN KEY (address) REFERENCES addresses (address) NOT VALID;
ALTER TABLE distributors VALIDATE CONSTRAINT distfk;
-- case: validate-in-same-transaction pass no-transaction
BEGIN;
ALTER TABLE a ADD CONSTRAINT c CHECK (x > 0) NOT VALID;
COMMIT;
BEGIN;
ALTER TABLE a VALIDATE CONSTRAINT c;
COMMIT;

-- ===== adding-unique-constraint (Squawk: disallowed-unique-constraint)
-- case: adding-unique-constraint flag squawk=disallowed-unique-constraint:flag
ALTER TABLE table_name ADD CONSTRAINT field_name_constraint UNIQUE (field_name);
-- case: adding-unique-constraint pass squawk=disallowed-unique-constraint:pass
ALTER TABLE table_name DROP CONSTRAINT field_name_constraint;
-- case: adding-unique-constraint pass no-transaction squawk=disallowed-unique-constraint:pass
CREATE UNIQUE INDEX CONCURRENTLY dist_id_temp_idx ON distributors (dist_id);
ALTER TABLE distributors DROP CONSTRAINT distributors_pkey, ADD CONSTRAINT distributors_pkey PRIMARY KEY USING INDEX dist_id_temp_idx;
-- case: adding-unique-constraint pass squawk=disallowed-unique-constraint:pass
ALTER TABLE legacy ADD CONSTRAINT legacy_mongo_id_uniq UNIQUE USING INDEX legacy_mongo_id_idx;
-- case: adding-unique-constraint pass squawk=disallowed-unique-constraint:pass
CREATE TABLE products (id bigint generated by default as identity primary key, sku text not null);
ALTER TABLE products ADD CONSTRAINT sku_constraint UNIQUE (sku);
-- case: adding-unique-constraint flag squawk=disallowed-unique-constraint:flag
ALTER TABLE foo ADD COLUMN bar text CONSTRAINT foo_bar_unique UNIQUE;
-- case: adding-unique-constraint flag squawk=disallowed-unique-constraint:flag
ALTER TABLE foo ADD COLUMN bar text UNIQUE;
-- case: adding-unique-constraint flag
ALTER TABLE bookings ADD CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&);

-- ===== adding-primary-key (Squawk: adding-serial-primary-key-field)
-- case: adding-primary-key flag squawk=adding-serial-primary-key-field:flag
ALTER TABLE a ADD COLUMN b SERIAL PRIMARY KEY;
-- case: adding-primary-key flag squawk=adding-serial-primary-key-field:flag
ALTER TABLE items ADD PRIMARY KEY (id);
-- case: adding-primary-key pass squawk=adding-serial-primary-key-field:pass
ALTER TABLE items ADD CONSTRAINT items_pk PRIMARY KEY USING INDEX items_pk;
-- case: adding-primary-key pass
CREATE TABLE t2 (id bigint NOT NULL);
ALTER TABLE t2 ADD PRIMARY KEY (id);

-- ===== changing-column-type (Squawk: changing-column-type)
-- case: changing-column-type flag no-transaction squawk=changing-column-type:flag
-- before:
CREATE TABLE core_recipe (edits integer);
-- migration:
BEGIN;
ALTER TABLE "core_recipe" ALTER COLUMN "edits" TYPE text USING "edits"::text;
COMMIT;
-- case: changing-column-type flag squawk=changing-column-type:flag
-- before:
CREATE TABLE core_recipe (foo text);
-- migration:
ALTER TABLE "core_recipe" ALTER COLUMN "foo" TYPE varchar(255) USING "foo"::varchar(255);
ALTER TABLE "core_recipe" ALTER COLUMN "foo" TYPE text USING "foo"::text;
-- case: changing-column-type flag squawk=changing-column-type:flag
-- before:
CREATE TABLE t (v varchar(100));
-- migration:
ALTER TABLE t ALTER COLUMN v TYPE varchar(200);
-- case: changing-column-type flag
ALTER TABLE unknown_table ALTER COLUMN n TYPE text;
-- case: changing-column-type flag
-- before:
CREATE TABLE t (n int);
-- migration:
ALTER TABLE t ALTER COLUMN n TYPE bigint;
-- case: changing-column-type pass
CREATE TABLE fresh (n int);
ALTER TABLE fresh ALTER COLUMN n TYPE bigint;

-- ===== renames, drops (Squawk: renaming-*, ban-drop-*)
-- case: renaming-column flag squawk=renaming-column:flag
ALTER TABLE "table_name" RENAME COLUMN "column_name" TO "new_column_name";
-- case: renaming-table flag squawk=renaming-table:flag
ALTER TABLE "table_name" RENAME TO "new_table_name";
-- case: drop-column flag squawk=ban-drop-column:flag
ALTER TABLE "bar_tbl" DROP COLUMN "foo_col" CASCADE;
-- case: drop-table flag squawk=ban-drop-database:flag
DROP DATABASE "table_name";
DROP DATABASE IF EXISTS "table_name";
-- case: drop-table flag squawk=ban-drop-table:flag
DROP TABLE "table_name";
DROP TABLE IF EXISTS "table_name";
-- case: drop-table pass
CREATE TABLE scratch (id int);
DROP TABLE scratch;
-- case: drop-not-null flag squawk=ban-drop-not-null:flag
ALTER TABLE "bar_tbl" ALTER COLUMN "foo_col" DROP NOT NULL;
-- case: drop-object flag squawk=ban-drop-constraint:flag
ALTER TABLE t DROP CONSTRAINT c;
-- case: drop-object flag squawk=ban-drop-type:flag
DROP TYPE mood;
-- case: drop-object flag squawk=ban-drop-view:flag
DROP VIEW active_users;
-- case: drop-object flag squawk=ban-drop-view:flag
DROP MATERIALIZED VIEW totals;
-- case: drop-object flag squawk=ban-drop-extension:flag
DROP EXTENSION pg_trgm;
-- case: drop-object flag squawk=ban-drop-default:flag
ALTER TABLE t ALTER COLUMN c DROP DEFAULT;
-- case: drop-object flag squawk=ban-drop-sequence:flag
DROP SEQUENCE order_numbers;
-- case: drop-object flag squawk=ban-drop-function:flag
DROP FUNCTION touch_updated_at();
-- case: drop-object flag squawk=ban-drop-domain:flag
DROP DOMAIN positive_int;
-- case: drop-object pass
CREATE TABLE scratch (id int, CONSTRAINT c CHECK (id > 0));
ALTER TABLE scratch DROP CONSTRAINT c;
-- case: truncate flag squawk=ban-truncate-cascade:flag
truncate a, b, c cascade;
-- case: truncate flag squawk=ban-truncate-cascade:pass differs: TRUNCATE without CASCADE still deletes every row of live tables under an ACCESS EXCLUSIVE lock
truncate a, b, c;

-- ===== concurrent index creation and deletion
-- case: require-concurrent-index flag squawk=require-concurrent-index-creation:flag
CREATE INDEX "field_name_idx" ON "table_name" ("field_name");
-- case: require-concurrent-index pass no-transaction squawk=require-concurrent-index-creation:pass
CREATE INDEX CONCURRENTLY "field_name_idx" ON "table_name" ("field_name");
-- case: require-concurrent-index pass squawk=require-concurrent-index-creation:pass
CREATE TABLE "core_foo" ("id" serial NOT NULL PRIMARY KEY, "tenant_id" integer NULL);
CREATE INDEX "core_foo_tenant_id" ON "core_foo" ("tenant_id");
-- case: require-concurrent-index flag
-- before:
CREATE TABLE t (id bigint PRIMARY KEY, a int);
-- migration:
CREATE TABLE IF NOT EXISTS t (id bigint PRIMARY KEY, a int);
CREATE INDEX t_a ON t (a);
-- case: require-concurrent-index pass
CREATE TABLE IF NOT EXISTS brand_new (id bigint PRIMARY KEY, a int);
CREATE INDEX brand_new_a ON brand_new (a);
-- case: adding-required-column flag
-- before:
CREATE TABLE t (id bigint PRIMARY KEY);
-- migration:
CREATE TABLE IF NOT EXISTS t (id bigint PRIMARY KEY);
ALTER TABLE t ADD COLUMN name text NOT NULL;
-- case: concurrent-index-in-transaction flag no-transaction squawk=ban-concurrent-index-creation-in-transaction:flag
BEGIN;
CREATE INDEX CONCURRENTLY "field_name_idx" ON "table_name" ("field_name");
COMMIT;
-- case: concurrent-index-in-transaction pass no-transaction squawk=ban-concurrent-index-creation-in-transaction:pass
CREATE INDEX CONCURRENTLY "field_name_idx" ON "table_name" ("field_name");
-- case: concurrent-index-in-transaction flag squawk=ban-concurrent-index-creation-in-transaction:flag
CREATE UNIQUE INDEX CONCURRENTLY "field_name_idx" ON "table_name" ("field_name");
ALTER TABLE "table_name" ADD CONSTRAINT "field_name_id" UNIQUE USING INDEX "field_name_idx";
-- case: concurrent-index-in-transaction pass squawk=ban-concurrent-index-creation-in-transaction:pass
CREATE UNIQUE INDEX CONCURRENTLY "field_name_idx" ON "table_name" ("field_name");
-- case: concurrent-index-in-transaction pass no-transaction squawk=ban-concurrent-index-creation-in-transaction:pass
CREATE UNIQUE INDEX CONCURRENTLY "field_name_idx" ON "table_name" ("field_name");
BEGIN;
ALTER TABLE "table_name" ADD CONSTRAINT "field_name_id" UNIQUE USING INDEX "field_name_idx";
COMMIT;
-- case: concurrent-index-in-transaction flag no-transaction
BEGIN;
DROP INDEX CONCURRENTLY old_idx;
COMMIT;
-- case: require-concurrent-index-drop flag squawk=require-concurrent-index-deletion:flag
DROP INDEX IF EXISTS "field_name_idx";
-- case: require-concurrent-index-drop flag squawk=require-concurrent-index-deletion:flag
DROP INDEX "idx1", "idx2";
-- case: require-concurrent-index-drop pass no-transaction squawk=require-concurrent-index-deletion:pass
DROP INDEX CONCURRENTLY IF EXISTS "field_name_idx";
-- case: require-concurrent-index-drop pass squawk=require-concurrent-index-deletion:pass
DROP TABLE IF EXISTS some_table;
-- case: require-concurrent-index-drop pass squawk=require-concurrent-index-deletion:pass
DROP TRIGGER IF EXISTS audit on foo_table;

-- ===== reindex, partition detach, rewrite commands (Squawk: require-concurrent-reindex, require-concurrent-partition-detach, prefer-repack)
-- case: require-concurrent-reindex flag squawk=require-concurrent-reindex:flag
REINDEX INDEX users_email_idx;
-- case: require-concurrent-reindex flag squawk=require-concurrent-reindex:flag
REINDEX TABLE users;
-- case: require-concurrent-reindex pass no-transaction squawk=require-concurrent-reindex:pass
REINDEX INDEX CONCURRENTLY users_email_idx;
-- case: require-concurrent-reindex pass no-transaction squawk=require-concurrent-reindex:pass
REINDEX (CONCURRENTLY) TABLE users;
-- case: require-concurrent-reindex flag squawk=require-concurrent-reindex:pass differs: CONCURRENTLY false is a plain REINDEX, which blocks writes
REINDEX (CONCURRENTLY false) INDEX users_email_idx;
-- case: concurrent-index-in-transaction pass
REINDEX INDEX CONCURRENTLY users_email_idx;
-- case: concurrent-index-in-transaction flag
ALTER TABLE users ADD COLUMN c int;
REINDEX INDEX CONCURRENTLY users_email_idx;
-- case: concurrent-index-in-transaction pass
REINDEX (CONCURRENTLY off) INDEX users_email_idx;
-- case: require-concurrent-partition-detach flag squawk=require-concurrent-partition-detach:flag
ALTER TABLE measurements DETACH PARTITION measurements_2020;
-- case: require-concurrent-partition-detach pass no-transaction squawk=require-concurrent-partition-detach:pass
ALTER TABLE measurements DETACH PARTITION measurements_2020 CONCURRENTLY;
-- case: require-concurrent-partition-detach pass no-transaction
ALTER TABLE measurements DETACH PARTITION measurements_2020 FINALIZE;
-- case: table-rewrite-command flag pg=19 squawk=prefer-repack:flag
VACUUM FULL orders;
-- case: table-rewrite-command flag squawk=prefer-repack:pass differs: VACUUM FULL rewrites under ACCESS EXCLUSIVE on every version; pg_repack does it without the lock before PostgreSQL 19's REPACK
VACUUM FULL orders;
-- case: table-rewrite-command flag pg=19 squawk=prefer-repack:flag
CLUSTER orders USING orders_pkey;
-- case: table-rewrite-command pass squawk=prefer-repack:pass
VACUUM (ANALYZE) orders;

-- ===== transactions (Squawk: transaction-nesting, ban-uncommitted-transaction)
-- case: transaction-nesting flag no-transaction squawk=transaction-nesting:flag
BEGIN;
BEGIN;
SELECT 1;
COMMIT;
-- case: transaction-nesting flag no-transaction squawk=transaction-nesting:flag
BEGIN;
SELECT 1;
COMMIT;
COMMIT;
-- case: transaction-nesting flag squawk=transaction-nesting:flag
SELECT 1;
COMMIT;
-- case: transaction-nesting flag squawk=transaction-nesting:flag
SELECT 1;
ROLLBACK;
-- case: transaction-nesting pass no-transaction squawk=transaction-nesting:pass
BEGIN;
SELECT 1;
COMMIT;
-- case: transaction-nesting pass no-transaction squawk=transaction-nesting:pass
BEGIN;
SELECT 1;
COMMIT;
BEGIN;
SELECT 2;
COMMIT;
-- case: transaction-nesting pass squawk=transaction-nesting:pass
SELECT 1;
-- case: transaction-nesting flag no-transaction
SAVEPOINT before_change;
-- case: uncommitted-transaction flag no-transaction squawk=ban-uncommitted-transaction:flag
BEGIN;
CREATE TABLE users (id bigint);
-- case: uncommitted-transaction pass no-transaction squawk=ban-uncommitted-transaction:pass
BEGIN;
CREATE TABLE users (id bigint);
COMMIT;
-- case: uncommitted-transaction pass no-transaction squawk=ban-uncommitted-transaction:pass
BEGIN;
CREATE TABLE users (id bigint);
ROLLBACK;
-- case: uncommitted-transaction pass no-transaction squawk=ban-uncommitted-transaction:pass
CREATE TABLE users (id bigint);
-- case: uncommitted-transaction flag no-transaction squawk=ban-uncommitted-transaction:flag
BEGIN;
CREATE TABLE users (id bigint);
COMMIT;
BEGIN;
CREATE TABLE posts (id bigint);
-- case: uncommitted-transaction flag no-transaction squawk=ban-uncommitted-transaction:flag
START TRANSACTION;
CREATE TABLE users (id bigint);
-- case: uncommitted-transaction flag no-transaction squawk=ban-uncommitted-transaction:flag
BEGIN WORK;
CREATE TABLE users (id bigint);

-- ===== non-atomic no-transaction migrations (Squawk: no rule)
-- case: non-atomic-migration flag no-transaction
CREATE INDEX CONCURRENTLY orders_a ON orders (a);
CREATE INDEX CONCURRENTLY orders_b ON orders (b);
-- case: non-atomic-migration flag
CREATE INDEX CONCURRENTLY orders_a ON orders (a);
DROP INDEX CONCURRENTLY orders_old;
-- case: non-atomic-migration flag no-transaction
BEGIN;
INSERT INTO plans VALUES ('free');
COMMIT;
CREATE INDEX CONCURRENTLY orders_a ON orders (a);
-- case: non-atomic-migration flag no-transaction
BEGIN;
INSERT INTO plans VALUES ('free');
COMMIT;
-- case: non-atomic-migration flag no-transaction
CREATE TABLE plans (code text);
INSERT INTO plans VALUES ('free');
-- case: non-atomic-migration pass no-transaction
CREATE INDEX CONCURRENTLY orders_a ON orders (a);
-- case: non-atomic-migration pass
CREATE INDEX CONCURRENTLY orders_a ON orders (a);
-- case: non-atomic-migration pass no-transaction
SET lock_timeout = '5s';
CREATE INDEX CONCURRENTLY orders_a ON orders (a);
RESET lock_timeout;
-- case: non-atomic-migration pass
CREATE TABLE plans (code text);
INSERT INTO plans VALUES ('free');
-- case: non-atomic-migration pass
BEGIN;
CREATE TABLE plans (code text);
INSERT INTO plans VALUES ('free');
COMMIT;

-- ===== domains (Squawk: ban-alter-domain-with-add-constraint, ban-create-domain-with-constraint)
-- case: domain-constraint flag squawk=ban-alter-domain-with-add-constraint:flag
ALTER DOMAIN positive ADD CONSTRAINT is_positive CHECK (value > 0);
-- case: domain-constraint pass squawk=ban-alter-domain-with-add-constraint:pass
ALTER DOMAIN d2 SET NOT NULL;
ALTER DOMAIN d3 DROP CONSTRAINT other_rule;
ALTER DOMAIN d4 RENAME CONSTRAINT a_rule TO b_rule;
-- case: domain-constraint flag squawk=ban-create-domain-with-constraint:flag
CREATE DOMAIN money_amount AS NUMERIC(15,5) CHECK (value > 0);
-- case: domain-constraint flag squawk=ban-create-domain-with-constraint:flag
create domain d as int check (value > 0) not null;
-- case: domain-constraint pass squawk=ban-create-domain-with-constraint:pass
CREATE DOMAIN short_name AS TEXT;
CREATE DOMAIN long_name AS CHARACTER VARYING;

-- ===== data changes (Squawk: ban-duplicate-column-assignments)
-- case: data-change-in-migration flag squawk=ban-duplicate-column-assignments:flag
CREATE TABLE k (a int, b int, c int);
update k set a = 1, a = 1, b = 2, c = 3;
-- case: data-change-in-migration flag squawk=ban-duplicate-column-assignments:flag
update k set (a, b) = (1, 2), a = 3;
-- case: data-change-in-migration flag squawk=ban-duplicate-column-assignments:flag
update k set a = 1, A = 2;
-- case: data-change-in-migration flag
UPDATE accounts SET plan = 'free' WHERE plan IS NULL;
-- case: data-change-in-migration flag
DELETE FROM sessions;
-- case: data-change-in-migration pass
CREATE TABLE lookup (code text PRIMARY KEY, label text);
INSERT INTO lookup VALUES ('a', 'A');
UPDATE lookup SET label = 'B' WHERE code = 'a';

-- ===== types (Squawk: ban-char-field, prefer-text-field, prefer-timestamptz, prefer-bigint-*, prefer-identity)
-- case: prefer-text-over-char flag squawk=ban-char-field:flag
CREATE TABLE core_bar (id bigint PRIMARY KEY, alpha char(100) NOT NULL);
-- case: prefer-text-over-char flag squawk=ban-char-field:flag
CREATE TABLE t (a Char);
-- case: prefer-text-over-char flag squawk=ban-char-field:flag
create table t (a char[]);
-- case: prefer-text-over-char flag squawk=ban-char-field:flag
create table t (a char(10)[]);
-- case: prefer-text-over-char flag squawk=ban-char-field:flag
-- before:
create table t (id bigint primary key);
-- migration:
alter table t add column c character;
-- case: prefer-text-over-char pass squawk=ban-char-field:pass
CREATE TABLE core_bar (id bigint PRIMARY KEY, alpha varchar(100) NOT NULL, beta text NOT NULL);
-- case: prefer-text-over-varchar flag no-transaction squawk=prefer-text-field:flag
-- before:
CREATE TABLE core_foo (kind varchar(100));
-- migration:
BEGIN;
ALTER TABLE "core_foo" ALTER COLUMN "kind" TYPE varchar(1000) USING "kind"::varchar(1000);
COMMIT;
-- case: prefer-text-over-varchar flag squawk=prefer-text-field:flag
CREATE TABLE core_bar (id bigint PRIMARY KEY, alpha varchar(100) NOT NULL);
-- case: prefer-text-over-varchar flag squawk=prefer-text-field:flag
create table t (id bigint primary key, alpha pg_catalog.varchar(100) NOT NULL);
-- case: prefer-text-over-varchar flag squawk=prefer-text-field:flag
ALTER TABLE "foo_table" ADD COLUMN "foo_column" varchar(256) NULL;
-- case: prefer-text-over-varchar pass squawk=prefer-text-field:pass
CREATE TABLE IF NOT EXISTS foo_table (bar_col varchar);
-- case: prefer-text-over-varchar pass squawk=prefer-text-field:pass
CREATE TABLE core_bar (id bigint PRIMARY KEY, bravo text NOT NULL);
ALTER TABLE core_bar ADD CONSTRAINT text_size CHECK (length(bravo) <= 100);
-- case: prefer-timestamptz flag squawk=prefer-timestamp-tz:flag
create table app.users (id bigint primary key, created_ts timestamp);
-- case: prefer-timestamptz flag squawk=prefer-timestamp-tz:flag
create table app.accounts (id bigint primary key, created_ts timestamp without time zone);
-- case: prefer-timestamptz pass squawk=prefer-timestamp-tz:pass
create table app.users (id bigint primary key, created_ts timestamptz, updated_ts timestamp with time zone);
-- case: prefer-bigint-keys flag squawk=prefer-bigint-over-int:flag
create table users (id int primary key);
-- case: prefer-bigint-keys flag squawk=prefer-bigint-over-int:flag
create table users (id serial primary key);
-- case: prefer-bigint-keys pass squawk=prefer-bigint-over-int:pass
create table users (id bigint primary key);
-- case: prefer-bigint-keys flag squawk=prefer-bigint-over-smallint:flag
create table users (id smallint primary key);
-- case: prefer-bigint-keys pass squawk=prefer-bigint-over-int:flag differs: an int column that is not a key (a count, a quantity) is fine; overflow matters for keys
create table stock (id bigint primary key, quantity int);
-- case: prefer-identity flag squawk=prefer-identity:flag
create table users (id serial primary key);
-- case: prefer-identity flag squawk=prefer-identity:flag
create table users (id bigserial primary key);
-- case: prefer-identity pass squawk=prefer-identity:pass
create table users (id bigint generated by default as identity primary key);
-- case: naming-identifier-length flag squawk=identifier-too-long:flag
create table table_very_long_very_long_very_long_very_long_very_long_very_long (id bigint primary key);
-- case: naming-identifier-length pass squawk=identifier-too-long:pass
create table short_name (id bigint primary key);
-- case: naming-identifier-length flag squawk=identifier-too-long:flag
-- before:
create table t (id bigint primary key);
-- migration:
alter table t add column column_very_long_very_long_very_long_very_long_very_long_very_long bigint;

-- ===== advice rules (Squawk: require-timeout-settings, prefer-robust-stmts, require-enum-value-ordering, require-table-schema)
-- case: require-lock-timeout pass squawk=require-lock-timeout:flag differs: Confiture sets the environment's lock_timeout on every migration itself; the rule applies when that is turned off
ALTER TABLE t ADD COLUMN c boolean;
-- case: require-lock-timeout flag lock-timeout-off squawk=require-lock-timeout:flag
ALTER TABLE t ALTER COLUMN c SET NOT NULL;
-- case: require-lock-timeout pass lock-timeout-off squawk=require-lock-timeout:pass
SET lock_timeout = '1s';
ALTER TABLE t ALTER COLUMN c SET NOT NULL;
-- case: require-lock-timeout pass lock-timeout-off squawk=require-lock-timeout:pass
SET Lock_Timeout = '1s';
ALTER TABLE t ALTER COLUMN c SET NOT NULL;
-- case: require-lock-timeout flag lock-timeout-off squawk=require-lock-timeout:flag
SET foo.lock_timeout = '1s';
ALTER TABLE t ALTER COLUMN c SET NOT NULL;
-- case: require-lock-timeout flag lock-timeout-off squawk=require-lock-timeout:flag
ALTER TABLE t ALTER COLUMN c SET NOT NULL;
SET lock_timeout = '1s';
-- case: require-lock-timeout pass lock-timeout-off squawk=require-lock-timeout:pass
SELECT * FROM t;
-- case: require-statement-timeout flag squawk=require-statement-timeout:flag
ALTER TABLE t ALTER COLUMN c SET NOT NULL;
-- case: require-statement-timeout pass squawk=require-statement-timeout:pass
SET statement_timeout = '5s';
ALTER TABLE t ALTER COLUMN c SET NOT NULL;
-- case: require-statement-timeout flag squawk=require-statement-timeout:flag
SET foo.statement_timeout = '5s';
ALTER TABLE t ALTER COLUMN c SET NOT NULL;
-- case: require-statement-timeout pass squawk=require-statement-timeout:flag differs: adding a nullable column is instant, so there is nothing slow to time out
ALTER TABLE t ADD COLUMN c boolean;
-- case: robust-statements flag no-transaction squawk=prefer-robust-stmts:flag
CREATE TABLE core_bar (id bigint PRIMARY KEY, bravo text NOT NULL);
-- case: robust-statements pass no-transaction squawk=prefer-robust-stmts:pass
CREATE TABLE IF NOT EXISTS core_bar (id bigint PRIMARY KEY, bravo text NOT NULL);
-- case: robust-statements flag no-transaction squawk=prefer-robust-stmts:flag
CREATE INDEX CONCURRENTLY core_foo_idx ON core_foo (answer_id);
-- case: robust-statements pass no-transaction squawk=prefer-robust-stmts:pass
CREATE INDEX CONCURRENTLY IF NOT EXISTS core_foo_idx ON core_foo (answer_id);
-- case: robust-statements flag no-transaction squawk=prefer-robust-stmts:flag
DROP INDEX CONCURRENTLY email_idx;
-- case: robust-statements pass no-transaction squawk=prefer-robust-stmts:pass
DROP INDEX CONCURRENTLY IF EXISTS email_idx;
-- case: robust-statements pass squawk=prefer-robust-stmts:pass
CREATE TABLE core_bar (id bigint PRIMARY KEY, bravo text NOT NULL);
-- case: robust-statements pass no-transaction squawk=prefer-robust-stmts:pass
SELECT 1;
INSERT INTO tbl VALUES (1);
-- case: enum-value-ordering flag squawk=require-enum-value-ordering:flag
ALTER TYPE my_enum ADD VALUE 'new_value';
-- case: enum-value-ordering flag squawk=require-enum-value-ordering:flag
ALTER TYPE my_enum ADD VALUE IF NOT EXISTS 'new_value';
-- case: enum-value-ordering pass squawk=require-enum-value-ordering:pass
ALTER TYPE my_enum ADD VALUE 'new_value' BEFORE 'existing_value';
-- case: enum-value-ordering pass squawk=require-enum-value-ordering:pass
ALTER TYPE my_enum ADD VALUE 'new_value' AFTER 'existing_value';
-- case: require-schema-qualified flag squawk=require-table-schema:flag
CREATE TABLE my_table (id int);
-- case: require-schema-qualified pass squawk=require-table-schema:pass
CREATE TABLE public.my_table (id int);
-- case: require-schema-qualified flag squawk=require-table-schema:flag
ALTER TABLE my_table ADD COLUMN name text;
-- case: require-schema-qualified pass squawk=require-table-schema:pass
ALTER TABLE public.my_table ADD COLUMN name text;
