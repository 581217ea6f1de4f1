"""Packing and unpacking the contract's ``text-batch`` (one buffer, offsets, a null bitmap)
with as little Python-level work per value as possible."""

from __future__ import annotations

from itertools import accumulate, islice
from typing import Optional


def decode(data: bytes, offsets: list[int], nulls: bytes) -> list[Optional[str]]:
    """The values of a packed batch; ``None`` is SQL NULL."""
    ends = islice(offsets, 1, None)
    if data.isascii():  # byte offsets are character offsets: slice the text
        text = data.decode("ascii")
        values = [text[a:b] for a, b in zip(offsets, ends)]
    else:
        values = [data[a:b].decode() for a, b in zip(offsets, ends)]
    if any(nulls):
        for byte_index, byte in enumerate(nulls):
            for bit in range(8) if byte else ():
                if byte >> bit & 1 and byte_index * 8 + bit < len(values):
                    values[byte_index * 8 + bit] = None
    return values


def encode(values: list[Optional[str]]) -> tuple[bytes, list[int], bytes]:
    """``(data, offsets, nulls)`` of ``values``; a value that is not text is a ``TypeError``
    naming its index."""
    nulls = bytearray((len(values) + 7) // 8)
    if None in values:
        for i, value in enumerate(values):
            if value is None:
                nulls[i >> 3] |= 1 << (i & 7)
        values = ["" if v is None else v for v in values]
    try:
        text = "".join(values)
    except TypeError:
        bad = next(i for i, v in enumerate(values) if not isinstance(v, str))
        raise TypeError(
            f"value {bad} is {type(values[bad]).__name__}, not str or None"
        ) from None
    if text.isascii():
        data, lengths = text.encode("ascii"), map(len, values)
    else:
        encoded = [v.encode() for v in values]
        data, lengths = b"".join(encoded), map(len, encoded)
    return data, list(accumulate(lengths, initial=0)), bytes(nulls)
