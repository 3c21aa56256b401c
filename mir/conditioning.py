"""The numeric conditioners a Stable Audio Tools dataset can carry: which keys qualify,
their ranges, and the default set (`export.conditioning_keys`)."""

from __future__ import annotations

from mir.feature_table import FEATURES, Feature, inherited_by_crops

#: keys a sidecar can carry that the feature table does not list: numbers made from a
#: track's strings
DERIVED_FEATURES = {
    "tonic_scale_minor": Feature(
        "tonic_scale_minor", 0, 1, "", "1 when the key (tonic_scale) is minor, 0 when major"
    ),
}

#: the key each derived key is made from (the family behind it is that key's)
DERIVED_FROM = {"tonic_scale_minor": "tonic_scale"}

#: the default numeric conditioners: tempo, loudness, key, density, timbre, and two
#: model scores (left out of the fragment until every crop has them)
DEFAULT_CONDITIONING_KEYS = (
    "bpm",
    "lufs",
    "lra",
    "tonic",
    "tonic_scale_minor",
    "onset_density",
    "spectral_flatness",
    "rms_energy_bass",
    "brightness",
    "warmth",
    "danceability",
    "production_quality",
)


def conditioning_feature(key: str) -> Feature:
    """The range of a conditioning key: a numeric key that each crop inherits from its
    track (its family's declaration says so), or a derived key."""
    feature = DERIVED_FEATURES.get(key)
    if feature is None and key in FEATURES and inherited_by_crops(key):
        feature = FEATURES[key]
    if feature is None:
        raise ValueError(
            f"{key!r} is not a numeric key that the crops inherit (mir/families.py) "
            f"nor one of {', '.join(DERIVED_FEATURES)}"
        )
    return feature
