"""Music Flamingo captions: three ways to run the model, and its output cleaned (the
prompts are in :mod:`mir.captions.prompts`).

Backends (`music_flamingo.backend`):

- `cli`: the user's own `llama-mtmd-cli` build (`music_flamingo.cli`), one process per
  prompt, with the original's arguments, timeout and workarounds;
- `llama_cpp`: in process through llama-cpp-python's low-level `mtmd` bindings (its chat
  handler refuses audio-only projectors): the audio goes in as samples, no temp files;
- `transformers`: Hugging Face `MusicFlamingoForConditionalGeneration` from a local
  folder (slower, needs the optional `transformers` package).

Every backend answers :meth:`caption` with normalised text (:func:`normalize_model_output`),
for a track of any length: audio that does not fit the context with the prompt and the
answer is captioned in windows whose answers are merged (:mod:`mir.captions.windows`).

The model files are checked when loaded, from their GGUF headers: the projector must be
Music Flamingo's (`clip.projector_type` musicflamingo, with an audio encoder), and the CLI
needs a chat template in the text model (`llama-mtmd-cli` refuses one without).
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mir.captions.text import normalize_model_output
from mir.captions.windows import (
    MARGIN_TOKENS,
    TOKENS_PER_WINDOW,
    WINDOW_S,
    audio_tokens,
    joined,
    merge_prompt,
    part_prompt,
    plan_windows,
    windows_that_fit,
)
from mir.errors import ModelNotFound
from mir.signatures import SignatureError, gguf_header, gguf_summary

#: `music_flamingo.model` (a quantisation) -> GGUF file under `music_flamingo.model_dir`
QUANT_FILES = {
    "IQ3_M": "music-flamingo-hf.i1-IQ3_M.gguf",
    "Q6_K": "music-flamingo-hf.i1-Q6_K.gguf",
    "Q8_0": "music-flamingo-hf.Q8_0.gguf",
}
MMPROJ = "music-flamingo-hf.mmproj-f16.gguf"

#: file types llama-mtmd-cli decodes itself; others are converted to WAV first
CLI_FORMATS = {"wav", "flac", "mp3"}


# -- llama-mtmd-cli -------------------------------------------------------------------


def cli_args(
    cli: str | Path,
    *,
    model: Path,
    mmproj: Path,
    audio: Path,
    prompt: str,
    max_tokens: int,
    context_size: int,
    gpu_layers: int = 99,
    temperature: float = 0.7,
    top_p: float = 0.9,
) -> list[str]:
    """The original's command line for one prompt on one audio file."""
    return [
        str(cli),
        "-m",
        str(model),
        "--mmproj",
        str(mmproj),
        "--audio",
        str(audio),
        "-p",
        prompt,
        "-n",
        str(max_tokens),
        "-c",
        str(context_size),
        "--gpu-layers",
        str(gpu_layers),
        "--temp",
        str(temperature),
        "--top-p",
        str(top_p),
    ]


def _scratch_dir() -> str | None:
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


@contextmanager
def cli_audio(path: Path) -> Iterator[Path]:
    """A path llama-mtmd-cli can read for `path`: the file itself, a WAV copy for formats
    the CLI does not decode (decoded here, no ffmpeg), or a comma-free link (the CLI
    splits `--audio` on commas). Temporary files live in /dev/shm when it exists."""
    path = Path(path)
    needs_wav = path.suffix.lower().lstrip(".") not in CLI_FORMATS
    if not needs_wav and "," not in str(path):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="mir-flamingo-", dir=_scratch_dir()) as tmp:
        if needs_wav:
            from mir.audio import load_audio, write_audio

            audio = load_audio(path)
            target = write_audio(Path(tmp) / "audio.wav", audio.samples, audio.sr)
        else:
            target = Path(tmp) / f"audio{path.suffix.lower()}"
            target.symlink_to(path.resolve())
        yield target


_TIMINGS = {
    "audio_encode_ms": re.compile(r"(?:audio|image) slice encoded in (\d+(?:\.\d+)?) ms"),
    "audio_decode_ms": re.compile(r"(?:audio|image) decoded \(batch [^)]*\) in (\d+(?:\.\d+)?) ms"),
    "prompt_tokens_per_s": re.compile(
        r"prompt eval time =.*?(\d+(?:\.\d+)?) tokens per second", re.IGNORECASE
    ),
    "eval_tokens_per_s": re.compile(
        r"^(?:[\w:]*\s*)?eval time =.*?(\d+(?:\.\d+)?) tokens per second", re.MULTILINE
    ),
}


