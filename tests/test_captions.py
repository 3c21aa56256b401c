"""Captions: prompts, the three chat formats, the revision through a real (tiny) GGUF model,
the llama-mtmd-cli wrapper against a recording executable, and the `captions` asset."""

import json
import os
import shutil
import stat
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mir.captions.flamingo import (
    MMPROJ,
    QUANT_FILES,
    CaptionError,
    CliCaptioner,
    cli_audio,
    cli_timings,
)
from mir.captions.llm import (
    DEFAULT_REVISION_PROMPTS,
    TextModel,
    chat_prompt,
    parse_tags,
    revise,
    revision_grammar,
    revision_inputs,
    revision_request,
)
from mir.captions.prompts import DEFAULT_PROMPTS, fill_prompt, genres_text, metadata_text
from mir.captions.template import template_caption
from mir.captions.text import normalize_model_output
from mir.errors import ModelNotFound
from mir.synth import render_song
from tests.gguf_models import (
    write_tiny_llama,
    write_tiny_music_flamingo_mmproj,
    write_tiny_music_flamingo_text,
)

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory) -> Path:
    return write_tiny_llama(tmp_path_factory.mktemp("gguf") / "tiny-llama-f32.gguf")


@pytest.fixture
def recording_cli(tmp_path, monkeypatch) -> Path:
    """`llama-mtmd-cli` on PATH: the recording stand-in; returns its record file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "llama-mtmd-cli"
    exe.write_text(f"#!{sys.executable}\n" + (FIXTURES / "recording_llama_mtmd_cli.py").read_text())
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    record = tmp_path / "calls.jsonl"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("MTMD_RECORD", str(record))
    return record


def calls(record: Path) -> list[dict]:
    return [json.loads(line) for line in record.read_text().splitlines()]


def flamingo_files(folder: Path, quant="Q8_0", **text) -> Path:
    """Music Flamingo's text model and projector, tiny, as the published GGUF files are."""
    folder.mkdir(parents=True, exist_ok=True)
    write_tiny_music_flamingo_text(folder / QUANT_FILES[quant], **text)
    write_tiny_music_flamingo_mmproj(folder / MMPROJ)
    return folder


# -- prompts --------------------------------------------------------------------------


def test_placeholders_are_filled_from_the_tracks_own_values():
    values = {
        "essentia_genre": {
            "Electronic---Techno": 0.61,
            "Electronic---House": 0.2,
            "Electronic---Ambient": 0.11,
            "Rock---Punk": 0.105,
            "Jazz---Fusion": 0.102,
            "Pop---Synth-pop": 0.101,
        },
        "track_metadata_year": 1997,
        "label": "Warp",
        "genres": ["idm"],
    }
    assert genres_text(values) == (
        "Electronic - Techno (0.61), Electronic - House (0.20), Electronic - Ambient (0.11), "
        "Rock - Punk (0.10), Jazz - Fusion (0.10). (Weights are softmax-like scores from a "
        "genre classifier; low values were filtered out.)"
    )
    assert metadata_text(values) == "Released in 1997 on Warp; genres: idm."
    assert metadata_text({}) == "" and genres_text({}) == "Genre unknown."
    assert fill_prompt("Hints: {genres} {metadata} Keep {braces}.", {}) == (
        "Hints: Genre unknown.  Keep {braces}."
    )


def test_template_caption_on_known_features():
    values = {
        "bpm": 127.9,
        "tonic": 9,
        "tonic_scale": "minor",
        "beats_per_bar": 4,
        "lufs": -8.0,
        "brightness": 72.0,
        "warmth": 40.0,
        "essentia_genre": {"Electronic---Techno": 0.7, "Electronic---Acid": 0.2},
        "essentia_mood": {"dark": 0.4},
        "essentia_instrument": {"synthesizer": 0.8, "drummachine": 0.6},
    }
    assert template_caption(values) == (
        "Techno, Acid track at 128 BPM in A minor, 4/4 time, dark mood, "
        "with synthesizer, drummachine, very loud, bright."
    )


