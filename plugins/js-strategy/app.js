// Strategy `phone_mask_js`: all but the last two digits replaced from the keyed hash of the digits.
import host from "confiture:plugin/host@0.2.0";
import * as confiture from "./confiture/confiture.js";

confiture.plugin({ host, name: "js-strategy", version: "0.2.0", description: "Masks phone numbers, keeping their last two digits" });
confiture.strategy("phone_mask_js", "Replaces all but the last 2 digits, deterministically", (values) => {
  // Whole-batch helpers (native calls over one joined string, no loop per character): each
  // value's ASCII digits, their keyed hashes in one host call, then every digit but the last
  // two replaced by `digest[j % 32] % 10`.
  const digests = confiture.keyedHashBatch(confiture.digits(values));
  return confiture.replaceDigits(values, digests, 2);
});

export const { metadata, strategy } = confiture.exports;
