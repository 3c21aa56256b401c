"""The in-process Music Flamingo backend (`MtmdCaptioner`) end to end: Music Flamingo's
text model and audio projector as the published GGUF files hold them (a tiny random
`qwen2` with a byte-level BPE vocabulary and a chat template, a tiny `musicflamingo`
projector), loaded by llama.cpp's mtmd, caption audio through the real path (resampling,
mel spectrogram, Whisper-style encoder, projector, embedding decode, token sampling); a
20-minute track is captioned in windows whose answers the model merges."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mir.captions.flamingo import (
    CaptionError,
    MtmdCaptioner,
    projector_problems,
    text_model_problems,
)
from mir.signatures import SignatureError, gguf_header
from tests.gguf_models import (
    CHATML_TEMPLATE,
    write_tiny_llama,
    write_tiny_music_flamingo_mmproj,
    write_tiny_music_flamingo_text,
)

N_EMBD = 64
# mtmd encodes audio in 30 s windows of 750 embeddings each; a short clip is one window
CONTEXT = 2048


@pytest.fixture(scope="module")
def tiny_flamingo(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("flamingo")
    model = write_tiny_music_flamingo_text(folder / "music-flamingo-hf.Q8_0.gguf", n_embd=N_EMBD)
    mmproj = write_tiny_music_flamingo_mmproj(
        folder / "music-flamingo-hf.mmproj-f16.gguf", n_embd_text=N_EMBD
    )
    return model, mmproj


@pytest.fixture(scope="module")
def captioner(tiny_flamingo):
    model, mmproj = tiny_flamingo
    captioner = MtmdCaptioner(model, mmproj, "Q8_0", context_size=CONTEXT, gpu_layers=0)
    yield captioner
    captioner.close()


def tone(path: Path, seconds: float, sr: int = 44100, freq: float = 440.0) -> Path:
    t = np.arange(int(seconds * sr)) / sr
    sf.write(path, (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), sr)
    return path


def test_the_tiny_files_hold_the_published_metadata(tiny_flamingo):
    model, mmproj = tiny_flamingo
    text = gguf_header(model)
    assert text.get("general.architecture") == "qwen2"
    assert text.get("tokenizer.ggml.model") == "gpt2" and text.get("tokenizer.ggml.pre") == "qwen2"
    assert text.get("tokenizer.ggml.add_bos_token") is False
    assert text.get("tokenizer.chat_template") == CHATML_TEMPLATE
    assert text.tensors["blk.0.attn_q.weight"][1] == "Q8_0"
    assert text.tensors["blk.0.attn_k.bias"] == ((32,), "F32")  # grouped-query attention
    assert text_model_problems(model) == []
    proj = gguf_header(mmproj)
    assert proj.get("clip.projector_type") == "musicflamingo"
    assert proj.get("clip.has_audio_encoder") is True and proj.get("general.type") == "mmproj"
    assert proj.tensors["a.conv1d.1.weight"] == ((3, 128, 32), "F32")
    assert proj.tensors["a.blk.0.attn_q.weight"][1] == "F16"
    assert projector_problems(mmproj) == []
    assert mmproj.stat().st_size < 1_000_000


def test_the_projector_loads_as_an_audio_encoder_and_prompts_follow_the_template(captioner):
    assert captioner.sample_rate == 16000
    assert captioner.tag == "gguf_Q8_0"
    assert captioner.marker
    assert captioner.template == CHATML_TEMPLATE
    assert captioner.audio_prompt("Describe.") == (
        f"<|im_start|>user\n{captioner.marker}\nDescribe.<|im_end|>\n<|im_start|>assistant\n"
    )
    # a qwen2 vocabulary: no BOS, the template's special tokens are single tokens
    ids = captioner.llm.tokenize(b"<|im_start|>user", add_bos=True, special=True)
    assert captioner.llm.detokenize(ids[:1], special=True) == b"<|im_start|>"  # no BOS first
    assert captioner.llm.detokenize(ids[1:]) == b"user"


def test_a_tone_is_captioned_in_process_and_again_after_a_reset(captioner, tmp_path):
    # a 44.1 kHz file: the captioner resamples to the projector's 16 kHz
    audio = tone(tmp_path / "tone.wav", 2.0)
    prompt = "Describe this track."
    first = captioner.caption(audio, prompt, max_tokens=8)
    assert isinstance(first, str) and first.strip() and captioner.last_windows == 1
    # the second call starts from an empty KV cache: the same seed and input give the
    # same answer (without the reset the prompt's positions clash and decoding fails)
    second = captioner.caption(audio, prompt, max_tokens=8)
    assert second == first


def test_audio_longer_than_one_window_is_encoded_window_by_window(captioner):
    rng = np.random.default_rng(1)
    samples = (0.1 * rng.standard_normal(31 * captioner.sample_rate)).astype(np.float32)
    # two 30 s windows: 1500 audio embeddings, still inside the context
    answer = captioner.caption_samples(samples, captioner.audio_prompt("Describe."), max_tokens=4)
    assert isinstance(answer, str) and answer.strip()


def test_a_20_minute_track_captions_in_windows_without_overflowing(tiny_flamingo):
    """20 minutes are 40 encoder windows, 30,000 audio tokens: more than the default context
    of 16,384. In one prompt the decode overflows; the captioner instead captions two
    10-minute parts and merges their answers in a text-only turn."""
    model, mmproj = tiny_flamingo
    captioner = MtmdCaptioner(model, mmproj, "Q8_0", context_size=16384, gpu_layers=0)
    try:
        sr = captioner.sample_rate
        t = np.arange(20 * 60 * sr, dtype=np.float32) / sr
        samples = (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
        with pytest.raises(CaptionError, match="mtmd_helper_eval_chunks failed"):
            captioner.caption_samples(samples, captioner.audio_prompt("Describe."), 8)
        assert captioner.windows_per_call("Describe.", 8) == 21
        answer = captioner.caption_audio(samples, "Describe.", 8)
        assert isinstance(answer, str) and answer.strip()
        assert captioner.last_windows == 2
    finally:
        captioner.close()


def test_a_projector_of_another_type_or_a_text_model_is_refused_from_its_header(tmp_path):
    model = write_tiny_music_flamingo_text(tmp_path / "text.gguf", n_embd=N_EMBD)
    other = write_tiny_music_flamingo_mmproj(
        tmp_path / "ultravox.gguf", n_embd_text=N_EMBD, projector="ultravox"
    )
    with pytest.raises(SignatureError, match="projector type 'ultravox'.*expected 'musicflamingo'"):
        MtmdCaptioner(model, other, "Q8_0", context_size=512, gpu_layers=0)
    with pytest.raises(SignatureError, match="not a multimodal projector"):
        MtmdCaptioner(model, model, "Q8_0", context_size=512, gpu_layers=0)
    # the tiny model tests used before: llama, SentencePiece, no template
    llama = write_tiny_llama(tmp_path / "llama.gguf")
    assert text_model_problems(llama) == [
        "general.architecture is 'llama', expected 'qwen2'",
        "tokenizer.ggml.model is 'llama', expected 'gpt2'",
        "tokenizer.ggml.pre is None, expected 'qwen2'",
        "tokenizer.ggml.add_bos_token is true: Qwen2's prompts start without BOS",
        "no tokenizer.chat_template (llama-mtmd-cli refuses the model)",
        "this file: general.architecture=llama, tokenizer.ggml.model=llama, "
        "tokenizer.ggml.pre=None, 271 tokens, tokenizer.ggml.add_bos_token=True, "
        "tokenizer.chat_template absent",
    ]
