"""`mir models list | fetch | verify` against a real HTTP server on loopback.

The server holds the tests' own tiny models (a random-weight HTDemucs in Demucs's format,
Essentia-style ONNX heads) under the paths of the manifest's URLs, which `--source-base`
points at it. A copy of the manifest carries the sha256 of those tiny files. What is
fetched is then loaded and run by the real loaders.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
import yaml

from mir.config import PROJECT_ROOT, load_config
from mir.models import (
    MANIFEST,
    PREFIX_VERIFIED,
    DownloadError,
    ManifestError,
    ModelFile,
    check_file,
    download,
    load_manifest,
    rebase,
    selected_for,
)
from mir_cli import main as mir
from tests.conftest import write_config

SR = 44100
ESSENTIA_FETCHED = (  # the classification files the manifest can fetch (all but the genre .onnx)
    "discogs-effnet-bsdynamic-1.onnx",
    "discogs-effnet-bsdynamic-1.json",
    "genre_discogs400-discogs-effnet-1.json",
    "mtg_jamendo_moodtheme-discogs-effnet-1.onnx",
    "mtg_jamendo_moodtheme-discogs-effnet-1.json",
    "mtg_jamendo_instrument-discogs-effnet-1.onnx",
    "mtg_jamendo_instrument-discogs-effnet-1.json",
)
GENRE_ONNX = "genre_discogs400-discogs-effnet-1.onnx"


class ModelServer:
    """Files by URL path over HTTP/1.0 on 127.0.0.1, answering Range requests.

    `cut[path] = n` sends the full Content-Length but only n bytes, once, then closes;
    `ignore_range` answers every request with the whole file (200). Each request is
    recorded: path, Range header, status and body bytes sent.
    """

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.cut: dict[str, int] = {}
        self.ignore_range = False
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                path = urlsplit(self.path).path
                data = server.files.get(path)
                asked = self.headers.get("Range")
                record = {"path": path, "range": asked, "status": 404, "sent": 0}
                server.requests.append(record)
                if data is None:
                    self.send_error(404)
                    return
                start = 0
                match = re.fullmatch(r"bytes=(\d+)-", asked or "")
                if match and not server.ignore_range:
                    start = int(match.group(1))
                    if start >= len(data):
                        record["status"] = 416
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.end_headers()
                        return
                body = data[start:]
                record["status"] = 206 if start else 200
                self.send_response(record["status"])
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if path in server.cut:
                    body = body[: server.cut.pop(path)]
                self.wfile.write(body)
                record["sent"] = len(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/mirror"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def serve(self, url: str, data: bytes) -> None:
        """Serve `data` where `--source-base <self.url>` rebases `url` to."""
        self.files[urlsplit(rebase(url, self.url)).path] = data

    def hits(self, name: str) -> list[dict]:
        return [r for r in self.requests if r["path"].endswith("/" + name)]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, bytes]:
    """The tiny models' bytes: `demucs` (a Demucs package) and Essentia's file names."""
    from tests.test_classification import make_tiny_essentia_models
    from tests.test_stems import make_tiny_demucs

    build = tmp_path_factory.mktemp("tiny")
    (th,) = make_tiny_demucs(build / "demucs").glob("*.th")
    files = {"demucs": th.read_bytes()}
    for path in make_tiny_essentia_models(build / "essentia", genre_head=True).iterdir():
        files[path.name] = path.read_bytes()
    from tests.gguf_models import write_tiny_music_flamingo_mmproj, write_tiny_music_flamingo_text

    files["flamingo"] = write_tiny_music_flamingo_text(build / "text.gguf").read_bytes()
    files["mmproj"] = write_tiny_music_flamingo_mmproj(build / "mmproj.gguf").read_bytes()
    return files


@pytest.fixture
def server():
    with ModelServer() as s:
        yield s


@pytest.fixture
def mirror(tmp_path, tiny, server) -> Path:
    """A copy of the real manifest whose htdemucs, fetchable classification files and Music
    Flamingo Q8_0 + projector are the tiny models, with their sha256; the server holds them."""
    raw = yaml.safe_load(MANIFEST.read_text())
    by_name = {m["name"]: m for m in raw["models"]}
    demucs = tiny["demucs"]
    prefix = _sha256(demucs)[:8]
    (th,) = by_name["htdemucs"]["files"]
    th["path"] = f"955717e8-{prefix}.th"  # Demucs checks this prefix on load
    th["url"] = th["url"].rsplit("/", 1)[0] + "/" + th["path"]
    th.update(sha256=_sha256(demucs), sha256_prefix=prefix)
    server.serve(th["url"], demucs)
    stand_ins = {
        "music-flamingo-hf.Q8_0.gguf": "flamingo",
        "music-flamingo-hf.mmproj-f16.gguf": "mmproj",
    }
    for entry in raw["models"]:
        for f in entry["files"]:
            key = f["path"] if f["path"] in ESSENTIA_FETCHED else stand_ins.get(f["path"])
            if key is not None:
                f.update(sha256=_sha256(tiny[key]), size=len(tiny[key]))
                server.serve(f["url"], tiny[key])
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def _config(project, **overrides) -> str:
    # aesthetics, drum transcription and latents off: their models are not served here
    features = {"aesthetics": False, "drum_transcription": False, "latents": False}
    return str(write_config(project.root, features=features, **overrides))


def _models(capsys, *args) -> tuple[int, str]:
    rc = mir(["models", *args])
    return rc, capsys.readouterr().out


def _rows(listing: str) -> dict[str, dict[str, str]]:
    """`mir models list`'s table as {file name: {column: value}}."""
    lines = listing.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("MODEL"))
    columns = list(re.finditer(r"\S+(?: \S+)*", lines[header]))
    starts = [m.start() for m in columns]
    names = [m.group() for m in columns]
    rows = {}
    for line in lines[header + 1 :]:
        if not line.strip():
            break
        cells = [line[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
        row = dict(zip(names, cells, strict=True))
        rows[Path(row["FILE"]).name] = row
    return rows


def test_the_readme_tables_and_the_manifest_name_the_same_files_urls_and_checksums():
    readme = (PROJECT_ROOT / "models" / "README.md").read_text()
    tables = "\n".join(line for line in readme.splitlines() if line.startswith("|"))
    listed = set()
    for entry in load_manifest(MANIFEST):
        for f in entry.files:
            listed.add(f.path)
            assert f"`{f.path}`" in tables, f"{entry.name}: {f.path} is not in a README table"
            if f.url and f.fetchable and entry.fetchable:
                assert f.url in readme, f"{entry.name}: {f.url} is not in models/README.md"
            for digest in (f.sha256, f.sha256_prefix):
                assert digest is None or digest in tables, f"{entry.name}: {digest}"
        for name in entry.write:
            assert f"`{name}`" in tables, f"{entry.name}: {name} is not in a README table"
    in_tables = set(re.findall(r"`([\w.-]+\.(?:th|onnx|gguf|pt|pth|ckpt))`", tables))
    assert in_tables <= listed, f"in README tables, not in the manifest: {in_tables - listed}"


def test_the_default_configuration_selects_htdemucs_and_the_three_essentia_heads():
    entries = load_manifest(MANIFEST)
    cfg = load_config()
    assert [e.name for e in selected_for(entries, cfg, "stems")] == ["htdemucs"]
    # the genre head is optional: the EffNet's own activations score the 400 styles
    assert [e.name for e in selected_for(entries, cfg, "classification")] == [
        "discogs-effnet",
        "mtg_jamendo_moodtheme",
        "mtg_jamendo_instrument",
    ]
    assert selected_for(entries, cfg, "captions") == []  # the template backend
    assert not any(f.sha256 for e in entries for f in e.files)  # none invented
    unfetchable = {e.name for e in entries if not e.fetchable}
    assert {"adtof-frame-rnn", "music-flamingo-hf", "gender-vggish"} <= unfetchable


def test_a_manifest_with_an_unknown_key_is_refused(tmp_path):
    bad = tmp_path / "m.yaml"
    bad.write_text("models:\n  - {name: x, assets: [stems], config_key: k, folder: k, shasum: 1}\n")
    with pytest.raises(ManifestError, match="shasum"):
        load_manifest(bad)


def test_source_base_keeps_the_path_and_replaces_scheme_and_host():
    url = "https://dl.fbaipublicfiles.com/demucs/hybrid_transformer/955717e8-8726e21a.th"
    assert rebase(url, "http://mirror:8000/models/") == (
        "http://mirror:8000/models/demucs/hybrid_transformer/955717e8-8726e21a.th"
    )
    assert rebase("https://h.example/a/b.gguf?download=true", "http://m") == (
        "http://m/a/b.gguf?download=true"
    )
    assert rebase(url, None) == url


def test_fetch_for_stems_and_classification_then_the_real_loaders_load_and_run(
    project, mirror, server, tiny, capsys
):
    config = _config(project)
    args = ["--config", config, "--manifest", str(mirror)]
    rc, before = _models(capsys, "list", *args)
    rows = _rows(before)
    th = next(name for name in rows if name.startswith("955717e8-"))
    assert rc == 1
    assert rows[th]["STATE"] == "MISSING" and rows[th]["MODEL"] == "* htdemucs"
    assert rows[GENRE_ONNX]["FETCH"] == "manual"
    assert "mir models fetch --for stems" in before

    rc, out = _models(
        capsys, "fetch", "--for", "stems", "--for", "classification",
        "--source-base", server.url, *args,
    )  # fmt: skip
    assert rc == 0, out  # the optional genre head is not needed
    assert f"{server.url}/demucs/hybrid_transformer/{th}" in out
    repo = project.root / "models" / "demucs"
    assert (repo / "htdemucs.yaml").read_text() == "models: ['955717e8']\n"
    essentia = project.root / "models" / "essentia"
    for name in ESSENTIA_FETCHED:
        if "genre" not in name:
            assert (essentia / name).read_bytes() == tiny[name]
    assert "tf2onnx" not in out and not (essentia / GENRE_ONNX).exists()
    # asked for by name, the head's instructions name the converter and the place for it
    rc, out = _models(capsys, "fetch", "genre_discogs400", "--source-base", server.url, *args)
    assert rc == 1 and "tf2onnx.convert" in out and f"--output {essentia / GENRE_ONNX}" in out
    (essentia / GENRE_ONNX).write_bytes(tiny[GENRE_ONNX])  # what the user converts
    assert not list(project.root.glob("models/**/*.part"))

    rc, after = _models(capsys, "list", *args)
    rows = _rows(after)
    assert rc == 0, after
    assert rows[th]["STATE"] == "present" and rows[th]["CHECKSUM"] == "verified"
    assert rows["htdemucs.yaml"]["CHECKSUM"] == "as written"
    assert rows["discogs-effnet-bsdynamic-1.onnx"]["CHECKSUM"] == "verified"
    assert rows[GENRE_ONNX]["CHECKSUM"] == "unknown"
    assert rows["genre_discogs400-discogs-effnet-1.json"]["CHECKSUM"] == "verified"
    # aesthetics is switched off: its missing checkpoint is no error
    assert rows["checkpoint.pt"]["STATE"] == "missing"
    assert rows["checkpoint.pt"]["ASSET"] == "aesthetics (off)"

    from mir.classification import classify, load_classifier
    from mir.separation import model_loader, separate
    from mir.synth import render_song

    cfg = load_config(config)
    song = render_song(bpm=120, bars=2)
    _, load = model_loader(cfg.separation)
    result = separate(load(), song.mix, SR, cfg.separation)
    assert set(result.stems) == {"drums", "bass", "other", "vocals"}
    assert all(s.shape == (song.mix.shape[0], 2) for s in result.stems.values())
    import librosa

    y16 = librosa.resample(song.mix.mean(1), orig_sr=SR, target_sr=16000)
    values, everything = classify(load_classifier(cfg.classification.model_dir), y16)
    assert sum(len(v) for v in everything.values()) == 496
    assert np.isfinite(list(everything["genre"].values())).all()
    assert set(values) >= {"essentia_genre", "essentia_mood", "essentia_instrument"}


def test_wrong_bytes_leave_nothing_under_models_and_the_error_names_url_and_checksums(
    project, mirror, server, tiny, capsys
):
    name = "discogs-effnet-bsdynamic-1.onnx"
    (path,) = [p for p in server.files if p.endswith(name)]
    good = server.files[path]
    server.files[path] = bytes(reversed(good))  # same length, other bytes
    rc, out = _models(
        capsys, "fetch", "discogs-effnet", "--source-base", server.url,
        "--config", _config(project), "--manifest", str(mirror),
    )  # fmt: skip
    assert rc == 1
    assert f"{server.url}/models/feature-extractors/discogs-effnet/{name}" in out
    assert f"expected sha256 {_sha256(good)}" in out
    assert f"got {_sha256(server.files[path])}" in out
    # the entry's other file (its labels) is fetched; the wrong one leaves nothing behind
    essentia = project.root / "models" / "essentia"
    assert sorted(p.name for p in essentia.iterdir()) == ["discogs-effnet-bsdynamic-1.json"]


def test_a_download_cut_off_half_way_resumes_with_a_range_request(
    project, mirror, server, tiny, capsys
):
    name = "mtg_jamendo_moodtheme-discogs-effnet-1.onnx"
    data = tiny[name]
    half = len(data) // 2
    (path,) = [p for p in server.files if p.endswith(name)]
    server.cut[path] = half
    args = ["--source-base", server.url, "--config", _config(project), "--manifest", str(mirror)]
    rc, out = _models(capsys, "fetch", "mtg_jamendo_moodtheme", *args)
    assert rc == 1 and "broke off" in out and "resume" in out
    target = project.root / "models" / "essentia" / name
    assert not target.exists()
    assert target.with_name(name + ".part").stat().st_size == half

    rc, out = _models(capsys, "fetch", "mtg_jamendo_moodtheme", *args)
    assert rc == 0, out
    first, second = server.hits(name)
    assert first["range"] is None and first["sent"] == half
    assert second["range"] == f"bytes={half}-" and second["status"] == 206
    assert second["sent"] == len(data) - half
    assert target.read_bytes() == data
    assert not target.with_name(name + ".part").exists()


def test_a_server_that_ignores_range_is_read_again_from_the_start(
    project, mirror, server, tiny, capsys
):
    name = "mtg_jamendo_instrument-discogs-effnet-1.onnx"
    data = tiny[name]
    folder = project.root / "models" / "essentia"
    folder.mkdir(parents=True)
    (folder / (name + ".part")).write_bytes(data[:1000])
    server.ignore_range = True
    rc, out = _models(
        capsys, "fetch", "mtg_jamendo_instrument", "--source-base", server.url,
        "--config", _config(project), "--manifest", str(mirror),
    )  # fmt: skip
    assert rc == 0, out
    (hit,) = server.hits(name)
    assert hit["range"] == "bytes=1000-" and hit["status"] == 200 and hit["sent"] == len(data)
    assert (folder / name).read_bytes() == data


def test_a_licensed_model_is_fetched_only_with_accept_licence(project, mirror, server, capsys):
    config = _config(project, music_flamingo={"backend": "llama_cpp"})
    args = ["--for", "captions", "--source-base", server.url, "--config", config]
    rc, out = _models(capsys, "fetch", *args, "--manifest", str(mirror))
    assert rc == 1
    assert "https://huggingface.co/nvidia/music-flamingo-hf" in out and "--accept-licence" in out
    assert server.requests == []
    rc, out = _models(capsys, "fetch", *args, "--manifest", str(mirror), "--accept-licence")
    assert rc == 0, out
    folder = project.root / "models" / "music_flamingo"
    assert {p.name for p in folder.iterdir()} == {
        "music-flamingo-hf.Q8_0.gguf",
        "music-flamingo-hf.mmproj-f16.gguf",
    }


def test_an_unfetchable_model_prints_what_to_do_and_where(project, server, capsys):
    rc, out = _models(
        capsys, "fetch", "--for", "drum_transcription", "--source-base", server.url,
        "--config", _config(project),
    )  # fmt: skip
    assert rc == 1
    target = project.root / "models" / "adtof" / "adtof_frame_rnn_pytorch_weights.pth"
    assert f"curl -L -o {target} https://raw.githubusercontent.com/xavriley/ADTOF-pytorch/" in out
    assert "mir models verify" in out and server.requests == []
    # basic-pitch's model ships inside the package: nothing to fetch, and said so
    assert (
        mir(["models", "fetch", "--for", "pitch_transcription", "--config", _config(project)]) == 2
    )
    assert "no model of the manifest is for 'pitch_transcription'" in capsys.readouterr().err
    assert mir(["models", "fetch", "--for", "no_such_asset", "--config", _config(project)]) == 2


def test_verify_rehashes_every_present_file_and_fails_on_a_changed_one(
    project, mirror, server, tiny, capsys
):
    args = ["--config", _config(project), "--manifest", str(mirror)]
    rc, _ = _models(capsys, "fetch", "mtg_jamendo_moodtheme", "--source-base", server.url, *args)
    assert rc == 0
    folder = project.root / "models" / "essentia"
    (folder / GENRE_ONNX).write_bytes(tiny[GENRE_ONNX])
    rc, out = _models(capsys, "verify", *args)
    # the converted head cannot be read without its .json (its labels and tensor names)
    assert rc == 1 and "1 with a wrong signature" in out
    assert "SIGNATURE WRONG (essentia-head): no genre_discogs400-discogs-effnet-1.json" in out
    (folder / "genre_discogs400-discogs-effnet-1.json").write_bytes(
        tiny["genre_discogs400-discogs-effnet-1.json"]
    )
    rc, out = _models(capsys, "verify", *args)
    assert rc == 0 and "4 file(s) present and checked, 0 wrong, 0 with a wrong signature" in out
    assert out.count("signature ok (essentia-") == 4
    assert f"sha256 {_sha256(tiny[GENRE_ONNX])} (record it in the manifest)" in out
    name = "mtg_jamendo_moodtheme-discogs-effnet-1.onnx"
    with (folder / name).open("ab") as fh:
        fh.write(b"\0")
    rc, out = _models(capsys, "verify", *args)
    assert rc == 1 and "WRONG" in out and f"expected sha256 {_sha256(tiny[name])}" in out
    rc, out = _models(capsys, "list", *args)
    assert _rows(out)[name]["CHECKSUM"] == "WRONG" and rc == 1


def test_mir_models_list_imports_no_dagster(project, tmp_path):
    probe = (
        "import sys\n"
        "from mir_cli import main\n"
        f"rc = main(['models', 'list', '--config', {_config(project)!r}])\n"
        "assert 'dagster' not in sys.modules, 'mir models imported dagster'\n"
        "sys.exit(rc)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert proc.returncode == 1, proc.stderr  # nothing fetched: stems and classification miss
    assert "mir models fetch --for stems" in proc.stdout


def test_a_demucs_file_is_prefix_verified_and_a_wrong_prefix_never_lands(tmp_path, server):
    data = b"a Demucs package, as far as this test goes"
    prefix = _sha256(data)[:8]
    path = tmp_path / f"955717e8-{prefix}.th"
    path.write_bytes(data)
    assert check_file(path, ModelFile(path.name, sha256_prefix=prefix), _sha256(data)) == (
        PREFIX_VERIFIED,
        "",
    )
    server.files["/x.th"] = data
    with pytest.raises(
        DownloadError, match=f"expected a sha256 starting 00000000, got {_sha256(data)}"
    ):
        download(
            server.url.rsplit("/", 1)[0] + "/x.th", tmp_path / "x.th", sha256_prefix="00000000"
        )
    assert not (tmp_path / "x.th").exists() and not (tmp_path / "x.th.part").exists()


def test_mir_run_points_every_model_it_skipped_at_mir_models_fetch(project, tmp_path):
    from mir.synth import render_song
    from mir_assets.definitions import all_assets

    features = dict.fromkeys((a.key.path[-1] for a in all_assets), False)
    features.update(source_audio=True, stems=True, classification=True)
    config = write_config(project.root, features=features, processing={"workers": 1})
    project.add_audio("song.wav", render_song(bpm=120, bars=1).mix)
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "dagster_home")}
    proc = subprocess.run(
        [sys.executable, "-m", "mir_cli", "run", "--config", str(config)],
        capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert "stems and the per-stem features were skipped" in proc.stdout, proc.stderr
    skipped = [line for line in proc.stdout.splitlines() if "skipped:" in line]
    assert [line.rsplit("; ", 1)[1] for line in skipped] == [
        "fetch it: mir models fetch --for stems",
        "fetch it: mir models fetch --for classification",
    ]


def test_a_configured_model_outside_the_manifest_is_listed_and_never_guessed(
    project, server, capsys
):
    config = _config(project, separation={"demucs": {"model": "mdx_extra"}})
    rc, out = _models(capsys, "list", "--config", config)
    row = _rows(out)["mdx_extra.yaml"]
    assert rc == 1 and row["STATE"] == "MISSING" and row["CHECKSUM"] == "not in manifest"
    rc, out = _models(
        capsys, "fetch", "--for", "stems", "--source-base", server.url, "--config", config
    )
    assert rc == 1 and "is not in the manifest: place it yourself" in out
    assert server.requests == []


def test_verify_reads_every_signature_and_names_one_wrong_file_per_family(project, capsys):
    """A folder with every family's files, one wrong per family: `verify --no-checksums`
    names each wrong file with its mismatch, in seconds, and passes the right ones."""
    import time

    from tests.tiny_models import place_one_wrong_file_per_family

    wrong = place_one_wrong_file_per_family(project.root / "models")
    t0 = time.perf_counter()
    rc, out = _models(capsys, "verify", "--no-checksums", "--config", _config(project))
    took = time.perf_counter() - t0
    assert rc == 1
    blocks = {}
    for line in out.splitlines():
        if line and not line.startswith(" ") and len(line.split()) >= 3:
            current = Path(line.split()[-1]).name
            blocks[current] = []
        elif line.startswith(" " * 17) and blocks:
            blocks[current].append(line.strip())
    bad = {name for name, lines in blocks.items() if any("SIGNATURE WRONG" in x for x in lines)}
    assert bad == set(wrong), out
    text = "\n".join(f"{k}: {' | '.join(v)}" for k, v in blocks.items())
    assert (
        "discogs-effnet-bsdynamic-1.onnx: SIGNATURE WRONG (essentia-effnet): no output named `activations`"
        in text
    )
    assert "955717e8-8726e21a.th: SIGNATURE WRONG (demucs): 243 key(s) of another shape" in text
    assert "key(s) missing from the file: mask_estimators.0.to_freqs.0.0.2.weight" in text
    assert "general.architecture is 'llama', expected 'qwen2'" in text
    assert "projector type 'ultravox'" in text
    assert "granite-4.0-h-tiny-Q8_0.gguf: SIGNATURE WRONG (text-gguf): a projector (mmproj)" in text
    for name in ("music-flamingo-hf.i1-Q6_K.gguf", "mtg_jamendo_moodtheme-discogs-effnet-1.onnx"):
        assert blocks[name][0].startswith("signature ok"), blocks[name]
    assert f"{len(wrong)} with a wrong signature" in out
    assert took < 30, took