def cli_timings(stderr: str) -> dict[str, float]:
    """Timing figures llama-mtmd-cli prints on stderr (encode/decode times are summed)."""
    out: dict[str, float] = {}
    for key, pattern in _TIMINGS.items():
        found = [float(m) for m in pattern.findall(stderr)]
        if found:
            out[key] = sum(found) if key.endswith("_ms") else found[-1]
    return out


class CaptionError(RuntimeError):
    """A captioning model that ran but gave no caption."""


def run_cli(args: list[str], *, timeout_s: float = 300.0, cwd: Path | None = None):
    """Run llama-mtmd-cli: stdin closed, output captured, killed after `timeout_s`.

    A non-zero exit counts as a failure only when stdout is empty (the CLI prints benign
    warnings and may exit non-zero after answering).

    Returns
    -------
    (text, timings)
        The normalised answer and :func:`cli_timings`.
    """
    proc = subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.terminate()
        try:
            proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
        raise CaptionError(f"{args[0]} timed out after {timeout_s:.0f} s") from None
    text = normalize_model_output(stdout)
    if proc.returncode != 0 and not text:
        tail = stderr.strip().splitlines()[-3:]
        raise CaptionError(f"{args[0]} exited with {proc.returncode}: {' | '.join(tail)}")
    if not text:
        raise CaptionError(f"{args[0]} printed no caption")
    return text, cli_timings(stderr)


# -- model files ----------------------------------------------------------------------


def model_files(model_dir: Path, quant: str) -> tuple[Path, Path]:
    """The GGUF of quantisation `quant` and the audio projector, both checked to exist."""
    if quant not in QUANT_FILES:
        raise ValueError(f"music_flamingo.model {quant!r} is not one of {', '.join(QUANT_FILES)}")
    model = Path(model_dir) / QUANT_FILES[quant]
    mmproj = Path(model_dir) / MMPROJ
    for path, key in ((model, "music_flamingo.model"), (mmproj, "music_flamingo.model_dir")):
        if not path.is_file():
            raise ModelNotFound(path, key)
    return model, mmproj


#: what the published files hold (models/README.md: the sources)
TEXT_ARCHITECTURE, TEXT_TOKENIZER, TEXT_PRE_TOKENIZER = "qwen2", "gpt2", "qwen2"
PROJECTOR_TYPE = "musicflamingo"
#: tensors the projector needs (Whisper encoder block 0 and the two-layer projector)
PROJECTOR_TENSORS = (
    "a.conv1d.1.weight", "a.conv1d.2.weight", "a.position_embd.weight", "a.blk.0.attn_q.weight",
    "a.post_ln.weight", "mm.a.mlp.1.weight", "mm.a.mlp.2.weight",
)  # fmt: skip
#: the audio marker mtmd writes before Music Flamingo's audio embeddings
SOUND_TOKEN = "<sound>"


def require_projector(path: Path) -> None:
    """Refuse a file that is not Music Flamingo's audio projector, from its GGUF header.

    Raises
    ------
    SignatureError
        Naming the projector type (or architecture) the file declares instead.
    """
    header = gguf_header(path)
    kind = header.get("clip.projector_type")
    if header.get("general.architecture") != "clip":
        raise SignatureError(
            f"{path}: not a multimodal projector ({gguf_summary(header)}); "
            f"music_flamingo needs Music Flamingo's mmproj ({MMPROJ})"
        )
    if kind != PROJECTOR_TYPE or not header.get("clip.has_audio_encoder"):
        raise SignatureError(
            f"{path}: projector type {kind!r} (has_audio_encoder="
            f"{header.get('clip.has_audio_encoder')}), expected {PROJECTOR_TYPE!r} with an audio "
            "encoder: this is another model's projector"
        )


