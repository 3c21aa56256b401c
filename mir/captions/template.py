"""Text prompts for Stable Audio Tools.

`template_caption` needs no model: it writes a prompt-ready caption from a track's (or a
crop's) own values — labels when the classifier has run, tempo, meter, key, loudness and
timbre — so that every crop has a prompt even before any captioning model is installed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from mir.key import PITCH_CLASSES

CAPTION_KEYS = (
    "music_flamingo_full",
    "music_flamingo_short_genre",
    "music_flamingo_genre_mood",
    "music_flamingo_technical",
)


def _top_labels(values: Any, n: int) -> list[str]:
    if not isinstance(values, Mapping):
        return []
    ranked = sorted(values.items(), key=lambda kv: -float(kv[1]))[:n]
    return [str(label).split("---")[-1] for label, _ in ranked]


def _number(values: Mapping[str, Any], key: str) -> float | None:
    """`values[key]` as a number; None where it is absent or undefined (stored as null, or
    a NaN from an older store), so that the caption leaves it out rather than failing."""
    value = values.get(key)
    if value is None or isinstance(value, (str, bytes)):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _loudness_word(lufs: float) -> str:
    if lufs > -9:
        return "very loud"
    if lufs > -14:
        return "loud"
    if lufs > -20:
        return "moderately loud"
    return "quiet"


def _chord_symbol(label: str) -> str:
    """A chord label as a lead sheet writes it: "A:min" -> "Am", "C:maj" -> "C"."""
    root, _, quality = label.partition(":")
    return root + ("m" if quality == "min" else "")


#: how a caption opens on a section of each name ("The chorus of a rock track ...")
_SECTION_WORDS = {
    "intro": "The intro of",
    "verse": "A verse of",
    "chorus": "The chorus of",
    "bridge": "The bridge of",
    "break": "A break in",
    "outro": "The outro of",
}
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")


def _section_words(values: Mapping[str, Any]) -> str | None:
    """ "The chorus of", "The second chorus of", "A verse of" for a crop in a named section
    of a track with more than one section (`section_name`, `section_occurrence`,
    `section_count`); None otherwise."""
    name = values.get("section_name")
    if name not in _SECTION_WORDS or int(values.get("section_count") or 0) < 2:
        return None
    nth = int(values.get("section_occurrence") or 1)
    if name in ("verse", "chorus") and 1 < nth <= len(_ORDINALS):
        return f"The {_ORDINALS[nth - 1]} {name} of"
    return _SECTION_WORDS[name]


def template_caption(values: Mapping[str, Any]) -> str:
    """A one-sentence caption from the values of `.INFO`; an undefined value (None) is
    left out, as a missing one is.

    Examples
    --------
    >>> template_caption({"bpm": 128.0, "tonic": 9, "tonic_scale": "minor", "beats_per_bar": 4,
    ...                   "lufs": -8.5, "brightness": 70.0, "warmth": 30.0})
    'Music at 128 BPM in A minor, 4/4 time, very loud, bright.'
    >>> template_caption({"bpm": 96.0, "chord_progression": "A:min-F:maj-C:maj-G:maj"})
    'Music at 96 BPM, chords Am-F-C-G.'

    A crop names its section (`section_name`, from the `structure` asset):

    >>> template_caption({"bpm": 120.0, "section_name": "chorus", "section_occurrence": 2,
    ...                   "section_count": 8})
    'The second chorus of a track at 120 BPM.'
    """
    # an undefined value (stored as null) is absent: nothing is said of it
    values = {k: v for k, v in values.items() if v is not None}
    genres = _top_labels(values.get("essentia_genre"), 2)
    moods = _top_labels(values.get("essentia_mood"), 2)
    instruments = _top_labels(values.get("essentia_instrument"), 3)
    head = ", ".join(genres) + " track" if genres else "Music"
    section = _section_words(values)
    if section:
        if genres:
            article = "an" if genres[0][:1].lower() in "aeiou" else "a"
            head = f"{section} {article} {', '.join(genres)} track"
        else:
            head = f"{section} a track"
    parts = []
    # a tempo is stated only where one was measured (an undefined tempo is stored as 120)
    bpm = _number(values, "bpm")
    if bpm and values.get("bpm_is_defined", 1):
        parts.append(f"{head} at {bpm:.0f} BPM")
    else:
        parts.append(head)
    tonic = _number(values, "tonic")
    if tonic is not None and values.get("tonic_scale") not in (None, "unknown"):
        parts[-1] += f" in {PITCH_CLASSES[int(tonic) % 12]} {values['tonic_scale']}"
    beats_per_bar = _number(values, "beats_per_bar")
    if beats_per_bar:
        parts.append(f"{int(beats_per_bar)}/4 time")
    if values.get("chord_progression"):
        chords = str(values["chord_progression"]).split("-")
        parts.append("chords " + "-".join(_chord_symbol(c) for c in chords))
    if moods:
        parts.append(" and ".join(moods) + " mood")
    if instruments:
        parts.append("with " + ", ".join(instruments))
    lufs = _number(values, "lufs")
    if lufs is not None:
        parts.append(_loudness_word(lufs))
    bright, warm = _number(values, "brightness"), _number(values, "warmth")
    if bright is not None and warm is not None:
        if bright >= 60 and bright >= warm:
            parts.append("bright")
        elif warm >= 50:
            parts.append("warm")
    return ", ".join(parts) + "."


def caption_for(values: Mapping[str, Any]) -> str:
    """The model caption when one exists (Music Flamingo and its revisions), else the template."""
    for key in CAPTION_KEYS:
        text = values.get(key)
        if isinstance(text, str) and text.strip():
            return text.strip()
    return template_caption(values)
