"""The feature table: every numeric key of every family, with its range, unit and meaning.

Derived from the family declarations (:mod:`mir.families`, and the feature modules the
configuration loads, which :func:`register` adds); nothing here is typed by hand. It
drives the range checks in the UI, the DuckDB column comments, the statistics and the
conditioning ranges of the Stable Audio Tools export. Ranges are physical: what real
audio can produce, not what typical music does.
"""

from __future__ import annotations

from collections.abc import Iterable

from mir.families import (
    FAMILIES,
    HARMONIC_STEMS,
    RHYTHM_STEMS,
    STEMS,
    TRANSCRIPTION_STEMS,
)
from mir.family import Family, Feature

__all__ = [
    "FEATURES",
    "Feature",
    "HARMONIC_STEMS",
    "RHYTHM_STEMS",
    "STEMS",
    "TRANSCRIPTION_STEMS",
    "comments",
    "family_named",
    "family_of",
    "inherited_by_crops",
    "keys_of",
    "out_of_range",
    "register",
]

#: key -> Feature, for every numeric key
FEATURES: dict[str, Feature] = {}
#: key -> the family that returns it (every declared key, numeric or not)
_FAMILY_OF: dict[str, Family] = {}
#: name -> family
_FAMILIES: dict[str, Family] = {}


def register(families: Iterable[Family]) -> None:
    """Add families' keys to the table. A key may belong to one family only.

    Raises
    ------
    ValueError
        A key declared by two families, naming both.
    """
    for family in families:
        _FAMILIES[family.name] = family
        for feature in family.keys:
            owner = _FAMILY_OF.get(feature.key)
            if owner is not None and owner.name != family.name:
                raise ValueError(
                    f"key {feature.key!r} is declared by two families: {owner.name} and "
                    f"{family.name}"
                )
            _FAMILY_OF[feature.key] = family
            if feature.numeric:
                FEATURES[feature.key] = feature
        _FAMILY_OF[family.undefined_key] = family


register(FAMILIES)


def family_named(name: str) -> Family | None:
    """The registered family of that name (the built-in ones, and the loaded modules')."""
    return _FAMILIES.get(name)


def family_of(key: str) -> Family | None:
    """The family that declares `key` (a pattern's family for the keys it stands for)."""
    family = _FAMILY_OF.get(key)
    if family is not None:
        return family
    for pattern, family in _FAMILY_OF.items():
        if pattern.endswith("*") and key.startswith(pattern[:-1]):
            return family
    return None


def inherited_by_crops(key: str) -> bool:
    """Whether each crop inherits the track's value of `key`: as its family's declaration
    says (keys about the track's files and its place in the dataset are not music); a key
    no family declares (left by an older release) is inherited."""
    family = family_of(key)
    return family is None or family.inherited_by_crops(key)


def keys_of(predicate) -> frozenset[str]:
    """The declared keys (not patterns) of the families for which `predicate(family)` holds."""
    return frozenset(
        key for key, family in _FAMILY_OF.items() if not key.endswith("*") and predicate(family)
    )


def out_of_range(values: dict) -> dict[str, float]:
    """The numeric values of `values` outside their declared range (key -> value)."""
    bad = {}
    for key, value in values.items():
        feature = FEATURES.get(key)
        if feature is None or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if not (feature.min <= value <= feature.max):
            bad[key] = value
    return bad


def comments(keys) -> dict[str, str]:
    """DuckDB column comments for `keys` that a family declares."""
    out = {}
    for key in keys:
        family = family_of(key)
        feature = family.feature(key) if family is not None else None
        if feature is not None and not feature.pattern:
            out[key] = feature.comment()
    return out