def require_chat_template(path: Path) -> None:
    """Refuse a text model without `tokenizer.chat_template`, which llama-mtmd-cli needs."""
    header = gguf_header(path)
    if not header.get("tokenizer.chat_template"):
        raise SignatureError(
            f"{path}: no tokenizer.chat_template in its metadata ({gguf_summary(header)}); "
            "llama-mtmd-cli refuses such a model. Add the template of Music Flamingo's "
            "tokenizer_config.json: gguf-new-metadata --chat-template-config "
            "tokenizer_config.json IN.gguf OUT.gguf (the gguf package's tool), or use "
            "music_flamingo.backend: llama_cpp"
        )


def text_model_problems(path: Path) -> list[str]:
    """How a Music Flamingo text GGUF differs from the published one: architecture qwen2,
    a byte-level BPE vocabulary (gpt2, pre-tokenizer qwen2) holding `<sound>`, no BOS
    added, and a chat template."""
    header = gguf_header(path)
    problems = []
    expected = {
        "general.architecture": TEXT_ARCHITECTURE,
        "tokenizer.ggml.model": TEXT_TOKENIZER,
        "tokenizer.ggml.pre": TEXT_PRE_TOKENIZER,
    }
    for key, want in expected.items():
        if header.get(key) != want:
            problems.append(f"{key} is {header.get(key)!r}, expected {want!r}")
    if header.get("tokenizer.ggml.add_bos_token"):
        problems.append("tokenizer.ggml.add_bos_token is true: Qwen2's prompts start without BOS")
    if not header.get("tokenizer.chat_template"):
        problems.append("no tokenizer.chat_template (llama-mtmd-cli refuses the model)")
    if header.get("general.architecture") == "clip":
        problems.append("this is a projector (mmproj), not the text model")
    if problems:
        problems.append(f"this file: {gguf_summary(header)}")
    return problems


def projector_problems(path: Path) -> list[str]:
    """How a Music Flamingo mmproj differs from the published one: a `clip` file with an
    audio encoder, projector type musicflamingo, 128 mel bins, the encoder's and the
    projector's tensors, and a projection as wide as each text model beside it."""
    try:
        require_projector(path)
    except SignatureError as exc:
        return [str(exc).removeprefix(f"{path}: ")]
    header = gguf_header(path)
    problems = []
    if header.get("clip.audio.num_mel_bins") != 128:
        problems.append(
            f"clip.audio.num_mel_bins is {header.get('clip.audio.num_mel_bins')}, expected 128"
        )
    missing = [t for t in PROJECTOR_TENSORS if t not in header.tensors]
    if missing:
        problems.append(f"tensor(s) missing: {', '.join(missing)}")
    width = header.get("clip.audio.projection_dim")
    for name in QUANT_FILES.values():
        text = Path(path).parent / name
        if text.is_file():
            arch = gguf_header(text).get("general.architecture")
            n_embd = gguf_header(text).get(f"{arch}.embedding_length")
            if n_embd != width:
                problems.append(
                    f"clip.audio.projection_dim {width} differs from {name}'s embedding length "
                    f"{n_embd}: they are not a pair"
                )
    return problems


# -- backends -------------------------------------------------------------------------


