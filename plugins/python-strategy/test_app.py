"""Native tests of `phone_mask` (plain CPython: `python -m pytest`), against an independent
HMAC-SHA-256 computation of the same rule."""
import hashlib
import hmac

import pytest

import app  # noqa: F401  (declares the plugin)
from confiture_plugin import PluginError, testing

SECRET = b"test secret"


@pytest.fixture(autouse=True)
def fresh():
    testing.reset()
    testing.set_secret(SECRET)


def expected(phone):
    digits = [c for c in phone if c in "0123456789"]
    if len(digits) <= 2:
        return phone
    digest = hmac.new(SECRET, "".join(digits).encode(), hashlib.sha256).digest()
    out, seen = [], 0
    for c in phone:
        if c in "0123456789":
            c = str(digest[seen % 32] % 10) if seen < len(digits) - 2 else c
            seen += 1
        out.append(c)
    return "".join(out)


def test_masks_like_the_rule_says_and_keeps_nulls_short_values_and_other_characters():
    values = ["+33 6 12 34 56 78", None, "12", "", "50% off: 555-0100", "☎ (555) 010-99 ９",
              "1" * 70]
    assert testing.run_strategy("phone_mask", values) == [
        None if v is None else expected(v) for v in values
    ]


def test_is_deterministic_and_depends_on_the_secret():
    first = testing.run_strategy("phone_mask", ["555 0100", "555-0100"])
    assert first[0].replace(" ", "-") == first[1]
    testing.set_secret(b"another secret")
    assert testing.run_strategy("phone_mask", ["555 0100"])[0] != first[0]


def test_fails_with_the_plugin_name_without_a_secret():
    testing.reset()
    with pytest.raises(PluginError, match="plugin python-strategy: strategy phone_mask .*secret"):
        testing.run_strategy("phone_mask", ["555 0100"])