def test_model_output_is_cleaned_for_t5():
    stdout = (
        "llama_model_loader: loaded meta data\nmain: loading model\nencoding audio slice...\n"
        "0x00007f3a2b1c0000 in ?? ()\n#1  0x0000 in clip_encode\n"
        "A \u201cwarm\u201d lo\u2011fi groove \u2014 brushed\u202fdrums.\n"
    )
    assert normalize_model_output(stdout) == 'A "warm" lo-fi groove -- brushed drums.'


# -- chat formats and the revision ----------------------------------------------------


def test_chat_formats_are_exact():
    assert chat_prompt("chatml", "S", "U") == (
        "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n"
    )
    assert chat_prompt("granite", "S", "U") == (
        "<|start_of_role|>system<|end_of_role|>S<|end_of_text|>\n"
        "<|start_of_role|>user<|end_of_role|>U<|end_of_text|>\n"
        "<|start_of_role|>assistant<|end_of_role|>"
    )
    assert chat_prompt("harmony", "S", "U") == (
        "<|start|>system<|message|>Reasoning: low\n\n# Valid channels: analysis, final. "
        "Channel must be included for every message.<|end|>"
        "<|start|>developer<|message|># Instructions\n\nS<|end|>"
        "<|start|>user<|message|>U<|end|>"
        "<|start|>assistant<|channel|>final<|message|>"
    )
    assert chat_prompt("chatml", "", "U") == (
        "<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n"
    )
    with pytest.raises(ValueError, match="chatml, granite, harmony"):
        chat_prompt("alpaca", "S", "U")


def test_revision_reads_only_caption_texts():
    values = {
        "music_flamingo_full": " A slow piano ballad. ",
        "music_flamingo_structure": "Verse, chorus, verse.",
        "music_flamingo_model": "gguf_Q8_0",
        "music_flamingo_short_mood": "an earlier revision",
        "music_flamingo_genre_mood": "",
        "bpm": 70.0,
    }
    captions = revision_inputs(values, DEFAULT_REVISION_PROMPTS)
    assert captions == {
        "music_flamingo_full": "A slow piano ballad.",
        "music_flamingo_structure": "Verse, chorus, verse.",
    }
    assert revision_request(captions, {"short_mood": "the mood", "short_genre": "the genre"}) == (
        "Descriptions of the clip:\n"
        "[music_flamingo_full]: A slow piano ballad.\n"
        "[music_flamingo_structure]: Verse, chorus, verse.\n"
        "\n"
        "Write each summary between its tags:\n"
        "<short_mood>the mood</short_mood>\n"
        "<short_genre>the genre</short_genre>"
    )
    assert revision_grammar(["a", "b"], 7) == (
        'root ::= "<a>" text "</a>\\n" "<b>" text "</b>\\n"\ntext ::= [^<>\\x00-\\x1f]{1,7}\n'
    )
    answer = (
        "<short_technical>70 BPM,<|end_of_text|> F major</short_technical>\n"
        "<short_mood> Tender \u2014 and calm </short_mood>\n<short_genre></short_genre>"
    )
    assert parse_tags(answer, list(DEFAULT_REVISION_PROMPTS)) == {
        "short_technical": "70 BPM, F major",
        "short_mood": "Tender -- and calm",
    }


@pytest.mark.parametrize("chat_format", ["chatml", "granite", "harmony"])
def test_revision_runs_a_real_gguf_model(tiny_gguf, chat_format):
    model = TextModel(tiny_gguf, config_key="k", chat_format=chat_format, n_ctx=2048)
    values = {"music_flamingo_full": "A slow piano ballad.", "music_flamingo_model": "gguf_Q8_0"}
    out = revise(model, values, DEFAULT_REVISION_PROMPTS, max_tokens=300, max_chars=12)
    assert sorted(out) == [
        "music_flamingo_short_genre",
        "music_flamingo_short_mood",
        "music_flamingo_short_technical",
    ]
    assert all(isinstance(v, str) and 0 < len(v) <= 12 for v in out.values())
    # nothing to revise: no call, no keys
    assert revise(model, {"music_flamingo_model": "gguf_Q8_0"}, DEFAULT_REVISION_PROMPTS) == {}


