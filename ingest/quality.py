"""What a normaliser met that it could not use as typed, counted per snapshot and never hidden.

A live hub sometimes sends a field of the wrong type (a list where an object belongs, a string
where a list belongs) or a timestamp no known shape matches. Normalisers never raise on such an
item: the value becomes null (or an empty list), the count goes into the snapshot's manifest
(`unparsed`, `odd_values`, `undated`), and the whole item stays in `raw_json` and the stored page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

# Python types a typed column takes as they are; anything else is an odd value (null).
_ACCEPTED: dict[Any, tuple[type, ...]] = {
    pl.Int64: (int,),
    pl.Float64: (int, float),
    pl.Boolean: (bool,),
    pl.String: (str,),
}


@dataclass
class Quality:
    """Counts of values a snapshot's normalisation could not use, keyed `table.column`."""

    unparsed: Counter[str] = field(default_factory=Counter)
    odd_values: Counter[str] = field(default_factory=Counter)
    undated: Counter[str] = field(default_factory=Counter)

    def odd(self, name: str, n: int = 1) -> None:
        if n:
            self.odd_values[name] += n

    def manifest(self) -> dict[str, dict[str, int]]:
        """The manifest's keys: every checked timestamp column (zeros included), odd values found."""
        return {
            "unparsed": dict(sorted(self.unparsed.items())),
            "odd_values": {k: v for k, v in sorted(self.odd_values.items()) if v},
            "undated": dict(sorted(self.undated.items())),
        }


def as_dict(value: Any, name: str, quality: Quality) -> dict[str, Any]:
    """An object field: {} when absent, and when it is not an object (counted)."""
    if isinstance(value, dict):
        return value
    if value is not None:
        quality.odd(name)
    return {}


def as_list(value: Any, name: str, quality: Quality) -> list[Any]:
    """A list field: [] when absent, and when it is not a list (counted)."""
    if isinstance(value, list):
        return value
    if value is not None:
        quality.odd(name)
    return []


def dicts_in(value: Any, name: str, quality: Quality) -> list[dict[str, Any]]:
    """A list of objects: elements that are not objects are left out (counted)."""
    items = as_list(value, name, quality)
    kept = [item for item in items if isinstance(item, dict)]
    quality.odd(name, len(items) - len(kept))
    return kept


def strings_in(value: Any, name: str, quality: Quality) -> list[str]:
    """A list of strings: other elements are left out (counted)."""
    items = as_list(value, name, quality)
    kept = [item for item in items if isinstance(item, str)]
    quality.odd(name, len(items) - len(kept))
    return kept


def ints_in(value: Any, name: str, quality: Quality) -> list[int]:
    """A list of integers (ids): other elements are left out (counted)."""
    items = as_list(value, name, quality)
    kept = [item for item in items if type(item) is int]
    quality.odd(name, len(items) - len(kept))
    return kept


def typed_values(values: Sequence[Any], dtype: pl.DataType, name: str, quality: Quality) -> Sequence[Any]:
    """A column's values with every value of the wrong type made null (counted).

    Polars' own lax casting would turn a dict into the text '{1}' and 2.5 into 2; hubwatch keeps
    only what is already of the column's type (a whole float is accepted as an integer).
    """
    accepted = _ACCEPTED.get(dtype if isinstance(dtype, type) else type(dtype))  # pl.Int64 or pl.Int64()
    if accepted is None or all(v is None or type(v) in accepted for v in values):
        return values
    cleaned, odd = [], 0
    for value in values:
        if value is None or type(value) in accepted:
            cleaned.append(value)
        elif accepted == (int,) and type(value) is float and value.is_integer():
            cleaned.append(int(value))
        else:
            cleaned.append(None)
            odd += 1
    quality.odd(name, odd)
    return cleaned
