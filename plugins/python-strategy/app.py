"""Strategy `phone_mask`, a Confiture plugin in Python (built with componentize-py).

Keeps a phone number's last two digits and its formatting (`+`, spaces, dashes, brackets) and
replaces every other digit with one derived from the keyed hash of the number's digits: the same
number masks the same way in every table and run, and the plugin never sees the secret. NULL
stays NULL.

Build: `cargo xtask build-plugins` (see BUILD.md).
"""

from typing import List, Optional

import wit_world
from wit_world.exports import metadata, strategy
from wit_world.imports import host, types
from componentize_py_types import Err

NAME = "python-strategy"
STRATEGY = "phone_mask"
KEEP = 2  # trailing digits kept as they are


def decode(batch: strategy.TextBatch) -> List[Optional[str]]:
    """The values of a packed batch; None is SQL NULL."""
    data, offsets, nulls = batch.data, batch.offsets, batch.nulls
    count = len(offsets) - 1
    return [
        None
        if nulls[i >> 3] & (1 << (i & 7))
        else data[offsets[i] : offsets[i + 1]].decode("utf-8")
        for i in range(count)
    ]


def encode(values: List[Optional[str]]) -> strategy.TextBatch:
    """Packs values (None is SQL NULL) into a batch."""
    parts = []
    offsets = [0]
    nulls = bytearray((len(values) + 7) // 8)
    end = 0
    for i, value in enumerate(values):
        if value is None:
            nulls[i >> 3] |= 1 << (i & 7)
        else:
            raw = value.encode("utf-8")
            parts.append(raw)
            end += len(raw)
        offsets.append(end)
    return strategy.TextBatch(data=b"".join(parts), offsets=offsets, nulls=bytes(nulls))


def mask(phone: str) -> str:
    """The phone number with all but its last KEEP digits replaced deterministically."""
    digits = [c for c in phone if c.isdigit()]
    if len(digits) <= KEEP:
        return phone
    digest = host.keyed_hash("".join(digits).encode("utf-8"))
    to_replace = len(digits) - KEEP
    out = []
    seen = 0
    for c in phone:
        if c.isdigit():
            if seen < to_replace:
                c = str(digest[seen % len(digest)] % 10)
            seen += 1
        out.append(c)
    return "".join(out)


class Metadata(wit_world.exports.Metadata):
    def describe(self) -> metadata.PluginInfo:
        return metadata.PluginInfo(
            name=NAME,
            version="0.1.0",
            description="Masks phone numbers, keeping their last two digits (Python)",
            capabilities=[],
            hooks=[],
            strategies=[
                metadata.StrategyInfo(
                    name=STRATEGY,
                    description="Replaces all but the last 2 digits, deterministically",
                    context_columns=[],
                    accepted_types=["text", "character varying"],
                    deterministic=True,
                )
            ],
            rules=[],
        )


class Strategy(wit_world.exports.Strategy):
    def anonymize(self, batch: strategy.Batch) -> strategy.TextBatch:
        if batch.strategy != STRATEGY:
            raise Err(f"{NAME} has no strategy {batch.strategy}")
        try:
            values = decode(batch.values)
            return encode([None if v is None else mask(v) for v in values])
        except Err:
            raise
        except Exception as error:  # a bad batch or a failed host call: fail the table clearly
            raise Err(f"{STRATEGY} on {batch.column.table}.{batch.column.name}: {error}")
