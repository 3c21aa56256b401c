"""Audio input: every supported format decodes; bad files raise AudioError naming the file."""

import numpy as np
import pytest
import soundfile as sf

from mir.audio import load_audio
from mir.errors import AudioError

SR = 44100


def _tone(seconds=1.0, sr=SR):
    t = np.arange(int(seconds * sr)) / sr
    y = 0.5 * np.sin(2 * np.pi * 440 * t)
    return np.stack([y, 0.5 * y], axis=1).astype(np.float32)


@pytest.mark.parametrize("ext", ["wav", "flac", "aiff", "ogg", "mp3"])
def test_soundfile_formats_decode_to_the_written_signal(tmp_path, ext):
    path = tmp_path / f"tone.{ext}"
    sf.write(str(path), _tone(), SR)
    audio = load_audio(path)
    assert audio.sr == SR and audio.channels == 2
    assert abs(audio.duration_s - 1.0) < 0.06  # lossy codecs pad a little
    rms = np.sqrt(np.mean(audio.samples[:, 0] ** 2))
    assert rms == pytest.approx(0.5 / np.sqrt(2), rel=0.05)


@pytest.mark.parametrize("ext", ["m4a", "aac"])
def test_aac_decodes_without_system_ffmpeg(tmp_path, ext):
    import av

    path = tmp_path / f"tone.{ext}"
    container = av.open(str(path), "w", format="adts" if ext == "aac" else "mp4")
    stream = container.add_stream("aac", rate=SR, layout="stereo")
    frame = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(_tone(2.0).T), format="fltp", layout="stereo"
    )
    frame.sample_rate = SR
    for packet in [*stream.encode(frame), *stream.encode(None)]:
        container.mux(packet)
    container.close()
    audio = load_audio(path)
    assert audio.sr == SR and audio.channels == 2
    assert abs(audio.duration_s - 2.0) < 0.1
    assert np.sqrt(np.mean(audio.samples[:, 0] ** 2)) == pytest.approx(0.354, rel=0.1)


def test_empty_file_is_an_audio_error_naming_the_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioError, match=r"empty\.wav: file is empty"):
        load_audio(path)


def test_text_named_mp3_is_an_audio_error(tmp_path):
    path = tmp_path / "notes.mp3"
    path.write_text("this is not audio\n" * 50)
    with pytest.raises(AudioError, match=r"notes\.mp3: not a readable audio file"):
        load_audio(path)


def test_truncated_flac_is_an_audio_error(tmp_path):
    path = tmp_path / "cut.flac"
    sf.write(str(path), _tone(3.0), SR)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioError, match=r"cut\.flac: (truncated|not a readable)"):
        load_audio(path)


def test_mono_view_is_cached_and_resampled_once():
    from mir.audio import Audio

    audio = Audio(samples=_tone(), sr=SR)
    y16 = audio.mono(16000)
    assert y16.shape == (16000,)
    assert audio.mono(16000) is y16
