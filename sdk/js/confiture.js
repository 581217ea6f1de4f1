// Write Confiture plugins in JavaScript (QuickJS components built with componentize-qjs).
//
// A plugin module names itself, registers one function per strategy, hook or rule, and
// re-exports what the component must export:
//
//     import host from "confiture:plugin/host@0.2.0";
//     import * as confiture from "./confiture.js";
//
//     confiture.plugin({ host, name: "upper", version: "0.1.0", description: "Upper-cases" });
//     confiture.strategy("upper", "Upper-cases text", (values) =>
//       values.map((v) => (v === null ? null : v.toUpperCase())));
//     export const { metadata, strategy } = confiture.exports;
//
// Functions get plain values (an array of strings and nulls for a batch, a context object and
// a database for hooks, the schema model for rules); the SDK packs the results, and any thrown
// error becomes the call's error, which the host reports with the plugin's name. Under Node,
// `node --import ./sdk/js/testing.js --test` runs the same module against test doubles
// (testing.js). The guide is docs/plugins/authoring-js.md.

const EVENTS = ["pre-validate", "post-validate", "pre-execute", "post-execute", "post-rollback", "on-error"];
const SEVERITIES = ["info", "warning", "critical"];
const CAPABILITIES = ["db-read", "db-write"];
const LEVELS = ["trace", "debug", "info", "warn", "error"];

/** What the module declared; read by `exports` and by testing.js. */
export const PLUGIN = { name: "", version: "", description: "", capabilities: [], strategies: new Map(), hooks: new Map(), rules: new Map() };
let hostApi = null;
let databaseApi = null;

function check(value, allowed, what) {
  if (!allowed.includes(value)) throw new Error(`${what} ${JSON.stringify(value)} is not one of: ${allowed.join(", ")}`);
}

/** Names the plugin. `host` is the `confiture:plugin/host@0.2.0` import; a hook plugin also
 * passes `database` (`confiture:plugin/database@0.2.0`) and asks for `db-read`/`db-write`. */
export function plugin({ host, database = null, name, version, description, capabilities = [] }) {
  capabilities.forEach((c) => check(c, CAPABILITIES, "capability"));
  Object.assign(PLUGIN, { name, version, description, capabilities });
  hostApi = host;
  databaseApi = database;
}

/** Registers `fn(values, call)` as strategy `name`: `values` is an array of strings (`null`
 * for SQL NULL); return as many, in order. `call` has `column`, `params` and `context`. */
export function strategy(name, description, fn, options) {
  register(name, description, fn, false, options);
}

/** Registers strategy `name`, run on its values decoded or, when `packed`, on the packed batch. */
function register(name, description, fn, packed, { contextColumns = [], acceptedTypes = ["text", "character varying"], deterministic = true } = {}) {
  PLUGIN.strategies.set(name, { name, description, fn, packed, contextColumns, acceptedTypes, deterministic });
}

/** Registers `fn(batch, call)` as strategy `name`, working on the packed batch itself: `batch`
 * is `{ data, offsets, nulls }` (the values' UTF-8 bytes, `offsets[i]..offsets[i + 1]` for
 * value `i`, bit `i` of `nulls` set for SQL NULL); return a batch of as many values. No value
 * becomes a string: in QuickJS every character touched costs an interpreted step, so this is
 * the form that keeps up with a large table (`batchDigits`, `replaceBatchDigits`). `call` is
 * as for `strategy`, its `context` columns packed too. */
export function batchStrategy(name, description, fn, options) {
  register(name, description, fn, true, options);
}

/** Registers `fn(context, db)` as the hook for `events`; throwing fails the hook. */
export function hook(events, fn) {
  for (const event of events) {
    check(event, EVENTS, "hook event");
    PLUGIN.hooks.set(event, fn);
  }
}

/** Registers `fn(context)` as lint rule `id`; it returns an array of violations
 * (`{ message, location?, suggestion?, fix? }`). */
