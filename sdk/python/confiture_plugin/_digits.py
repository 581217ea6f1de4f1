"""Batch helpers for strategies that rewrite the digits of values (phone numbers, card numbers,
account numbers), at batch speed: each works on a whole batch with a few builtin calls over one
joined buffer instead of a Python loop per value — what keeps CPython compiled to WebAssembly
fast enough for a sync.

A digit here is an ASCII digit ``0``–``9``; every other character (``+``, spaces, ``%``,
letters, non-ASCII digits such as ``６``) stays as it is. ``None`` (SQL NULL) has no digits
and stays ``None``.
"""

from __future__ import annotations

from collections import Counter
from itertools import accumulate, chain, compress, repeat
from operator import add, getitem, gt, ne, sub
from typing import Iterable, Optional

#: Joins the values: it encodes (``surrogateescape``) to byte 0xFF, which UTF-8 never holds.
_SEPARATOR = "\udcff"
_SEPARATOR_BYTE = b"\xff"
#: Marks a digit's place in the joined values; 0xFE never occurs in UTF-8 either.
_SLOT = b"\xfe"
_DIGITS = b"0123456789"
_NOT_DIGITS = bytes(sorted(set(range(256)) - set(_DIGITS + _SEPARATOR_BYTE)))
_DIGIT_SLOTS = bytes.maketrans(_DIGITS, _SLOT * 10)
#: A digest byte to an ASCII digit: ``byte % 10``.
_TO_DIGIT = bytes(48 + byte % 10 for byte in range(256))
_NONE_AS_EMPTY = {None: ""}
_NONE_STAYS = {None: None}


def _joined(values: list[Optional[str]]) -> bytes:
    """The values' UTF-8, separated by 0xFF bytes (``None`` as empty)."""
    texts = map(_NONE_AS_EMPTY.get, values, values) if None in values else values
    joined = _SEPARATOR.join(texts).encode("utf-8", "surrogateescape")
    if joined.count(_SEPARATOR_BYTE) != len(values) - 1:
        raise ValueError("a value holds the lone surrogate U+DCFF, which is not text")
    return joined


def digits(values: list[Optional[str]]) -> list[bytes]:
    """The ASCII digits of each value, as bytes (``b""`` for ``None`` and for a value without
    digits): ``digits(["+33 6 12", None, "n°"])`` is ``[b"33612", b"", b""]``."""
    values = list(values)
    if not values:
        return []
    return _joined(values).translate(None, _NOT_DIGITS).split(_SEPARATOR_BYTE)


def replace_digits(
    values: list[Optional[str]], sources: Iterable[bytes], keep_last: int = 0
) -> list[Optional[str]]:
    """Each value with its ASCII digits, except the last ``keep_last``, replaced by digits drawn
    from ``sources[i]`` (bytes, e.g. the value's keyed-hash digest): digit ``j`` becomes
    ``sources[i][j % len(sources[i])] % 10``. Every other character stays in place; a value
    with ``keep_last`` digits or fewer, and ``None``, stay as they are.

    Values of one shape (the same characters around their digits, as a column written by one
    application holds) are rewritten with one slice assignment per digit position for the
    whole batch; the others with one ``%``-format over all of them."""
    values, sources = list(values), list(sources)
    if len(sources) != len(values):
        raise ValueError(f"{len(sources)} sources for {len(values)} values")
    if keep_last < 0:
        raise ValueError(f"keep_last is {keep_last}, not 0 or more")
    if not values:
        return []
    joined = _joined(values)
    shapes = joined.translate(_DIGIT_SLOTS).split(_SEPARATOR_BYTE)
    shape = shapes[0]
    if shapes.count(shape) * 2 < len(values):  # the most common shape instead
        counted = Counter(shapes)
        shape = max(counted, key=counted.__getitem__)  # (most_common needs heapq: not bundled)
    count = shapes.count(shape)
    sizes = set(map(len, sources))
    if count * 2 >= len(values) and len(sizes) == 1 and 0 not in sizes:
        others = list(compress(range(len(values)), map(ne, shapes, repeat(shape))))
        out = _text(_replace_in_shape(joined, shape, others, sources, keep_last))
        if others:
            rest = _text(_replace_each(_joined([values[i] for i in others]),
                                       [sources[i] for i in others], keep_last))
            for i, value in zip(others, rest):
                out[i] = value
    else:
        out = _text(_replace_each(joined, sources, keep_last))
    return list(map(_NONE_STAYS.get, values, out)) if None in values else out


def _text(joined: bytes) -> list[str]:
    return joined.decode("utf-8", "surrogateescape").split(_SEPARATOR)


def _replace_in_shape(
    joined: bytes, shape: bytes, others: list[int], sources: list[bytes], keep_last: int
) -> bytes:
    """The joined values with the digits of every value of ``shape`` replaced: all values then
    sit at one stride, so digit position ``p`` of every value is one extended slice. The values
    at ``others`` (other shapes) are left for :func:`_replace_each` (their bytes are garbage)."""
    if others:
        parts = joined.split(_SEPARATOR_BYTE)
        for i in others:
            parts[i] = shape
        joined = _SEPARATOR_BYTE.join(parts)
    out = bytearray(joined)
    stride, size = len(shape) + 1, len(sources[0])
    table = b"".join(sources).translate(_TO_DIGIT)
    places = [place for place, byte in enumerate(shape) if byte == _SLOT[0]]
    for rank, place in enumerate(places[: max(len(places) - keep_last, 0)]):
        out[place::stride] = table[rank % size :: size]
    return bytes(out)


def _replace_each(joined: bytes, sources: list[bytes], keep_last: int) -> bytes:
    """The joined values with their digits replaced, whatever their shapes: every value's new
    digits in one stream, written into the digits' places by one ``%``-format."""
    old = joined.translate(None, _NOT_DIGITS).split(_SEPARATOR_BYTE)
    lengths = list(map(len, sources))
    starts = list(accumulate(lengths, initial=0))
    # `keep_last` bytes in front: value i's new digits are table[start + keep_last : start + k].
    table = bytes(keep_last) + b"".join(sources).translate(_TO_DIGIT)
    counts = list(map(len, old))
    heads = list(map(table.__getitem__, map(slice, map(add, starts, repeat(keep_last)),
                                            map(add, starts, counts))))
    for i in compress(range(len(old)), map(gt, map(sub, counts, repeat(keep_last)), lengths)):
        # more digits to replace than the source has bytes: the source again from its start
        if not lengths[i]:
            raise ValueError(f"source {i} is empty: no digits can come from it")
        digits = table[starts[i] + keep_last : starts[i + 1] + keep_last]
        heads[i] = (digits * (counts[i] // lengths[i] + 1))[: counts[i] - keep_last]
    tails = map(getitem, old, repeat(slice(-keep_last, None))) if keep_last else repeat(b"")
    stream = b"".join(chain.from_iterable(zip(heads, tails)))
    template = joined.replace(b"%", b"%%").translate(_DIGIT_SLOTS).replace(_SLOT, b"%c")
    return template % tuple(stream)
