// The JavaScript SDK under Node: packing, checks on what functions return, the host doubles.
// Run: `node --import ./testing.js --test` in sdk/js.
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";

import host from "confiture:plugin/host@0.2.0";
import * as confiture from "./confiture.js";
import * as testing from "./testing.js";

confiture.plugin({ host, name: "sdk-test", version: "1.0.0", description: "SDK test" });
beforeEach(() => testing.reset());

test("packing round-trips ASCII, non-ASCII, empty strings and nulls", () => {
  for (const values of [[], ["a"], [null], ["", null, "é", "x".repeat(1000)], [...Array(17).fill(null), "last"], ["日本", "ascii", "☎ ９"]]) {
    const packed = confiture.encode(values);
    assert.equal(packed.offsets.length, values.length + 1);
    assert.deepEqual(confiture.decode(packed), values);
  }
  assert.deepEqual([...confiture.encode(["a", null, "b", null]).nulls], [0b1010]);
  assert.deepEqual([...confiture.encode(["é"]).data], [0xc3, 0xa9]);
});

test("a strategy must return one string or null per input; errors name plugin, call and type", () => {
  confiture.strategy("short", "drops one", (values) => values.slice(1));
  confiture.strategy("numbers", "returns numbers", (values) => values.map(() => 1));
  confiture.strategy("boom", "throws", (values, call) => {
    throw new RangeError(`bad ${call.params.p}`);
  });
  assert.throws(() => testing.runStrategy("short", ["a", "b"]), /plugin sdk-test: strategy short on t.c: returned 1 values for 2/);
  assert.throws(() => testing.runStrategy("numbers", ["a"]), /value 0 is number, not a string or null/);
  assert.throws(() => testing.runStrategy("boom", ["a"], { params: { p: "1" } }), /strategy boom on t.c: RangeError: bad 1/);
  assert.throws(() => testing.runStrategy("nope", ["a"]), /no strategy "nope"/);
});

test("keyedHashBatch gives keyedHash of each item; no secret is an error", () => {
  assert.throws(() => confiture.keyedHash(new Uint8Array([1])), /secret/);
  testing.setSecret("Jefe");
  const digest = confiture.keyedHash(new TextEncoder().encode("what do ya want for nothing?"));
  assert.equal(Buffer.from(digest).toString("hex").slice(0, 8), "5bdcc146"); // RFC 4231 case 2
  const items = [new Uint8Array([97]), "", "é", new TextEncoder().encode("é")];
  assert.deepEqual(confiture.keyedHashBatch(items).map((d) => [...d]), items.map((i) => [...confiture.keyedHash(i)]));
  assert.deepEqual([...confiture.keyedHash("é")], [...confiture.keyedHash(new Uint8Array([0xc3, 0xa9]))]);
});

test("declarations and log levels are checked; config, logs and the database come from the doubles", () => {
  assert.throws(() => confiture.hook(["post-exec"], () => {}), /hook event "post-exec" is not one of/);
  assert.throws(() => confiture.rule("r", "d", () => [], { severity: "error" }), /severity "error"/);
  assert.throws(() => confiture.log("fatal", "x"), /log level "fatal"/);
  testing.setConfig("table", "users");
  assert.equal(confiture.config("table"), "users");
  assert.equal(confiture.config("missing", "default"), "default");
  confiture.log("warn", "careful");
  assert.deepEqual(testing.logs(), [["warn", "careful"]]);
  assert.throws(() => confiture.db.query("SELECT 1"), /no database/);
});

// The digit helpers against a per-character reference.
const ODD = ["+33 ６１２", "tél. 06 12", "50% off: 555-0100", "%c%s $& $1 12345", "1".repeat(5000), "12", "7", "", null, "no digits", "☎ (555) 010-99 ９", "٣٤٥ 123", "😀 42 😀 4242"];
const source = (i) => new Uint8Array(Array.from({ length: 32 }, (_, k) => (i * 31 + k * 7) % 256));

function expectedReplace(value, src, keepLast) {
  if (value === null) return null;
  const count = value.replace(/[^0-9]/g, "").length;
  let seen = 0;
  return [...value].map((c) => (/[0-9]/.test(c) ? (seen++ < count - keepLast ? String(src[(seen - 1) % src.length] % 10) : c) : c)).join("");
}

test("digits gives each value's ASCII digits; replaceDigits rewrites all but the last keepLast", () => {
  assert.deepEqual(confiture.digits(["+33 6 12", null, "", "n°", "+33 ６１２", "tél. 06 12", "5%"]), ["33612", "", "", "", "33", "0612", "5"]);
  assert.deepEqual(confiture.digits([]), []);
  for (const keepLast of [0, 2, 4, 40]) {
    const values = [...ODD, ...Array.from({ length: 50 }, (_, i) => `+33 6 ${i} 00 ${i % 7}`)];
    const sources = values.map((_, i) => source(i));
    assert.deepEqual(confiture.replaceDigits(values, sources, keepLast), values.map((v, i) => expectedReplace(v, sources[i], keepLast)));
  }
  const short = [new Uint8Array([1, 2]), new Uint8Array([3]), new Uint8Array([4, 5, 6])]; // reused from their start
  assert.deepEqual(confiture.replaceDigits(["1234567", "7654321", "1"], short), ["1212121", "3333333", "4"]);
});