def test_a_missing_revision_model_names_file_and_key(tmp_path):
    with pytest.raises(ModelNotFound, match="music_flamingo.revision.model") as err:
        TextModel(tmp_path / "granite.gguf", config_key="music_flamingo.revision.model")
    assert str(tmp_path / "granite.gguf") in str(err.value)


def test_in_process_backend_rejects_a_text_model_as_projector(tiny_gguf):
    from mir.captions.flamingo import MtmdCaptioner
    from mir.signatures import SignatureError

    with pytest.raises(SignatureError, match="not a multimodal projector"):
        MtmdCaptioner(tiny_gguf, tiny_gguf, "Q8_0", context_size=512, gpu_layers=0)


def test_token_sampling_loop_generates_after_a_prompt(tiny_gguf):
    from llama_cpp import Llama

    from mir.captions.flamingo import clear_memory, sample_tokens

    llm = Llama(model_path=str(tiny_gguf), n_ctx=256, verbose=False, seed=1)
    llm.reset()
    clear_memory(llm)
    llm.eval(llm.tokenize(b"a calm piano"))
    text = sample_tokens(llm, 8, temperature=0.7, top_p=0.9, seed=1)
    assert isinstance(text, str) and text


# -- llama-mtmd-cli -------------------------------------------------------------------


def cli_captioner(tmp_path: Path, audio_name: str, **options) -> tuple[CliCaptioner, Path]:
    """A captioner on the recording CLI, and a second of silence named `audio_name`."""
    models = flamingo_files(tmp_path / "mf")
    audio = tmp_path / audio_name
    sf.write(audio, np.zeros(16000, np.float32), 16000)
    cli = Path(shutil.which("llama-mtmd-cli"))
    model = models / QUANT_FILES["Q8_0"]
    return CliCaptioner(cli, model, models / MMPROJ, "Q8_0", **options), audio


def test_cli_gets_the_original_arguments_and_its_answer_is_cleaned(recording_cli, tmp_path):
    models = tmp_path / "mf"
    cap, audio = cli_captioner(tmp_path, "a, b.flac", context_size=8192)
    text = cap.caption(audio, "Describe it.", 321)
    assert text == 'A "warm" lo-fi groove -- brushed drums and Rhodes.'
    (call,) = calls(recording_cli)
    argv = call["argv"]
    audio_arg = argv[argv.index("--audio") + 1]
    # the comma-free stand-in for a path with a comma: a link to the original
    assert "," not in audio_arg and call["audio_is_link"] and call["audio_head"] == "fLaC"
    assert argv == [
        "-m",
        str(models / QUANT_FILES["Q8_0"]),
        "--mmproj",
        str(models / MMPROJ),
        "--audio",
        audio_arg,
        "-p",
        "Describe it.",
        "-n",
        "321",
        "-c",
        "8192",
        "--gpu-layers",
        "99",
        "--temp",
        "0.7",
        "--top-p",
        "0.9",
    ]
    assert call["stdin"] == ""
    assert cap.timings == [
        {
            "audio_encode_ms": 120.0,
            "audio_decode_ms": 30.0,
            "prompt_tokens_per_s": 500.0,
            "eval_tokens_per_s": 100.0,
        }
    ]


