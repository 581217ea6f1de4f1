// Strategy `phone_mask_js`: all but the last two digits replaced from the keyed hash of the digits.
import host from "confiture:plugin/host@0.2.0";
import * as confiture from "./confiture/confiture.js";

confiture.plugin({ host, name: "js-strategy", version: "0.2.0", description: "Masks phone numbers, keeping their last two digits" });
confiture.strategy("phone_mask_js", "Replaces all but the last 2 digits, deterministically", (values) => {
  const digits = values.map((value) => (value === null ? "" : value.replace(/[^0-9]/g, "")));
  const digests = confiture.keyedHashBatch(digits.filter((d) => d.length > 2));
  let next = 0;
  return values.map((value, i) => {
    if (digits[i].length <= 2) return value;
    const digest = digests[next++], replaced = digits[i].length - 2, codes = new Array(value.length);
    for (let k = 0, seen = 0; k < value.length; k++) { // digit j < replaced: digest[j % 32] % 10
      const c = value.charCodeAt(k), digit = c >= 48 && c <= 57;
      codes[k] = digit && seen < replaced ? 48 + (digest[seen % 32] % 10) : c;
      seen += digit;
    }
    return String.fromCharCode.apply(null, codes);
  });
});

export const { metadata, strategy } = confiture.exports;
