"""Strategy `phone_mask`: all but the last two digits replaced from the keyed hash of the digits."""
import confiture_plugin as confiture
from confiture_plugin.exports import Metadata, Strategy  # noqa: F401  (what the component exports)

confiture.plugin("python-strategy", "0.2.0", "Masks phone numbers, keeping their last two digits")


@confiture.strategy("phone_mask", "Replaces all but the last 2 digits, deterministically")
def phone_mask(values, call):
    # Whole-batch helpers (builtins over one buffer, no Python loop per value): each value's
    # ASCII digits, their keyed hashes in one host call, then every digit but the last two
    # replaced by `digest[j % 32] % 10`.
    digests = confiture.keyed_hash_batch(confiture.digits(values))
    return confiture.replace_digits(values, digests, keep_last=2)