def test_the_cli_context_is_sized_from_the_duration_and_longer_mixes_go_in_windows(
    recording_cli, tmp_path
):
    """`-c` grows with the audio (750 tokens per 30 s) up to the text model's trained context
    (its GGUF's qwen2.context_length, 32,768); a mix beyond it is captioned in parts whose
    answers are joined with their time spans."""
    from mir.captions.flamingo import load_captioner
    from mir.config import MusicFlamingoConfig

    models = flamingo_files(tmp_path / "mf")
    cfg = MusicFlamingoConfig(backend="cli", model_dir=models)
    captioner = load_captioner(cfg)
    assert captioner.n_ctx_train == 32768 and captioner.context_size == 16384
    twenty = tmp_path / "twenty.wav"
    sf.write(twenty, np.zeros(20 * 60 * 8000, np.int16), 8000, subtype="PCM_16")
    caption = 'A "warm" lo-fi groove -- brushed drums and Rhodes.'
    assert captioner.caption(twenty, "Describe it.", 300) == caption
    (call,) = calls(recording_cli)
    context = int(call["argv"][call["argv"].index("-c") + 1])
    assert 30000 + 300 < context <= 32768 and captioner.last_windows == 1

    forty = tmp_path / "forty.wav"
    sf.write(forty, np.zeros(40 * 60 * 8000, np.int16), 8000, subtype="PCM_16")
    assert captioner.caption(forty, "Describe it.", 300) == (
        f"0:00-20:00: {caption} 20:00-40:00: {caption}"
    )
    parts = calls(recording_cli)[1:]
    assert [c["argv"][c["argv"].index("-p") + 1] for c in parts] == [
        "This audio is part 1 of 2 of a longer track (0:00 to 20:00 of 40:00). Describe it.",
        "This audio is part 2 of 2 of a longer track (20:00 to 40:00 of 40:00). Describe it.",
    ]
    assert all(int(c["argv"][c["argv"].index("-c") + 1]) <= 32768 for c in parts)


def test_the_cli_refuses_a_text_model_without_a_chat_template(recording_cli, tmp_path):
    from mir.captions.flamingo import load_captioner
    from mir.config import MusicFlamingoConfig
    from mir.signatures import SignatureError

    models = flamingo_files(tmp_path / "mf", chat_template=None)
    with pytest.raises(SignatureError) as err:
        load_captioner(MusicFlamingoConfig(backend="cli", model_dir=models))
    message = str(err.value)
    assert "no tokenizer.chat_template" in message and "llama-mtmd-cli refuses" in message
    assert "gguf-new-metadata --chat-template-config" in message


def test_cli_formats_it_cannot_read_go_as_wav(tmp_path):
    src = tmp_path / "clip.ogg"
    sf.write(src, np.zeros((22050, 2), np.float32), 22050, format="OGG")
    with cli_audio(src) as readable:
        assert readable.suffix == ".wav" and readable.read_bytes()[:4] == b"RIFF"
        info = sf.info(readable)
        assert info.samplerate == 22050 and info.channels == 2
    assert not readable.exists()
    plain = tmp_path / "clip.flac"
    sf.write(plain, np.zeros(1000, np.float32), 22050)
    with cli_audio(plain) as readable:
        assert readable == plain


def test_cli_failures_timeouts_and_late_exits(recording_cli, tmp_path):
    cap, audio = cli_captioner(tmp_path, "a.wav", timeout_s=1.0)
    with pytest.raises(CaptionError, match="exited with 1: error: failed to load model"):
        cap.caption(audio, "[fail]", 10)
    with pytest.raises(CaptionError, match="timed out after 1 s"):
        cap.caption(audio, "[sleep]", 10)
    # a non-zero exit after an answer is not a failure
    assert cap.caption(audio, "[late-exit]", 10).startswith('A "warm"')
    assert cli_timings("nothing") == {}


# -- the asset ------------------------------------------------------------------------