@dataclass
class CliCaptioner:
    """Music Flamingo through an external `llama-mtmd-cli`.

    Each call's context (`-c`) is sized from the audio's duration: at least
    `context_size`, more when the audio needs it, up to the text model's trained context
    (`n_ctx_train`, from its GGUF header). Audio longer than that is captioned in windows,
    one call each, and the answers joined with their time spans (the CLI cannot run the
    text-only request that merges them in process).
    """

    cli: Path
    model: Path
    mmproj: Path
    quant: str
    context_size: int = 16384
    gpu_layers: int = 99
    temperature: float = 0.7
    top_p: float = 0.9
    timeout_s: float = 300.0
    #: the text model's trained context (`<arch>.context_length`); None: not limited
    n_ctx_train: int | None = None
    timings: list[dict[str, float]] = field(default_factory=list)
    #: parts the last caption was made of (1 when the audio fitted one call)
    last_windows: int = 0

    @property
    def tag(self) -> str:
        return f"gguf_{self.quant}"

    @staticmethod
    def prompt_tokens(prompt: str) -> int:
        """A generous estimate of the prompt's tokens (no tokenizer here): a token per 3
        bytes, plus the chat markup."""
        return len(prompt.encode()) // 3 + 64

    def context_for(self, duration_s: float, prompt: str, max_tokens: int) -> int:
        """The `-c` a call needs for `duration_s` of audio, `prompt` and `max_tokens`."""
        needed = audio_tokens(duration_s) + self.prompt_tokens(prompt) + max_tokens + MARGIN_TOKENS
        return max(self.context_size, needed)

    def caption(self, audio_path: Path, prompt: str, max_tokens: int) -> str:
        from mir.audio import probe_audio

        duration = probe_audio(audio_path)
        limit = self.n_ctx_train or self.context_for(duration, prompt, max_tokens)
        fit = windows_that_fit(limit, self.prompt_tokens(prompt) + 64, max_tokens)
        spans = plan_windows(duration, max(fit, 1))
        self.last_windows = len(spans)
        if len(spans) == 1:
            return self._call(audio_path, prompt, max_tokens, duration)
        from mir.audio import load_audio, write_audio

        audio = load_audio(audio_path)
        answers = []
        with tempfile.TemporaryDirectory(prefix="mir-flamingo-", dir=_scratch_dir()) as tmp:
            for i, (start, end) in enumerate(spans):
                part = audio.samples[int(start * audio.sr) : int(end * audio.sr)]
                wav = write_audio(Path(tmp) / f"part{i}.wav", part, audio.sr)
                answers.append(
                    self._call(wav, part_prompt(prompt, i, spans), max_tokens, end - start)
                )
        return joined(answers, spans)

    def _call(self, audio_path: Path, prompt: str, max_tokens: int, duration_s: float) -> str:
        with cli_audio(audio_path) as readable:
            args = cli_args(
                self.cli,
                model=self.model,
                mmproj=self.mmproj,
                audio=readable,
                prompt=prompt,
                max_tokens=max_tokens,
                context_size=self.context_for(duration_s, prompt, max_tokens),
                gpu_layers=self.gpu_layers,
                temperature=self.temperature,
                top_p=self.top_p,
            )
            text, timings = run_cli(args, timeout_s=self.timeout_s)
        self.timings.append(timings)
        return text


def find_cli(cli: str | Path) -> Path:
    """The llama-mtmd-cli executable: a path, or a name looked up on PATH."""
    text = str(cli or "")
    found = shutil.which(text) if text else None
    if found:
        return Path(found)
    raise ModelNotFound(
        text or "llama-mtmd-cli",
        "music_flamingo.cli",
        "Build llama.cpp (README: Captions) and set the path of its llama-mtmd-cli",
    )