export function rule(id, description, fn, { category = "structure", severity = "warning" } = {}) {
  check(severity, SEVERITIES, "severity");
  PLUGIN.rules.set(id, { id, description, fn, category, severity });
}

/** The plugin's setting `key` from the environment file, or `fallback`. */
export function config(key, fallback = null) {
  const value = hostApi.config(key);
  return value === null || value === undefined ? fallback : value;
}

/** Writes a line to the host's log (`trace`, `debug`, `info`, `warn`, `error`). */
export function log(level, message) {
  check(level, LEVELS, "log level");
  hostApi.log(level, String(message));
}

const NON_ASCII = /[^\x00-\x7f]/;
/** One char per UTF-8 byte of `text` (ASCII text is its own). */
const binary = (text) => (NON_ASCII.test(text) ? unescape(encodeURIComponent(text)) : text);

/** The bytes of a string of one char per byte. QuickJS as componentize-qjs builds it has no
 * TextEncoder, and this loop is the cheapest way measured there (about 0.26 µs per char;
 * `Uint8Array.from` with a bound `charCodeAt` is slower): docs/benchmarks.md. */
function bytesOf(text) {
  const bytes = new Uint8Array(text.length);
  for (let k = 0; k < text.length; k++) bytes[k] = text.charCodeAt(k);
  return bytes;
}

/** UTF-8 bytes of a string, or the Uint8Array itself. */
const utf8 = (item) => (typeof item === "string" ? bytesOf(binary(item)) : item);

/** HMAC-SHA-256 of `item` (a string, hashed as UTF-8, or a Uint8Array) under the deployment
 * secret, which the plugin never sees: 32 bytes. */
export function keyedHash(item) {
  return hostApi.keyedHash(utf8(item));
}

/** `keyedHash` of every item (strings or Uint8Arrays) in one host call: an array of 32-byte
 * digests. One call per batch instead of one per value is what lets a strategy keep up. */
export function keyedHashBatch(items) {
  const count = items.length;
  const offsets = new Array(count + 1);
  offsets[0] = 0;
  let data;
  if (items.every((item) => typeof item === "string")) {
    const parts = NON_ASCII.test(items.join("")) ? items.map(binary) : items;
    for (let i = 0, total = 0; i < count; i++) offsets[i + 1] = total += parts[i].length;
    data = bytesOf(parts.join(""));
  } else {
    const bytes = items.map(utf8);
    for (let i = 0, total = 0; i < count; i++) offsets[i + 1] = total += bytes[i].length;
    data = new Uint8Array(offsets[count]);
    for (let i = 0; i < count; i++) data.set(bytes[i], offsets[i]);
  }
  const digests = hostApi.keyedHashBatch(data, offsets);
  const out = new Array(count);
  for (let i = 0; i < count; i++) out[i] = digests.subarray(i * 32, i * 32 + 32);
  return out;
}

// --- batch helpers for strategies that rewrite digits (phone, card, account numbers) -----------
// `digits` works on the whole batch joined into one string (one regular expression, one
// `split`); `replaceDigits` rewrites each value with one loop over its characters — in QuickJS
// every per-character step costs about the same whichever way it is written (a loop, a
// built-in callback, a regular expression's replace), so fewer characters touched is what
// counts. A digit is an ASCII digit 0-9; every other character stays as it is.

/** Joins the values for `digits`: a lone surrogate, which no value decoded from UTF-8 holds. */
const SEPARATOR = "\udcff";
const NOT_DIGITS = /[^0-9\udcff]/g;
/** The ASCII digits of each value, as strings ("" for null and for a value without digits):
 * `digits(["+33 6 12", null])` is `["33612", ""]`. */
export function digits(values) {
  if (!values.length) return [];
  const found = values.join(SEPARATOR).replace(NOT_DIGITS, "").split(SEPARATOR); // null joins as ""
  if (found.length !== values.length) throw new Error("a value holds the lone surrogate U+DCFF, which is not text");
  return found;
}

