// The test double of `confiture:plugin/database`, reading testing.js's state.
import { state } from "./testing.js";

function answer(handler, what, sql, params) {
  state.calls.push([sql, params]);
  if (!state[handler]) throw { payload: { code: "host", message: `no ${what} answer set up (call ${handler} first)` } };
  return state[handler](sql, params);
}

export default {
  query: (sql, params) => answer("onQuery", "query", sql, params),
  execute: (sql, params) => answer("onExecute", "execute", sql, params),
};
