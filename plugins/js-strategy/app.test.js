// Native tests of `phone_mask_js` under Node: `node --import ./confiture/testing.js --test`.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { beforeEach, test } from "node:test";

import * as testing from "./confiture/testing.js";
import "./app.js";

const SECRET = "test secret";
beforeEach(() => {
  testing.reset();
  testing.setSecret(SECRET);
});

function expected(phone) {
  const digits = phone.replace(/[^0-9]/g, "");
  if (digits.length <= 2) return phone;
  const digest = createHmac("sha256", SECRET).update(digits).digest();
  let seen = 0;
  return [...phone].map((c) => (/[0-9]/.test(c) ? (seen++ < digits.length - 2 ? String(digest[(seen - 1) % 32] % 10) : c) : c)).join("");
}

test("masks like the rule says and keeps nulls, short values and other characters", () => {
  const values = ["+33 6 12 34 56 78", null, "12", "", "50% off: 555-0100", "☎ (555) 010-99 ９", "1".repeat(70)];
  assert.deepEqual(testing.runStrategy("phone_mask_js", values), values.map((v) => (v === null ? null : expected(v))));
});

test("is deterministic and fails with the plugin name without a secret", () => {
  const [a, b] = testing.runStrategy("phone_mask_js", ["555 0100", "555-0100"]);
  assert.equal(a.replace(" ", "-"), b);
  testing.reset();
  assert.throws(() => testing.runStrategy("phone_mask_js", ["555 0100"]), /plugin js-strategy: strategy phone_mask_js on t.c: .*secret/);
});
