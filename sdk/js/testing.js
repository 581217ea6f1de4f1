// Run a JavaScript plugin's functions under Node, without building a component:
//
//     node --import ./confiture/testing.js --test
//
// Imported with `--import`, this module makes `confiture:plugin/host@…` and
// `confiture:plugin/database@…` resolve to test doubles that read the state set up here, so the
// plugin module loads as it is; `runStrategy` / `runHook` / `runLint` go through the same checks
// and packing as the component. State is per process: call `reset()` in a `beforeEach`.
import { createHmac } from "node:crypto";
import { register } from "node:module";

import * as confiture from "./confiture.js";

register("./testing-loader.js", import.meta.url);

/** The test doubles' state (read by testing-host.js and testing-database.js). */
export const state = {};

/** Forgets the secret, config, logs, database answers and recorded calls. */
export function reset() {
  Object.assign(state, { secret: null, config: {}, logs: [], calls: [], onQuery: null, onExecute: null });
}
reset();

/** The deployment secret the keyed hash uses (HMAC-SHA-256, as the host computes it). */
export const setSecret = (secret) => void (state.secret = secret);
/** The plugin's setting `key`, as the environment file's `config:` gives it. */
export const setConfig = (key, value) => void (state.config[key] = value);
/** Answers `db.query(sql, ...params)` with `handler(sql, params)` → `{ columns, values }`. */
export const onQuery = (handler) => void (state.onQuery = handler);
/** Answers `db.execute(sql, ...params)` with `handler(sql, params)` → a count. */
export const onExecute = (handler) => void (state.onExecute = handler);
/** `[level, message]` of every line logged. */
export const logs = () => [...state.logs];
/** `[sql, params]` of every query and statement run. */
export const dbCalls = () => [...state.calls];

/** HMAC-SHA-256 under the secret set with `setSecret`, as the host computes the keyed hash. */
export function keyedHash(bytes) {
  if (state.secret === null) throw "no anonymization secret is configured (in tests, call setSecret first)";
  return new Uint8Array(createHmac("sha256", state.secret).update(bytes).digest());
}

const named = (error) => new Error(`plugin ${confiture.PLUGIN.name}: ${error instanceof Error ? error.message : error}`);

/** Runs strategy `name` on `values` through the packing; throws an Error naming the plugin. */
export function runStrategy(name, values, { column = { schema: "public", table: "t", name: "c", typeName: "text" }, params = {}, context = {} } = {}) {
  try {
    const packedContext = {};
    for (const [key, column] of Object.entries(context)) packedContext[key] = confiture.encode(column);
    return confiture.decode(confiture.runPacked({ strategy: name, column, params, context: packedContext }, confiture.encode(values)));
  } catch (error) {
    throw named(error);
  }
}

/** Runs the hook for `context.event`; throws an Error naming the plugin when it fails. */
export function runHook(context) {
  try {
    confiture.runHook({ environment: "test", status: "running", durationMs: null, error: null, metadata: {}, migration: null, ...context });
  } catch (error) {
    throw named(error);
  }
}

/** Runs the enabled rules on `context` (`{ tables, indexes, statements, enabledRules }`). */
export function runLint(context) {
  return confiture.runLint({ tables: [], indexes: [], statements: [], enabledRules: [], ...context });
}