def test_captions_asset_without_a_model_writes_the_template(project, instance):
    from mir.info import info_path, read_info
    from store.duckdb import DuckDBTables
    from tests.helpers import register, run_track

    path = project.add_audio("Plain Song.wav", render_song(bpm=120, bars=4).mix)
    (track_id,) = register(project, [path], instance)
    result = run_track(
        project,
        instance,
        track_id,
        selection=["source_audio", "beat_grid", "loudness", "captions"],
    )
    assert result.success
    info = read_info(info_path(project.library / track_id))
    assert info["caption"] == info["caption_template"] == template_caption(info)
    assert info["caption"].startswith("Music at 120 BPM")
    with DuckDBTables(project.duckdb).connect(read_only=True) as con:
        row = con.execute("SELECT caption FROM captions WHERE track_id = ?", [track_id]).fetchone()
    assert row == (info["caption"],)


def test_captions_asset_with_the_cli_and_the_revision(
    project, instance, recording_cli, tiny_gguf, tmp_path
):
    from mir.info import info_path, read_info
    from store.duckdb import DuckDBTables
    from tests.conftest import write_config
    from tests.helpers import register, run_track

    models = flamingo_files(tmp_path / "mf", "Q6_K")
    write_config(
        project.root,
        music_flamingo={
            "backend": "cli",
            "model": "Q6_K",
            "model_dir": str(models),
            "context_size": 4096,
            "prompts": {"full": "Describe. {genres}", "genre_mood": "Genre and mood."},
            "max_tokens": {"full": 400},
            "revision": {
                "enabled": True,
                "model": str(tiny_gguf),
                "chat_format": "chatml",
                "n_ctx": 2048,
                "max_chars": 10,
                "prompts": {"short_mood": "the mood", "short_genre": "the genre"},
            },
        },
    )
    path = project.add_audio("Two Prompts.ogg", render_song(bpm=100, bars=2).mix)
    (track_id,) = register(project, [path], instance)
    assert run_track(project, instance, track_id, selection=["source_audio", "captions"]).success
    info = read_info(info_path(project.library / track_id))
    caption = 'A "warm" lo-fi groove -- brushed drums and Rhodes.'
    assert info["music_flamingo_full"] == info["music_flamingo_genre_mood"] == caption
    assert info["music_flamingo_model"] == "gguf_Q6_K" and info["caption"] == caption
    assert 0 < len(info["music_flamingo_short_mood"]) <= 10
    assert 0 < len(info["music_flamingo_short_genre"]) <= 10
    recorded = calls(recording_cli)
    prompts = [c["argv"][c["argv"].index("-p") + 1] for c in recorded]
    assert prompts == ["Describe. Genre unknown.", "Genre and mood."]
    assert [c["argv"][c["argv"].index("-n") + 1] for c in recorded] == ["400", "500"]
    assert all(c["argv"][c["argv"].index("-c") + 1] == "4096" for c in recorded)
    # an ogg source reaches the CLI as WAV
    assert all(c["audio_head"] == "RIFF" for c in recorded)
    with DuckDBTables(project.duckdb).connect(read_only=True) as con:
        row = con.execute(
            "SELECT music_flamingo_model, music_flamingo_short_mood FROM captions "
            "WHERE track_id = ?",
            [track_id],
        ).fetchone()
    assert row == ("gguf_Q6_K", info["music_flamingo_short_mood"])


def test_a_missing_flamingo_model_fails_captions_alone(project, instance, recording_cli, tmp_path):
    from tests.conftest import write_config
    from tests.helpers import failures_of_one_song

    write_config(
        project.root, music_flamingo={"backend": "cli", "model_dir": str(tmp_path / "none")}
    )
    failed = failures_of_one_song(
        project, instance, ["source_audio", "loudness", "captions"], name="No Model.wav"
    )
    assert set(failed) == {"captions"}
    assert "music-flamingo-hf.Q8_0.gguf" in failed["captions"]
    assert "music_flamingo.model" in failed["captions"]


