// The test double of `confiture:plugin/host`, reading testing.js's state.
import { keyedHash, state } from "./testing.js";

export default {
  log: (level, message) => void state.logs.push([level, message]),
  config: (key) => (key in state.config ? state.config[key] : null),
  keyedHash,
  keyedHashBatch(data, offsets) {
    const out = new Uint8Array((offsets.length - 1) * 32);
    for (let i = 0; i + 1 < offsets.length; i++) out.set(keyedHash(data.subarray(offsets[i], offsets[i + 1])), i * 32);
    return out;
  },
};
