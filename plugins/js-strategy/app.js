// Strategy `phone_mask_js`: all but the last two digits replaced from the keyed hash of the digits.
import host from "confiture:plugin/host@0.2.0";
import * as confiture from "./confiture/confiture.js";

confiture.plugin({ host, name: "js-strategy", version: "0.2.0", description: "Masks phone numbers, keeping their last two digits" });
confiture.batchStrategy("phone_mask_js", "Replaces all but the last 2 digits, deterministically", (batch) => {
  // On the packed batch, no value made a string: each value's ASCII digits, their keyed hashes
  // in one host call, then every digit but the last two replaced by `digest[j % 32] % 10`.
  const found = confiture.batchDigits(batch);
  return confiture.replaceBatchDigits(batch, found, confiture.keyedHashPacked(found), 2);
});

export const { metadata, strategy } = confiture.exports;