def test_mir_caption_one_file_with_the_cli(recording_cli, tmp_path, capsys):
    from mir.info import safe_update
    from mir_cli import main
    from tests.conftest import write_config

    models = flamingo_files(tmp_path / "mf", "Q6_K")
    config = write_config(tmp_path / "proj", music_flamingo={"model_dir": str(models)})
    track = tmp_path / "Song"
    track.mkdir()
    audio = track / "full_mix.wav"
    sf.write(audio, np.zeros(16000, np.float32), 16000)
    safe_update(
        track / "Song.INFO",
        {"bpm": 90.0, "essentia_genre": {"Jazz---Bop": 0.5}, "label": "Blue Note"},
    )
    code = main(
        ["caption", str(audio), "--backend", "cli", "--model", "Q6_K", "--prompt", "genre_mood"]
        + ["--json", "--config", str(config)]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {
        "caption_template": "Bop track at 90 BPM.",
        "music_flamingo_genre_mood": 'A "warm" lo-fi groove -- brushed drums and Rhodes.',
        "music_flamingo_model": "gguf_Q6_K",
    }
    (call,) = calls(recording_cli)
    assert call["argv"][call["argv"].index("-m") + 1] == str(models / QUANT_FILES["Q6_K"])
    assert call["argv"][call["argv"].index("-p") + 1] == DEFAULT_PROMPTS["genre_mood"]
    # an unknown prompt key is a clear error
    assert main(["caption", str(audio), "--prompt", "nope", "--config", str(config)]) == 2
    assert "unknown prompt nope" in capsys.readouterr().err


def test_transformers_backend_runs_the_real_architecture(tmp_path):
    from mir.captions.flamingo import TransformersCaptioner
    from tests.flamingo_hf import write_tiny_music_flamingo

    folder = write_tiny_music_flamingo(tmp_path / "music-flamingo-hf")
    captioner = TransformersCaptioner(folder)
    audio = tmp_path / "tone.ogg"
    t = np.arange(3 * 22050) / 22050
    sf.write(audio, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 22050, format="OGG")
    text = captioner.caption(audio, "Describe.", 6)
    assert isinstance(text, str)
    # 3 s at 16 kHz: 300 mel frames -> 150 after the conv -> 75 audio tokens
    assert captioner.last_audio_tokens == 75 and captioner.last_windows == 1
    # audio beyond what the processor takes at once (1200 s; 30 s here) goes in windows,
    # merged by a text-only turn (no audio tokens in it)
    captioner.processor.max_audio_len = 30
    long = tmp_path / "long.wav"
    sf.write(long, np.zeros(16000 * 70, np.float32), 16000)
    assert isinstance(captioner.caption(long, "Describe.", 4), str)
    assert captioner.last_windows == 3 and captioner.last_audio_tokens == 0
    with pytest.raises(ModelNotFound, match="music_flamingo.transformers_model"):
        TransformersCaptioner(tmp_path / "none")


def test_runs_leave_out_captions_only_when_its_model_is_missing(project, tmp_path, recording_cli):
    from mir.config import load_config
    from mir_assets.definitions import all_assets
    from mir_assets.selection import missing_model, runnable_track_assets
    from tests.conftest import write_config

    def selected(cfg):
        return {k.path[-1] for k in runnable_track_assets(cfg, all_assets)}

    assert "captions" in selected(load_config(project.config_path))
    write_config(project.root, music_flamingo={"backend": "cli", "model_dir": str(tmp_path / "x")})
    cfg = load_config(project.config_path)
    error = missing_model(cfg, "captions")
    assert error is not None and error.expected == str(tmp_path / "x" / QUANT_FILES["Q8_0"])
    assert "captions" not in selected(cfg) and "loudness" in selected(cfg)
    flamingo_files(tmp_path / "x")
    assert missing_model(cfg, "captions") is None and "captions" in selected(cfg)
    write_config(
        project.root,
        music_flamingo={
            "backend": "cli",
            "model_dir": str(tmp_path / "x"),
            "revision": {"enabled": True, "model": str(tmp_path / "granite.gguf")},
        },
    )
    error = missing_model(load_config(project.config_path), "captions")
    assert error.config_key == "music_flamingo.revision.model"