/** Each value with its ASCII digits, except the last `keepLast`, replaced by digits drawn from
 * `sources[i]` (a Uint8Array, e.g. the value's keyed-hash digest): digit `j` becomes
 * `sources[i][j % sources[i].length] % 10`. Every other character stays in place; a value with
 * `keepLast` digits or fewer, and null, stay as they are. */
export function replaceDigits(values, sources, keepLast = 0) {
  const count = values.length;
  if (sources.length !== count) throw new Error(`${sources.length} sources for ${count} values`);
  if (!(keepLast >= 0)) throw new Error(`keepLast is ${keepLast}, not 0 or more`);
  if (!count) return [];
  const found = digits(values);
  const out = new Array(count);
  for (let i = 0; i < count; i++) {
    const value = values[i], replaced = found[i].length - keepLast, source = sources[i];
    if (replaced <= 0) {
      out[i] = value === undefined ? null : value;
      continue;
    }
    if (!source.length) throw new Error(`source ${i} is empty: no digits can come from it`);
    const codes = new Array(value.length);
    for (let k = 0, seen = 0; k < value.length; k++) {
      const c = value.charCodeAt(k), digit = c >= 48 && c <= 57;
      codes[k] = digit && seen < replaced ? 48 + (source[seen % source.length] % 10) : c;
      seen += digit;
    }
    out[i] = String.fromCharCode.apply(null, codes);
  }
  return out;
}

// --- the same on a packed batch (`batchStrategy`), one step per byte touched --------------------
// An ASCII digit is a byte 0x30-0x39, which never occurs inside another character's UTF-8
// encoding, so reading and rewriting digits needs no decoding.

/** Every value's ASCII digits, from the batch's bytes: `{ data, offsets, positions }` — value
 * `i`'s digits are `data[offsets[i]..offsets[i + 1]]`, found at the batch's byte positions
 * `positions[offsets[i]..offsets[i + 1]]` (NULL and values without digits have none). */
export function batchDigits({ data, offsets }) {
  const count = offsets.length - 1;
  const digitsFound = new Uint8Array(data.length);
  const positions = new Uint32Array(data.length);
  const found = new Uint32Array(count + 1);
  let n = 0;
  for (let i = 0; i < count; i++) {
    for (let k = offsets[i], end = offsets[i + 1]; k < end; k++) {
      const c = data[k];
      if (c >= 48 && c <= 57) {
        digitsFound[n] = c;
        positions[n++] = k;
      }
    }
    found[i + 1] = n;
  }
  return { data: digitsFound.subarray(0, n), offsets: found, positions: positions.subarray(0, n) };
}

/** `keyedHash` of each item of a packed list (`{ data, offsets }`, e.g. `batchDigits`'s) in one
 * host call: the digests end to end, 32 bytes per item. */
export function keyedHashPacked({ data, offsets }) {
  return hostApi.keyedHashBatch(data, offsets);
}

/** A copy of `batch` in which value `i`'s ASCII digits (`found`, from `batchDigits`), except the
 * last `keepLast`, become `sources[32 * i + j % 32] % 10` for digit `j` (`sources`: 32 bytes per
 * value end to end, e.g. `keyedHashPacked`'s) — `replaceDigits` on the packed batch. */
export function replaceBatchDigits(batch, found, sources, keepLast = 0) {
  const count = batch.offsets.length - 1;
  if (found.offsets.length !== count + 1) throw new Error(`digits of ${found.offsets.length - 1} values for ${count}`);
  if (sources.length !== 32 * count) throw new Error(`${sources.length} source bytes for ${count} values, not 32 each`);
  if (!(keepLast >= 0)) throw new Error(`keepLast is ${keepLast}, not 0 or more`);
  const data = new Uint8Array(batch.data);
  const { offsets, positions } = found;
  for (let i = 0; i < count; i++) {
    const first = offsets[i], base = 32 * i;
    for (let j = 0, replaced = offsets[i + 1] - first - keepLast; j < replaced; j++) {
      data[positions[first + j]] = 48 + (sources[base + (j & 31)] % 10);
    }
  }
  return { data, offsets: batch.offsets, nulls: batch.nulls };
}