class MtmdCaptioner:
    """Music Flamingo in process: llama-cpp-python's model and context, with the audio
    projector loaded through the low-level `mtmd` bindings.

    Prompts are written with the text model's own chat template (`tokenizer.chat_template`;
    ChatML, Qwen2's format, when the file has none). Audio that does not fit the context
    beside the prompt and the answer is captioned in windows of whole 30 s encoder windows,
    and the windows' answers are merged by a text-only request to the same model.
    """

    def __init__(
        self,
        model: Path,
        mmproj: Path,
        quant: str,
        *,
        context_size: int = 16384,
        gpu_layers: int = 99,
        temperature: float = 0.7,
        top_p: float = 0.9,
        n_batch: int = 512,
        seed: int = 0,
    ):
        from llama_cpp import mtmd_cpp as mtmd

        from mir.captions.llm import TextModel

        require_projector(mmproj)
        self.quant = quant
        self.temperature, self.top_p, self.seed = temperature, top_p, seed
        self.llm = TextModel(
            model,
            config_key="music_flamingo.model",
            chat_format="chatml",
            n_ctx=context_size,
            n_batch=n_batch,
            gpu_layers=gpu_layers,
            seed=seed,
        ).llm
        self.template = self.llm.metadata.get("tokenizer.chat_template") or None
        params = mtmd.mtmd_context_params_default()
        params.use_gpu = gpu_layers != 0
        params.print_timings = False
        params.n_threads = max(1, os.cpu_count() or 1)
        self._mtmd = mtmd
        self.ctx = mtmd.mtmd_init_from_file(str(mmproj).encode(), self.llm.model, params)
        if not self.ctx:
            raise CaptionError(f"{mmproj}: not a multimodal projector llama.cpp can load")
        if not mtmd.mtmd_support_audio(self.ctx):
            mtmd.mtmd_free(self.ctx)
            self.ctx = None
            raise CaptionError(f"{mmproj}: the projector has no audio encoder")
        self.sample_rate = int(mtmd.mtmd_get_audio_sample_rate(self.ctx))
        self.marker = mtmd.mtmd_default_marker().decode()
        #: parts the last caption was made of (1 when the audio fitted one prompt)
        self.last_windows = 0

    @property
    def tag(self) -> str:
        return f"gguf_{self.quant}"

    @property
    def context_size(self) -> int:
        return int(self.llm.n_ctx())

    def chat(self, user: str) -> str:
        """The full prompt of one user turn, in the model's own chat template."""
        if not self.template:
            from mir.captions.llm import chat_prompt

            return chat_prompt("chatml", "", user)
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        def text_of(token: int) -> str:
            return self.llm._model.token_get_text(token) if token != -1 else ""

        formatter = Jinja2ChatFormatter(
            template=self.template,
            eos_token=text_of(self.llm.token_eos()),
            bos_token=text_of(self.llm.token_bos()),
            add_generation_prompt=True,
        )
        return formatter(messages=[{"role": "user", "content": user}]).prompt

    def audio_prompt(self, prompt: str) -> str:
        """The prompt with the audio marker before the request, in the chat template."""
        return self.chat(f"{self.marker}\n{prompt}")

    def windows_per_call(self, prompt: str, max_tokens: int) -> int:
        """How many 30 s encoder windows fit the context beside `prompt` and the answer."""
        text = self.audio_prompt(prompt).replace(self.marker, "")
        prompt_tokens = len(self.llm.tokenize(text.encode(), add_bos=False, special=True))
        fit = windows_that_fit(self.context_size, prompt_tokens + 8, max_tokens)
        if fit < 1:
            raise CaptionError(
                f"music_flamingo.context_size {self.context_size} holds no 30 s window of audio "
                f"({TOKENS_PER_WINDOW} tokens) beside a prompt of {prompt_tokens} tokens and "
                f"{max_tokens} new tokens: raise it"
            )
        return fit

    def caption(self, audio_path: Path, prompt: str, max_tokens: int) -> str:
        from mir.audio import load_audio

        return self.caption_audio(load_audio(audio_path).mono(self.sample_rate), prompt, max_tokens)

    def caption_audio(self, samples: np.ndarray, prompt: str, max_tokens: int) -> str:
        """The caption of mono `samples` at :attr:`sample_rate`, in windows when the audio
        does not fit the context (their answers merged by the model)."""
        duration = len(samples) / self.sample_rate
        spans = plan_windows(duration, self.windows_per_call(prompt, max_tokens))
        self.last_windows = len(spans)
        if len(spans) == 1:
            return self.caption_samples(samples, self.audio_prompt(prompt), max_tokens)
        answers = []
        for i, (start, end) in enumerate(spans):
            part = samples[int(start * self.sample_rate) : int(end * self.sample_rate)]
            text = self.audio_prompt(part_prompt(prompt, i, spans))
            answers.append(self.caption_samples(part, text, max_tokens))
        return self.complete(merge_prompt(prompt, answers, spans), max_tokens)

    def complete(self, user: str, max_tokens: int) -> str:
        """The model's answer to a text-only user turn (the merge of windows' answers)."""
        tokens = self.llm.tokenize(self.chat(user).encode(), add_bos=False, special=True)
        if len(tokens) + max_tokens > self.context_size:
            raise CaptionError(
                f"the merge of the windows' answers ({len(tokens)} tokens) and {max_tokens} new "
                f"tokens exceed music_flamingo.context_size {self.context_size}"
            )
        self.llm.reset()
        clear_memory(self.llm)
        self.llm.eval(tokens)
        answer = sample_tokens(
            self.llm, max_tokens, temperature=self.temperature, top_p=self.top_p, seed=self.seed
        )
        text = normalize_model_output(answer)
        if not text:
            raise CaptionError("the model gave an empty answer to the merge of the windows")
        return text

    def caption_samples(self, samples: np.ndarray, text: str, max_tokens: int) -> str:
        mtmd = self._mtmd
        data = np.ascontiguousarray(samples, dtype=np.float32)
        bitmap = mtmd.mtmd_bitmap_init_from_audio(
            data.size, data.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
        )
        chunks = mtmd.mtmd_input_chunks_init()
        try:
            raw = text.encode()
            inp = mtmd.mtmd_input_text(
                text=raw, text_len=len(raw), add_special=True, parse_special=True
            )
            bitmaps = (mtmd.mtmd_bitmap_p_ctypes * 1)(bitmap)
            if mtmd.mtmd_tokenize(self.ctx, chunks, ctypes.byref(inp), bitmaps, 1) != 0:
                raise CaptionError("mtmd_tokenize failed (does the prompt hold the media marker?)")
            self.llm.reset()
            clear_memory(self.llm)
            from llama_cpp import llama_cpp as C

            n_past = C.llama_pos(0)
            rc = mtmd.mtmd_helper_eval_chunks(
                self.ctx, self.llm.ctx, chunks, 0, 0, self.llm.n_batch, True, ctypes.byref(n_past)
            )
            if rc != 0:
                raise CaptionError(f"mtmd_helper_eval_chunks failed with {rc}")
            answer = sample_tokens(
                self.llm, max_tokens, temperature=self.temperature, top_p=self.top_p, seed=self.seed
            )
        finally:
            mtmd.mtmd_input_chunks_free(chunks)
            mtmd.mtmd_bitmap_free(bitmap)
        text = normalize_model_output(answer)
        if not text:
            raise CaptionError("the model gave an empty caption")
        return text

    def close(self) -> None:
        if self.ctx:
            self._mtmd.mtmd_free(self.ctx)
            self.ctx = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


