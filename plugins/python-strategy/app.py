"""Strategy `phone_mask`: all but the last two digits replaced from the keyed hash of the digits."""
import confiture_plugin as confiture
from confiture_plugin.exports import Metadata, Strategy  # noqa: F401  (what the component exports)

confiture.plugin("python-strategy", "0.2.0", "Masks phone numbers, keeping their last two digits")
NOT_DIGITS = bytes(set(range(256)) - set(b"0123456789"))
TO_DIGIT = bytes(48 + byte % 10 for byte in range(256))  # a digest byte -> an ASCII digit
SLOTS = str.maketrans({**dict.fromkeys("0123456789", "%c"), "%": "%%"})


@confiture.strategy("phone_mask", "Replaces all but the last 2 digits, deterministically")
def phone_mask(values, call):
    digits = [value.encode().translate(None, NOT_DIGITS) if value else b"" for value in values]
    digests = iter(confiture.keyed_hash_batch(d for d in digits if len(d) > 2))
    for i, d in enumerate(digits):
        if len(d) > 2:  # the digest repeated to cover long numbers, the last 2 digits kept
            new = (next(digests) * (len(d) // 32 + 1))[: len(d) - 2].translate(TO_DIGIT)
            values[i] = values[i].translate(SLOTS) % tuple(new + d[-2:])
    return values
