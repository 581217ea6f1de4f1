// Hook: fails a migration that leaves NULLs in a required column (config `table`, `column`).
import database from "confiture:plugin/database@0.2.0";
import host from "confiture:plugin/host@0.2.0";
import * as confiture from "./confiture/confiture.js";

confiture.plugin({ host, database, name: "js-hook", version: "0.2.0", description: "Fails a migration that leaves NULLs", capabilities: ["db-read"] });

confiture.hook(["post-execute"], (context, db) => {
  const table = confiture.config("table", "users"), column = confiture.config("column", "email");
  if (db.query("SELECT to_regclass($1)::text", table).scalar() === null) return; // not created yet
  const nulls = db.query(`SELECT count(*) FROM ${table} WHERE "${column}" IS NULL`).scalar();
  if (nulls !== "0") throw new Error(`${nulls} rows of ${table} have no ${column} after ${context.migration.name}`);
  confiture.log("info", `${table}.${column} has no NULLs after ${context.migration.name}`);
});

export const { metadata, hooks } = confiture.exports;