def clear_memory(llm) -> None:
    """Drop the KV cache of `llm`'s context (every sequence)."""
    from llama_cpp import llama_cpp as C

    C.llama_memory_clear(C.llama_get_memory(llm.ctx), True)


def sample_tokens(llm, max_tokens: int, *, temperature: float, top_p: float, seed: int = 0) -> str:
    """Continue from the context's last evaluated position: sample (top-p, temperature)
    and decode token by token until an end-of-generation token or `max_tokens`."""
    from llama_cpp import llama_cpp as C

    vocab = C.llama_model_get_vocab(llm.model)
    chain = C.llama_sampler_chain_init(C.llama_sampler_chain_default_params())
    C.llama_sampler_chain_add(chain, C.llama_sampler_init_top_p(top_p, 1))
    C.llama_sampler_chain_add(chain, C.llama_sampler_init_temp(temperature))
    C.llama_sampler_chain_add(chain, C.llama_sampler_init_dist(seed))
    tokens: list[int] = []
    try:
        for _ in range(max_tokens):
            token = C.llama_sampler_sample(chain, llm.ctx, -1)
            if C.llama_vocab_is_eog(vocab, token):
                break
            tokens.append(token)
            one = (C.llama_token * 1)(token)
            if C.llama_decode(llm.ctx, C.llama_batch_get_one(one, 1)) != 0:
                raise CaptionError("llama_decode failed while generating")
    finally:
        C.llama_sampler_free(chain)
    return llm.detokenize(tokens).decode("utf-8", errors="replace")


