"""A GGUF text model through llama-cpp-python, and the caption revision it serves.

The revision condenses a crop's (or track's) captions into short, prompt-ready summaries
(`music_flamingo_short_technical`, `_short_mood`, `_short_genre` by default). The model
sees only caption texts: never the model tag nor earlier revisions. Its answer is held to
the tag format by a grammar, so every requested summary comes back, each within its
length budget.

Three chat formats are written here as plain strings (the model's own Jinja template is
not needed): ChatML (Qwen and most others), Granite 4 and Harmony (gpt-oss).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mir.captions.text import normalize_caption
from mir.errors import ModelNotFound


@dataclass(frozen=True)
class ChatFormat:
    """How one model family marks the roles of a conversation."""

    system: str
    user: str
    #: the start of the assistant's turn, which the model continues
    assistant: str
    #: text that ends the assistant's turn
    stop: tuple[str, ...]


CHAT_FORMATS: dict[str, ChatFormat] = {
    "chatml": ChatFormat(
        system="<|im_start|>system\n{text}<|im_end|>\n",
        user="<|im_start|>user\n{text}<|im_end|>\n",
        assistant="<|im_start|>assistant\n",
        stop=("<|im_end|>", "<|endoftext|>", "<|im_start|>"),
    ),
    "granite": ChatFormat(
        system="<|start_of_role|>system<|end_of_role|>{text}<|end_of_text|>\n",
        user="<|start_of_role|>user<|end_of_role|>{text}<|end_of_text|>\n",
        assistant="<|start_of_role|>assistant<|end_of_role|>",
        stop=("<|end_of_text|>", "<|start_of_role|>"),
    ),
    # gpt-oss: instructions go to the developer role; the answer is asked for straight in
    # the `final` channel, so no reasoning tokens are spent
    "harmony": ChatFormat(
        system=(
            "<|start|>system<|message|>Reasoning: low\n\n# Valid channels: analysis, final. "
            "Channel must be included for every message.<|end|>"
            "<|start|>developer<|message|># Instructions\n\n{text}<|end|>"
        ),
        user="<|start|>user<|message|>{text}<|end|>",
        assistant="<|start|>assistant<|channel|>final<|message|>",
        stop=("<|return|>", "<|end|>", "<|start|>", "<|call|>"),
    ),
}

#: special-token markup that must never reach a caption
_STRUCTURAL = re.compile(r"<\|[^|>]*\|>")


def chat_prompt(chat_format: str, system: str, user: str) -> str:
    """The full prompt text of a one-turn conversation in `chat_format` (no system turn
    when `system` is empty).

    Examples
    --------
    >>> chat_prompt("chatml", "Be brief.", "Hi")
    '<|im_start|>system\\nBe brief.<|im_end|>\\n<|im_start|>user\\nHi<|im_end|>\\n<|im_start|>assistant\\n'
    """
    try:
        fmt = CHAT_FORMATS[chat_format]
    except KeyError:
        raise ValueError(
            f"unknown chat format {chat_format!r}: one of {', '.join(CHAT_FORMATS)}"
        ) from None
    head = fmt.system.format(text=system) if system else ""
    return head + fmt.user.format(text=user) + fmt.assistant


class TextModel:
    """One GGUF text model, loaded once (through the GPU resource) and reused.

    Parameters
    ----------
    path : Path
        The `.gguf` file.
    config_key : str
        The configuration key naming it (for the missing-file error).
    n_ctx, n_batch, gpu_layers, seed
        Passed to `llama_cpp.Llama` (`gpu_layers` -1 = all; ignored by a CPU build).
    """

    def __init__(
        self,
        path: Path,
        *,
        config_key: str,
        chat_format: str = "chatml",
        n_ctx: int = 4096,
        n_batch: int = 256,
        gpu_layers: int = -1,
        seed: int = 0,
    ):
        if chat_format not in CHAT_FORMATS:
            raise ValueError(
                f"unknown chat format {chat_format!r}: one of {', '.join(CHAT_FORMATS)}"
            )
        if not Path(path).is_file():
            raise ModelNotFound(path, config_key)
        self.path = Path(path)
        self.chat_format = chat_format
        self._kwargs = dict(
            model_path=str(path),
            n_ctx=n_ctx,
            n_batch=n_batch,
            n_gpu_layers=gpu_layers,
            seed=seed,
            verbose=False,
        )
        self.load_seconds = 0.0
        self.llm = self._load()

    def _load(self):
        from llama_cpp import Llama

        t0 = time.perf_counter()
        llm = Llama(**self._kwargs)
        self.load_seconds = time.perf_counter() - t0
        return llm

    def complete(
        self,
        system: str,
        user: str,
        *,
        max_tokens: int,
        temperature: float = 0.7,
        top_p: float = 0.9,
        grammar: str | None = None,
    ) -> str:
        """The assistant's answer to one turn. Any state of an earlier call is dropped
        first; on an error the model is loaded again once and the call retried."""
        prompt = chat_prompt(self.chat_format, system, user)
        for attempt in (1, 2):
            try:
                return self._complete(prompt, max_tokens, temperature, top_p, grammar)
            except (RuntimeError, ValueError, OSError):
                if attempt == 2:
                    raise
                self.llm = self._load()
        raise AssertionError("unreachable")

    def _complete(self, prompt, max_tokens, temperature, top_p, grammar) -> str:
        from llama_cpp import LlamaGrammar

        self.llm.reset()
        out = self.llm.create_completion(
            prompt,
            max_tokens=max_tokens,
            temperature=temperature,
            top_p=top_p,
            stop=list(CHAT_FORMATS[self.chat_format].stop),
            grammar=LlamaGrammar.from_string(grammar, verbose=False) if grammar else None,
        )
        return out["choices"][0]["text"]


# -- revision -------------------------------------------------------------------------

REVISION_SYSTEM = (
    "You condense descriptions of a music clip into focused summaries for a text-to-music "
    "model. Keep only what the descriptions agree on; never invent instruments. Output only "
    "the requested tags, one per line, nothing else."
)

#: the revision keys when `music_flamingo.revision.prompts` is empty (the original's)
DEFAULT_REVISION_PROMPTS = {
    "short_technical": "tempo, key, rhythm and production in 20 to 30 words",
    "short_mood": "the mood and emotional character in 10 to 20 words",
    "short_genre": "the genre and subgenres in 5 to 15 words",
}

#: keys of `music_flamingo_*` that are not caption text
NOT_CAPTIONS = frozenset({"music_flamingo_model", "music_flamingo_prompt_type"})


def revision_inputs(
    values: Mapping[str, Any], revision_keys: Mapping[str, str] | list[str]
) -> dict[str, str]:
    """The caption texts the revision may read: string `music_flamingo_*` values, without
    the model tag and without earlier revisions (`music_flamingo_<revision key>`)."""
    revised = {f"music_flamingo_{k}" for k in revision_keys}
    return {
        key: value.strip()
        for key, value in sorted(values.items())
        if key.startswith("music_flamingo_")
        and key not in NOT_CAPTIONS
        and key not in revised
        and isinstance(value, str)
        and value.strip()
    }


def revision_request(captions: Mapping[str, str], prompts: Mapping[str, str]) -> str:
    """The user turn: the captions as `[key]: text` lines, then one tagged instruction per
    revision key.

    Examples
    --------
    >>> print(revision_request({"music_flamingo_full": "A slow piano ballad."},
    ...                        {"short_mood": "the mood in 10 to 20 words"}))
    Descriptions of the clip:
    [music_flamingo_full]: A slow piano ballad.
    <BLANKLINE>
    Write each summary between its tags:
    <short_mood>the mood in 10 to 20 words</short_mood>
    """
    lines = ["Descriptions of the clip:"]
    lines += [f"[{key}]: {text}" for key, text in captions.items()]
    lines += ["", "Write each summary between its tags:"]
    lines += [f"<{key}>{instruction}</{key}>" for key, instruction in prompts.items()]
    return "\n".join(lines)


def revision_grammar(keys: list[str], max_chars: int) -> str:
    """A GBNF grammar for exactly the tags `keys`, in order, each holding 1 to `max_chars`
    characters of one line of text (no markup, no control characters)."""
    body = " ".join(f'"<{k}>" text "</{k}>\\n"' for k in keys)
    return f"root ::= {body}\ntext ::= [^<>\\x00-\\x1f]{{1,{max_chars}}}\n"


def parse_tags(text: str, keys: list[str]) -> dict[str, str]:
    """`{key: text}` for each `<key>text</key>` in `text`, with special tokens removed and
    the text normalised; keys without a non-empty tag are left out.

    Examples
    --------
    >>> parse_tags("<short_mood> Calm,<|im_end|> warm </short_mood>", ["short_mood", "short_genre"])
    {'short_mood': 'Calm, warm'}
    """
    out = {}
    for key in keys:
        match = re.search(rf"<{re.escape(key)}>(.*?)</{re.escape(key)}>", text, re.DOTALL)
        if not match:
            continue
        cleaned = normalize_caption(_STRUCTURAL.sub("", match.group(1)))
        cleaned = " ".join(cleaned.split())
        if cleaned:
            out[key] = cleaned
    return out


def revise(
    model: TextModel,
    values: Mapping[str, Any],
    prompts: Mapping[str, str],
    *,
    max_tokens: int = 512,
    temperature: float = 0.7,
    max_chars: int = 400,
) -> dict[str, str]:
    """`{music_flamingo_<key>: summary}` for every revision prompt, from the captions in
    `values` (one completion covers all keys). Empty when there is no caption to revise."""
    captions = revision_inputs(values, prompts)
    if not captions:
        return {}
    keys = list(prompts)
    answer = model.complete(
        REVISION_SYSTEM,
        revision_request(captions, prompts),
        max_tokens=max_tokens,
        temperature=temperature,
        grammar=revision_grammar(keys, max_chars),
    )
    parsed = parse_tags(answer, keys)
    missing = [k for k in keys if k not in parsed]
    if missing:
        raise RuntimeError(
            f"the revision model left out {', '.join(missing)} "
            f"(max_tokens {max_tokens} may be too small): {answer[:200]!r}"
        )
    return {f"music_flamingo_{k}": v for k, v in parsed.items()}


# -- signature (`mir models verify`) --------------------------------------------------


def text_model_problems(path: Path) -> list[str]:
    """How a revision model differs from a GGUF text model llama.cpp can run: an
    architecture that is not a projector, and a vocabulary (its chat format is set by
    `music_flamingo.revision.chat_format`, not read from the file)."""
    from mir.signatures import gguf_header, gguf_summary

    header = gguf_header(path)
    problems = []
    arch = header.get("general.architecture")
    if not arch:
        problems.append("no general.architecture")
    elif arch == "clip":
        problems.append("a projector (mmproj), not a text model")
    if not header.get("tokenizer.ggml.model") or not header.get("tokenizer.ggml.tokens"):
        problems.append("no vocabulary (tokenizer.ggml.model and tokenizer.ggml.tokens)")
    if problems:
        problems.append(f"this file: {gguf_summary(header)}")
    return problems
