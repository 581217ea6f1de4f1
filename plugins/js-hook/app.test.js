// Native tests of the hook under Node: `node --import ./confiture/testing.js --test`.
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";

import * as testing from "./confiture/testing.js";
import "./app.js";

const context = { event: "post-execute", migration: { version: "20261206000000", name: "add_email" } };
const answer = (table, nulls) => testing.onQuery((sql) => ({ columns: ["x"], values: [[sql.includes("to_regclass") ? table : nulls]] }));
beforeEach(() => testing.reset());

test("passes when no row lacks the column", () => {
  answer("users", "0");
  testing.runHook(context);
  assert.deepEqual(testing.dbCalls()[0], ["SELECT to_regclass($1)::text", ["users"]]);
  assert.deepEqual(testing.logs(), [["info", "users.email has no NULLs after add_email"]]);
});

test("fails naming the count and the migration", () => {
  testing.setConfig("table", "accounts");
  answer("accounts", "3");
  assert.throws(() => testing.runHook(context), /plugin js-hook: hook post-execute: Error: 3 rows of accounts have no email after add_email/);
});

test("skips a table that does not exist yet", () => {
  answer(null, "?");
  testing.runHook(context);
  assert.equal(testing.dbCalls().length, 1);
});
