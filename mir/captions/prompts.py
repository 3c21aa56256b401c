"""Music Flamingo's prompts: the five built-in prompt types, and `{genres}` and
`{metadata}` filled from a track's (or a crop's) own values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: the five built-in prompt types, used when `music_flamingo.prompts` is empty
DEFAULT_PROMPTS = {
    "full": (
        "Describe this music in detail. Start with the genre, the tempo and the key, then "
        "the instruments, the production style and the overall mood."
    ),
    "technical": (
        "As a music critic, give a technical breakdown: tempo, key and chord motion, then "
        "textures, dynamics and the most salient production aesthetics. Under 20 words."
    ),
    "genre_mood": (
        "In one prompt-ready statement under 30 words, name the genre (specific subgenres) "
        "and the emotional character of this music."
    ),
    "instrumentation": (
        "Very briefly, under 15 words: the timbre and the instruments or sounds you hear."
    ),
    "structure": (
        "Describe the arrangement and structure: the sections, the transitions and how the "
        "energy develops."
    ),
}
DEFAULT_MAX_TOKENS = 500


def genres_text(values: Mapping[str, Any], n: int = 5) -> str:
    """`{genres}`: the top `n` Discogs genres as "Parent - Child (p.pp)", with a note on
    what the numbers are, or "Genre unknown." without labels.

    Examples
    --------
    >>> genres_text({"essentia_genre": {"Electronic---Techno": 0.61, "Electronic---House": 0.2}})
    'Electronic - Techno (0.61), Electronic - House (0.20). (Weights are softmax-like scores from a genre classifier; low values were filtered out.)'
    """
    genres = values.get("essentia_genre")
    if not isinstance(genres, Mapping) or not genres:
        return "Genre unknown."
    ranked = sorted(genres.items(), key=lambda kv: -float(kv[1]))[:n]
    listed = ", ".join(f"{label.replace('---', ' - ')} ({float(p):.2f})" for label, p in ranked)
    return (
        f"{listed}. (Weights are softmax-like scores from a genre classifier; "
        "low values were filtered out.)"
    )


def metadata_text(values: Mapping[str, Any]) -> str:
    """`{metadata}`: release year, label and genres in one sentence, or "" when none is known.

    Examples
    --------
    >>> metadata_text({"release_year": 1997, "label": "Warp", "genres": ["idm", "ambient"]})
    'Released in 1997 on Warp; genres: idm, ambient.'
    """
    year = values.get("release_year") or values.get("track_metadata_year")
    label = values.get("label")
    genres = values.get("genres")
    parts = []
    if year:
        parts.append(f"Released in {year}")
    if label:
        parts.append(f"on {label}" if parts else f"Released on {label}")
    sentence = " ".join(parts)
    if isinstance(genres, list | tuple) and genres:
        listed = ", ".join(str(g) for g in genres)
        sentence = f"{sentence}; genres: {listed}" if sentence else f"Genres: {listed}"
    return sentence + "." if sentence else ""


def fill_prompt(template: str, values: Mapping[str, Any]) -> str:
    """The prompt with `{genres}` and `{metadata}` filled from the track's own values
    (other braces are left alone)."""
    text = template.replace("{genres}", genres_text(values))
    return text.replace("{metadata}", metadata_text(values)).strip()


def prompts_of(cfg) -> dict[str, tuple[str, int]]:
    """`{prompt key: (template, max new tokens)}` of a `music_flamingo` configuration: the
    configured prompts, or the built-in ones."""
    prompts = dict(cfg.prompts) or dict(DEFAULT_PROMPTS)
    return {
        k: (text, int(cfg.max_tokens.get(k, DEFAULT_MAX_TOKENS))) for k, text in prompts.items()
    }