/** The database a hook may use: `query(sql, ...params)` returns `{ columns, values,
 * scalar() }`; `execute(sql, ...params)` the number of rows affected. A refused or failed
 * call throws an Error with `code` (SQLSTATE, `not-granted` or `host`). */
export const db = {
  query(sql, ...params) {
    const rows = callDatabase("query", sql, params);
    return { ...rows, scalar: () => (rows.values.length && rows.values[0].length ? rows.values[0][0] : null) };
  },
  execute(sql, ...params) {
    return Number(callDatabase("execute", sql, params));
  },
};

function callDatabase(name, sql, params) {
  if (!databaseApi) throw new Error("no database: pass `database` to confiture.plugin() (hook plugins only)");
  try {
    return databaseApi[name](sql, params.map((p) => (p === null || p === undefined ? null : String(p))));
  } catch (error) {
    const payload = error && error.payload !== undefined ? error.payload : error;
    const failure = new Error(payload && payload.message ? `${payload.code}: ${payload.message}` : String(payload));
    failure.code = payload && payload.code;
    throw failure;
  }
}

// --- packing the contract's text-batch: one buffer, offsets, a null bitmap -------------------

/** The bytes as a string of one char per byte (UTF-8 stays encoded), in chunks that fit
 * `apply`'s argument limit: one native call per 8 KiB instead of one per value. */
function binaryString(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
  return text;
}

/** The values of a packed batch (`null` for SQL NULL). */
export function decode({ data, offsets, nulls }) {
  const count = offsets.length - 1;
  const values = new Array(count);
  const text = binaryString(data);
  const ascii = !/[^\x00-\x7f]/.test(text);
  for (let i = 0; i < count; i++) {
    if (nulls[i >> 3] & (1 << (i & 7))) values[i] = null;
    else if (ascii) values[i] = text.substring(offsets[i], offsets[i + 1]);
    else values[i] = decodeURIComponent(escape(text.substring(offsets[i], offsets[i + 1])));
  }
  return values;
}

/** `{ data, offsets, nulls }` of `values`; a value that is not a string or null throws,
 * naming its index. */
export function encode(values) {
  const count = values.length;
  const nulls = new Uint8Array((count + 7) >> 3);
  for (let i = 0; i < count; i++) {
    const value = values[i];
    if (value === null || value === undefined) nulls[i >> 3] |= 1 << (i & 7);
    else if (typeof value !== "string") throw new TypeError(`value ${i} is ${typeof value}, not a string or null`);
  }
  // one char per UTF-8 byte for the values that need it (join writes null as "")
  const parts = NON_ASCII.test(values.join("")) ? values.map((v) => (v == null ? v : binary(v))) : values;
  const offsets = new Array(count + 1);
  offsets[0] = 0;
  for (let i = 0, total = 0; i < count; i++) offsets[i + 1] = total += parts[i] == null ? 0 : parts[i].length;
  return { data: bytesOf(parts.join("")), offsets, nulls };
}

// --- the three calls, in plain values (also what testing.js runs) ----------------------------

const kebab = (name) => name.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
const failed = (what, error) => `${what}: ${error && error.name ? error.name + ": " + error.message : String(error)}`;

/** Strategy `call.strategy` and how to name it in an error. */
function registered(call) {
  const found = PLUGIN.strategies.get(call.strategy);
  if (!found) throw `no strategy ${JSON.stringify(call.strategy)} (it has: ${[...PLUGIN.strategies.keys()].join(", ") || "none"})`;
  return [found, `strategy ${call.strategy} on ${call.column.table}.${call.column.name}`];
}

