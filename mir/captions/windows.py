"""Long audio for the captioner: how many audio tokens a track costs, the windows it is
captioned in when they do not fit one context, and the prompts that caption each window
and merge the answers.

Music Flamingo's encoder takes 30 s windows of audio (3000 mel frames), each of which
becomes 750 embeddings in the text model's context (llama.cpp's mtmd and the Hugging Face
processor alike). A 16,384-token context thus holds about 10 minutes of audio with room for
a prompt and an answer; a longer track is captioned window by window, each window with a
note of where it lies in the track, and the answers are merged into one caption of the
whole track.
"""

from __future__ import annotations

import math

#: seconds of audio per encoder window, and the embeddings each gives
WINDOW_S, TOKENS_PER_WINDOW = 30.0, 750
#: tokens kept free beyond the prompt and the answer (chat markup, the `<sound>` marker)
MARGIN_TOKENS = 32


def audio_tokens(duration_s: float) -> int:
    """Context tokens the audio of `duration_s` seconds takes: 750 per started 30 s window
    (the last window is padded to 30 s)."""
    return max(1, math.ceil(duration_s / WINDOW_S - 1e-9)) * TOKENS_PER_WINDOW


def windows_that_fit(context_tokens: int, prompt_tokens: int, max_tokens: int) -> int:
    """How many 30 s encoder windows one prompt can hold beside the prompt and the answer."""
    free = context_tokens - prompt_tokens - max_tokens - MARGIN_TOKENS
    return max(0, free // TOKENS_PER_WINDOW)


def plan_windows(duration_s: float, windows_per_call: int) -> list[tuple[float, float]]:
    """(start, end) in seconds of each part a track is captioned in: one part when it fits
    `windows_per_call` encoder windows, else as few parts as fit, of equal whole numbers of
    30 s windows (the last one ending at the track's end).

    Examples
    --------
    >>> plan_windows(1200.0, 20)
    [(0.0, 600.0), (600.0, 1200.0)]
    >>> plan_windows(61.0, 20)
    [(0.0, 61.0)]
    """
    if windows_per_call < 1:
        raise ValueError("no encoder window fits the context")
    total = max(1, math.ceil(duration_s / WINDOW_S - 1e-9))
    parts = math.ceil(total / windows_per_call)
    per = math.ceil(total / parts)
    spans = []
    for i in range(parts):
        start = i * per * WINDOW_S
        end = min(duration_s, (i + 1) * per * WINDOW_S)
        if start < duration_s:
            spans.append((start, end))
    return spans


def clock(seconds: float) -> str:
    """`m:ss` (or `h:mm:ss`) of a time in seconds.

    Examples
    --------
    >>> clock(600.0), clock(3725.0)
    ('10:00', '1:02:05')
    """
    s = int(round(seconds))
    h, m, s = s // 3600, s // 60 % 60, s % 60
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def part_prompt(prompt: str, index: int, spans: list[tuple[float, float]]) -> str:
    """The prompt for part `index` (from 0) of a track captioned in `spans`."""
    start, end = spans[index]
    return (
        f"This audio is part {index + 1} of {len(spans)} of a longer track "
        f"({clock(start)} to {clock(end)} of {clock(spans[-1][1])}). {prompt}"
    )


def merge_prompt(prompt: str, answers: list[str], spans: list[tuple[float, float]]) -> str:
    """A text-only request that merges the parts' answers into one answer to `prompt` for
    the whole track."""
    parts = "\n".join(
        f"Part {i + 1} ({clock(a)} to {clock(b)}): {text}"
        for i, ((a, b), text) in enumerate(zip(spans, answers, strict=True))
    )
    return (
        f"A track of {clock(spans[-1][1])} was described part by part:\n{parts}\n\n"
        f"From these descriptions, answer this for the whole track, as one answer: {prompt}"
    )


def joined(answers: list[str], spans: list[tuple[float, float]]) -> str:
    """The parts' answers one after the other, each after its time span (for a backend that
    cannot run a text-only request)."""
    return " ".join(
        f"{clock(a)}-{clock(b)}: {text}" for (a, b), text in zip(spans, answers, strict=True)
    )
