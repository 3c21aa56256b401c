"""Caption text made plain: typography T5's tokenizer does not know, and the log lines
llama.cpp tools print around a model's answer.
"""

from __future__ import annotations

import re
import unicodedata

#: stdout lines of llama.cpp tools that are log output, not the model's answer
_LOG_LINE = re.compile(
    r"^\s*(ggml_|llama_|clip_|load_|main:|mtmd_|gguf_|print_info|common_|encoding audio|"
    r"audio (slice|decoded|encoded)|build:|system_info|sampler|generate:|warning:|"
    r"#\d+\s+0x|0x[0-9a-fA-F]+|\[New Thread|\[Thread debugging|Using host libthread)"
)
_CHAR_MAP = str.maketrans(
    {
        "\u2010": "-",
        "\u2011": "-",
        "\u2013": "-",
        "\u2014": "--",
        "\u202f": " ",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
    }
)


def normalize_caption(text: str) -> str:
    """Typographic dashes, narrow spaces and curly quotes made plain, then Unicode NFKC, so
    that T5's tokenizer sees no unknown characters.

    Examples
    --------
    >>> normalize_caption("A \u201cdreamy\u201d lo\u2011fi track \u2014 slow")
    'A "dreamy" lo-fi track -- slow'
    """
    return unicodedata.normalize("NFKC", text.translate(_CHAR_MAP)).strip()


def normalize_model_output(stdout: str) -> str:
    """The answer in a llama.cpp tool's stdout: log lines, backtrace noise and addresses
    dropped, the rest joined and normalised (:func:`normalize_caption`)."""
    kept = [line for line in stdout.splitlines() if line.strip() and not _LOG_LINE.match(line)]
    return normalize_caption("\n".join(kept))
