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
