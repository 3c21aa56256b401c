"""The in-process Music Flamingo backend (`MtmdCaptioner`) end to end: a tiny random llama
and a tiny random `musicflamingo` audio projector, loaded by llama.cpp's mtmd, caption a
synthesised tone through the real path (resampling, mel spectrogram, Whisper-style
encoder, projector, embedding decode, token sampling)."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mir.captions.flamingo import MtmdCaptioner
from tests.gguf_models import write_tiny_llama, write_tiny_music_flamingo_mmproj

N_EMBD = 64
# mtmd encodes audio in 30 s windows of 750 embeddings each; a short clip is one window
CONTEXT = 2048


@pytest.fixture(scope="module")
def tiny_flamingo(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("flamingo")
    model = write_tiny_llama(folder / "tiny-llama-f32.gguf", n_embd=N_EMBD)
    mmproj = write_tiny_music_flamingo_mmproj(folder / "mmproj.gguf", n_embd_text=N_EMBD)
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


def test_the_tiny_projector_loads_as_an_audio_encoder(tiny_flamingo, captioner):
    import gguf

    _, mmproj = tiny_flamingo
    assert mmproj.stat().st_size < 1_000_000
    reader = gguf.GGUFReader(str(mmproj))
    field = reader.get_field(gguf.Keys.Clip.PROJECTOR_TYPE)
    assert field.contents() == "musicflamingo"
    assert captioner.sample_rate == 16000
    assert captioner.tag == "gguf_Q8_0"
    assert captioner.marker


def test_a_tone_is_captioned_in_process_and_again_after_a_reset(captioner, tmp_path):
    # a 44.1 kHz file: the captioner resamples to the projector's 16 kHz
    audio = tone(tmp_path / "tone.wav", 2.0)
    prompt = "Describe this track."
    first = captioner.caption(audio, prompt, max_tokens=8)
    assert isinstance(first, str) and first.strip()
    # the second call starts from an empty KV cache: the same seed and input give the
    # same answer (without the reset the prompt's positions clash and decoding fails)
    second = captioner.caption(audio, prompt, max_tokens=8)
    assert second == first


def test_audio_longer_than_one_window_is_encoded_window_by_window(captioner):
    from mir.captions.llm import chat_prompt

    rng = np.random.default_rng(1)
    samples = (0.1 * rng.standard_normal(31 * captioner.sample_rate)).astype(np.float32)
    text = chat_prompt("chatml", "", f"{captioner.marker}\nDescribe this track.")
    # two 30 s windows: 1500 audio embeddings, still inside the context
    answer = captioner.caption_samples(samples, text, max_tokens=4)
    assert isinstance(answer, str) and answer.strip()