/** Runs strategy `call.strategy` on a packed `batch` (its `context` columns packed too): a
 * `batchStrategy` gets it as it is, a `strategy` its values decoded. Returns the packed result,
 * checked for shape (the host checks every value too). */
export function runPacked(call, batch) {
  const [found, what] = registered(call);
  if (!found.packed) {
    const context = {};
    for (const [name, column] of Object.entries(call.context)) context[name] = decode(column);
    return runStrategy({ ...call, context }, decode(batch));
  }
  let out;
  try {
    out = found.fn(batch, call);
  } catch (error) {
    throw failed(what, error);
  }
  const count = batch.offsets.length - 1;
  const shaped = out && out.data instanceof Uint8Array && out.offsets && out.offsets.length === count + 1 && out.nulls && out.nulls.length >= (count + 7) >> 3;
  if (!shaped || out.offsets[count] !== out.data.length) {
    throw `${what}: did not return a batch of ${count} values ({ data: Uint8Array, offsets: ${count + 1} ending at data.length, nulls })`;
  }
  return out;
}

/** Runs strategy `call.strategy` (a `strategy`) on `values`, checking what it returns. */
export function runStrategy(call, values) {
  const [found, what] = registered(call);
  if (found.packed) throw `${what}: a batchStrategy runs on a packed batch (runPacked)`;
  let out;
  try {
    out = found.fn(values, call);
  } catch (error) {
    throw failed(what, error);
  }
  if (!Array.isArray(out) || out.length !== values.length) {
    throw `${what}: returned ${Array.isArray(out) ? out.length : typeof out} values for ${values.length}`;
  }
  try {
    return encode(out);
  } catch (error) {
    throw `${what}: ${error.message}`;
  }
}

/** Runs the hook for `context.event`. */
export function runHook(context) {
  const fn = PLUGIN.hooks.get(context.event);
  if (!fn) throw `no hook for ${context.event}`;
  try {
    fn(context, db);
  } catch (error) {
    throw failed(`hook ${context.event}`, error);
  }
}

/** Runs every enabled rule: violations with their rule id and severity. */
export function runLint(context) {
  const enabled = context.enabledRules && context.enabledRules.length ? new Set(context.enabledRules) : null;
  const found = [];
  for (const rule of PLUGIN.rules.values()) {
    if (enabled && !enabled.has(rule.id)) continue;
    for (const v of rule.fn(context) || []) {
      found.push({ ruleId: rule.id, severity: rule.severity, message: v.message, location: v.location || null, suggestion: v.suggestion || null, fix: v.fix || null });
    }
  }
  return found;
}

/** The component's exports, in the contract's shapes: `export const { metadata, strategy } =
 * confiture.exports;` (take the ones of your world: `hooks`, `strategy`, `lint`). */
export const exports = {
  metadata: {
    describe() {
      return {
        name: PLUGIN.name,
        version: PLUGIN.version,
        description: PLUGIN.description,
        capabilities: PLUGIN.capabilities,
        hooks: [...PLUGIN.hooks.keys()],
        strategies: [...PLUGIN.strategies.values()].map((s) => ({ name: s.name, description: s.description, contextColumns: s.contextColumns, acceptedTypes: s.acceptedTypes, deterministic: s.deterministic })),
        rules: [...PLUGIN.rules.values()].map((r) => ({ id: r.id, category: r.category, defaultSeverity: r.severity, description: r.description })),
      };
    },
  },
  strategy: {
    anonymize(batch) {
      const context = {};
      for (const column of batch.context) context[column.name] = column.values;
      const params = {};
      for (const { key, value } of batch.params) params[key] = value;
      return runPacked({ strategy: batch.strategy, column: batch.column, params, context }, batch.values);
    },
  },
  hooks: {
    handle(context) {
      const metadata = {};
      for (const { key, value } of context.metadata) metadata[key] = value;
      runHook({ ...context, event: kebab(context.event), metadata });
    },
  },
  lint: {
    check(context) {
      return runLint(context);
    },
  },
};