test("replaceDigits keeps nulls and checks its arguments", () => {
  assert.deepEqual(confiture.replaceDigits([null, null], [new Uint8Array(1), new Uint8Array(1)]), [null, null]);
  assert.deepEqual(confiture.replaceDigits([], []), []);
  assert.throws(() => confiture.replaceDigits(["1", "2"], [new Uint8Array(1)]), /1 sources for 2 values/);
  assert.throws(() => confiture.replaceDigits(["1"], [new Uint8Array(1)], -1), /keepLast is -1/);
  assert.throws(() => confiture.replaceDigits(["12", "34"], [new Uint8Array(1), new Uint8Array(0)]), /source 1 is empty/);
  assert.throws(() => confiture.digits(["1\udcff2"]), /lone surrogate/);
});

test("keyedHashBatch of strings only hashes each as UTF-8, ASCII or not", () => {
  testing.setSecret("Jefe");
  for (const items of [["555", "", "0612"], ["é", "", "☎ 12"]]) {
    assert.deepEqual(confiture.keyedHashBatch(items).map((d) => [...d]), items.map((i) => [...confiture.keyedHash(i)]));
  }
});

test("on a packed batch, batchDigits and replaceBatchDigits agree with digits and replaceDigits", () => {
  testing.setSecret("Jefe");
  for (const keepLast of [0, 2, 4, 40]) {
    const values = [...ODD, ...Array.from({ length: 50 }, (_, i) => `+33 6 ${i} 00 ${i % 7}`)];
    const batch = confiture.encode(values);
    const found = confiture.batchDigits(batch);
    const asText = (i) => Buffer.from(found.data.subarray(found.offsets[i], found.offsets[i + 1])).toString();
    assert.deepEqual(values.map((_, i) => asText(i)), confiture.digits(values));
    const sources = confiture.keyedHashPacked(found);
    assert.equal(sources.length, 32 * values.length);
    const perValue = values.map((_, i) => sources.subarray(32 * i, 32 * i + 32));
    assert.deepEqual(perValue.map((s) => [...s]), confiture.keyedHashBatch(confiture.digits(values)).map((d) => [...d]));
    const out = confiture.replaceBatchDigits(batch, found, sources, keepLast);
    assert.deepEqual(confiture.decode(out), confiture.replaceDigits(values, perValue, keepLast));
    assert.deepEqual(confiture.decode(batch), values, "the input batch is left as it was");
  }
  const empty = confiture.encode([]);
  assert.deepEqual(confiture.decode(confiture.replaceBatchDigits(empty, confiture.batchDigits(empty), new Uint8Array(0))), []);
  const two = confiture.encode(["1", "2"]);
  assert.throws(() => confiture.replaceBatchDigits(two, confiture.batchDigits(two), new Uint8Array(32)), /32 source bytes for 2 values/);
  assert.throws(() => confiture.replaceBatchDigits(two, confiture.batchDigits(two), new Uint8Array(64), -1), /keepLast is -1/);
  assert.throws(() => confiture.replaceBatchDigits(two, confiture.batchDigits(confiture.encode(["1"])), new Uint8Array(64)), /digits of 1 values for 2/);
});

test("a batch strategy gets the packed batch and must return one of the same length", () => {
  confiture.batchStrategy("same", "returns its input", (batch) => batch);
  confiture.batchStrategy("short", "drops a value", (batch) => confiture.encode(confiture.decode(batch).slice(1)));
  confiture.batchStrategy("strings", "returns strings", (batch) => confiture.decode(batch));
  confiture.batchStrategy("context", "reads its context packed", (batch, call) => confiture.encode(confiture.decode(call.context.country)));
  assert.deepEqual(testing.runStrategy("same", ["a", null, "é"]), ["a", null, "é"]);
  assert.deepEqual(testing.runStrategy("context", ["a", "b"], { context: { country: ["FR", null] } }), ["FR", null]);
  assert.throws(() => testing.runStrategy("short", ["a", "b"]), /plugin sdk-test: strategy short on t.c: did not return a batch of 2 values/);
  assert.throws(() => testing.runStrategy("strings", ["a"]), /did not return a batch of 1 values/);
  assert.throws(() => confiture.runStrategy({ strategy: "same", column: { table: "t", name: "c" }, params: {}, context: {} }, ["a"]), /runs on a packed batch/);
});
