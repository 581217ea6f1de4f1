"""The digit helpers (`digits`, `replace_digits`) against a per-character reference, on both of
`replace_digits`' paths: a batch of one shape (slice assignments) and of mixed shapes (one
%-format). Run: `python -m pytest sdk/python/tests` (with sdk/python on PYTHONPATH)."""
import hashlib

import pytest

import confiture_plugin as confiture

ODD = ["+33 ６１２", "tél. 06 12", "50% off: 555-0100", "%c%s %d 12345", "1" * 5000, "12", "7",
       "", None, "no digits", "☎ (555) 010-99 ９", "٣٤٥ 123"]


def source(i):
    return hashlib.sha256(str(i).encode()).digest()


def expected(value, digest, keep_last):
    """Digit j of the value, for j below (digits - keep_last), becomes digest[j % len] % 10."""
    if value is None:
        return None
    count = sum(c in "0123456789" for c in value)
    out, seen = [], 0
    for c in value:
        if c in "0123456789":
            if seen < count - keep_last:
                c = str(digest[seen % len(digest)] % 10)
            seen += 1
        out.append(c)
    return "".join(out)


def check(values, keep_last, sources=None):
    sources = sources or [source(i) for i in range(len(values))]
    assert confiture.replace_digits(values, sources, keep_last) == [
        expected(v, s, keep_last) for v, s in zip(values, sources)
    ]


def test_digits_are_the_ascii_digits_of_each_value():
    assert confiture.digits(["+33 6 12", None, "", "n°", "+33 ６１２", "tél. 06 12", "5%"]) == [
        b"33612", b"", b"", b"", b"33", b"0612", b"5"]
    assert confiture.digits([]) == []
    assert confiture.digits(["1" * 100_000]) == [b"1" * 100_000]


@pytest.mark.parametrize("keep_last", [0, 2, 4])
def test_odd_values_in_a_batch_of_mixed_shapes(keep_last):
    check(ODD, keep_last)


@pytest.mark.parametrize("keep_last", [0, 2, 40])
def test_a_batch_of_one_shape_with_a_few_others(keep_last):
    phones = [f"+33 6 {i % 100:02} {i % 89:02} 00 {i % 7:02}" for i in range(300)]
    check(phones, keep_last)  # one shape only
    check(phones[:200] + ODD + phones[200:], keep_last)  # the shape, and exceptions
    check([None] * 10 + ["(01) 23"] * 5, keep_last)  # the shape is no digits at all


def test_long_values_reuse_the_source_from_its_start():
    check(["9" * 100] * 3, 2)  # one shape
    check(["9" * 100, "8" * 33, None], 2)  # mixed shapes
    check(["1234567", "7654321", "1"], 0, [b"\x01\x02", b"\x03", b"\x04\x05\x06"])  # short sources


def test_percent_signs_and_format_specifiers_in_values_are_text():
    check(["100%", "%s 12 %%", "%(x)s 99 %c"] * 3, 1)


def test_it_keeps_nulls_and_checks_its_arguments():
    assert confiture.replace_digits([None, None], [b"x", b"y"]) == [None, None]
    assert confiture.replace_digits([], []) == []
    with pytest.raises(ValueError, match="1 sources for 2 values"):
        confiture.replace_digits(["1", "2"], [b"x"])
    with pytest.raises(ValueError, match="keep_last is -1"):
        confiture.replace_digits(["1"], [b"x"], keep_last=-1)
    with pytest.raises(ValueError, match="source 1 is empty"):
        confiture.replace_digits(["12", "34", "5"], [b"x", b"", b"z"])
    with pytest.raises(ValueError, match="lone surrogate"):
        confiture.digits(["1\udcff2"])