class TransformersCaptioner:
    """Music Flamingo through Hugging Face transformers, from a local model folder."""

    def __init__(self, folder: Path, *, temperature: float = 0.7, top_p: float = 0.9):
        if not (Path(folder) / "config.json").is_file():
            raise ModelNotFound(Path(folder) / "config.json", "music_flamingo.transformers_model")
        try:
            import torch
            from transformers import AutoProcessor, MusicFlamingoForConditionalGeneration
        except ImportError as exc:
            raise ModelNotFound(
                "transformers (Python package)",
                "music_flamingo.backend",
                f"the transformers backend needs `pip install -e '.[flamingo-hf]'` ({exc})",
            ) from None
        from mir.gpu import choose_device

        self.device = choose_device("auto")
        self.torch = torch
        self.processor = AutoProcessor.from_pretrained(str(folder), local_files_only=True)
        self.model = MusicFlamingoForConditionalGeneration.from_pretrained(
            str(folder),
            local_files_only=True,
            torch_dtype=torch.bfloat16 if self.device != "cpu" else torch.float32,
        ).to(self.device)
        self.temperature, self.top_p = temperature, top_p
        #: parts the last caption was made of (1 when the audio fitted the processor)
        self.last_windows = 0

    tag = "transformers"

    def caption(self, audio_path: Path, prompt: str, max_tokens: int) -> str:
        """The caption of a file; audio longer than the processor takes at once
        (`max_audio_len`, 1200 s for Music Flamingo, beyond which it truncates) is captioned
        in windows whose answers the model merges in a text-only turn."""
        from mir.audio import load_audio

        # decoded here (every format the platform reads), at the feature extractor's rate
        rate = int(self.processor.feature_extractor.sampling_rate)
        samples = load_audio(audio_path).mono(rate).astype(np.float32)
        limit = float(getattr(self.processor, "max_audio_len", 1200))
        spans = plan_windows(len(samples) / rate, max(1, int(limit // WINDOW_S)))
        self.last_windows = len(spans)
        if len(spans) == 1:
            return self.generate(prompt, samples, max_tokens)
        answers = [
            self.generate(
                part_prompt(prompt, i, spans), samples[int(a * rate) : int(b * rate)], max_tokens
            )
            for i, (a, b) in enumerate(spans)
        ]
        return self.generate(merge_prompt(prompt, answers, spans), None, max_tokens)

    def generate(self, prompt: str, samples: np.ndarray | None, max_tokens: int) -> str:
        """The model's answer to `prompt` with `samples` (mono, at the feature extractor's
        rate), or to the text alone when `samples` is None."""
        content: list[dict] = [{"type": "text", "text": prompt}]
        if samples is not None:
            content.append({"type": "audio", "audio": samples})
        inputs = self.processor.apply_chat_template(
            [{"role": "user", "content": content}],
            tokenize=True,
            add_generation_prompt=True,
            return_dict=True,
        ).to(self.device)
        with self.torch.inference_mode():
            out = self.model.generate(
                **inputs,
                max_new_tokens=max_tokens,
                do_sample=True,
                temperature=self.temperature,
                top_p=self.top_p,
            )
        #: audio tokens of the last prompt (0 would mean the audio never reached the model)
        self.last_audio_tokens = int((inputs["input_ids"] == self.processor.audio_token_id).sum())
        new = out[:, inputs["input_ids"].shape[1] :]
        text = self.processor.batch_decode(new, skip_special_tokens=True)[0]
        return normalize_model_output(text)


def check_caption_models(cfg) -> None:
    """Raise :class:`~mir.errors.ModelNotFound` for the first file the configured backend
    and revision need that is not in place (the template backend needs none)."""
    if cfg.backend == "cli":
        find_cli(cfg.cli)
    if cfg.backend in ("cli", "llama_cpp"):
        model_files(cfg.model_dir, cfg.model)
    if cfg.backend == "transformers" and not (cfg.transformers_model / "config.json").is_file():
        raise ModelNotFound(
            cfg.transformers_model / "config.json", "music_flamingo.transformers_model"
        )
    if cfg.revision.enabled and not cfg.revision.model.is_file():
        raise ModelNotFound(cfg.revision.model, "music_flamingo.revision.model")


def load_captioner(cfg) -> Any:
    """The captioner `cfg` (a `MusicFlamingoConfig`) asks for.

    Raises
    ------
    ModelNotFound
        Naming the file and key when something is missing.
    SignatureError
        For a projector of another type, or (for the CLI) a text model without a chat
        template, read from the GGUF headers before anything runs.
    """
    t0 = time.perf_counter()
    sampling = dict(temperature=cfg.temperature, top_p=cfg.top_p)
    gguf = dict(context_size=cfg.context_size, gpu_layers=cfg.gpu_layers, **sampling)
    if cfg.backend == "cli":
        cli = find_cli(cfg.cli)
        model, mmproj = model_files(cfg.model_dir, cfg.model)
        require_projector(mmproj)
        require_chat_template(model)
        header = gguf_header(model)
        trained = header.get(f"{header.get('general.architecture')}.context_length")
        captioner: Any = CliCaptioner(
            cli, model, mmproj, cfg.model, timeout_s=cfg.timeout_s, n_ctx_train=trained, **gguf
        )
    elif cfg.backend == "llama_cpp":
        model, mmproj = model_files(cfg.model_dir, cfg.model)
        captioner = MtmdCaptioner(model, mmproj, cfg.model, **gguf)
    elif cfg.backend == "transformers":
        captioner = TransformersCaptioner(cfg.transformers_model, **sampling)
    else:
        raise ValueError(f"music_flamingo.backend {cfg.backend!r} has no captioning model")
    captioner.load_seconds = time.perf_counter() - t0
    return captioner
