"""The UI in a real browser: Debian's Chromium driven by Playwright against `dagster dev`.

The second test also takes the screenshots the documentation shows (`docs/images/ui/`),
each after asserting what the page must show, so the pictures stay current and a broken
page fails the test."""

from pathlib import Path

from dagster import (
    AssetKey,
    AssetRecordsFilter,
    DagsterInstance,
    DagsterRunStatus,
    RunsFilter,
    materialize,
)

from mir.info import info_path, read_info
from mir.synth import render_song
from store.duckdb import DuckDBTables
from tests.conftest import write_config
from tests.dagster_dev import ROOT, dagster_dev, wait_until
from tests.helpers import register
from tests.test_daemon import LIGHT_FEATURES

ARTIFACTS = ROOT / "test-artifacts"
SHOTS = ROOT / "docs" / "images" / "ui"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
VIEWPORT = {"width": 1400, "height": 900}
#: the model-free assets of one track that the screenshots show, and the statistics over them
SHOWN = ["source_audio", "audio_quality", "beat_grid", "loudness", "spectral_features", "zero_crossings"]  # fmt: skip
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def _instance(project, tmp_path, monkeypatch, features: dict) -> tuple[Path, DagsterInstance]:
    """A Dagster home (the project's `config/dagster.yaml`) and its instance, with the
    pipeline configured with `features`."""
    write_config(project.root, features=features)
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text((ROOT / "config" / "dagster.yaml").read_text())
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("MIR_CONFIG", str(project.config_path))
    return home, DagsterInstance.get()


def _browser_page(pw):
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    return browser, browser.new_page(viewport=VIEWPORT)


def _skip_greeting(page) -> None:
    try:  # a first visit greets with a community dialog
        page.get_by_role("button", name="Skip").click(timeout=8000)
    except Exception:
        pass


def test_a_track_partition_materialized_from_the_ui(project, tmp_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    home, instance = _instance(project, tmp_path, monkeypatch, LIGHT_FEATURES)
    path = project.add_audio("05 - Browser Song.flac", render_song(bpm=118, bars=4).mix)
    (track_id,) = register(project, [path], instance)
    from mir_assets.definitions import all_assets

    assert materialize(all_assets, selection=["source_audio"], partition_key=track_id, instance=instance,
                       resources=project.resources()).success  # fmt: skip
    before = {r.run_id for r in instance.get_runs()}
    ARTIFACTS.mkdir(exist_ok=True)
    with dagster_dev(home, project.config_path) as url, sync_playwright() as pw:
        browser, page = _browser_page(pw)
        page.goto(f"{url}/asset-groups", wait_until="networkidle")
        _skip_greeting(page)
        page.screenshot(path=str(ARTIFACTS / "ui_asset_graph.png"))
        page.goto(f"{url}/assets/loudness", wait_until="networkidle")
        page.get_by_role("button", name="Materialize…").click()
        page.get_by_text("Select a partition or create one").click()
        page.get_by_placeholder("Filter partitions").fill(track_id)
        page.locator("label").filter(has_text=track_id).first.click()
        page.keyboard.press("Escape")
        page.get_by_role("button", name="Launch 1 run").click()

        def succeeded():
            done = RunsFilter(
                statuses=[DagsterRunStatus.SUCCESS], tags={"dagster/partition": track_id}
            )
            return [r for r in instance.get_runs(done) if r.run_id not in before]

        runs = wait_until(succeeded, timeout_s=240)
        page.goto(
            f"{url}/runs/{runs[0].run_id}" if runs else f"{url}/runs", wait_until="networkidle"
        )
        page.wait_for_timeout(1500)
        page.screenshot(path=str(ARTIFACTS / "ui_run.png"))
        browser.close()
    assert runs, (home / "dagster_dev.log").read_text()[-3000:]
    info = read_info(info_path(project.library / track_id))
    assert -70 < info["lufs"] < 0
    assert (
        DuckDBTables(project.duckdb).read("loudness", [track_id])[track_id]["lufs"] == info["lufs"]
    )
    assert Path(ARTIFACTS / "ui_run.png").stat().st_size > 10_000


def _shot(page_or_locator, name: str, **options) -> Path:
    """Save a screenshot to docs/images/ui/`name` as a palette PNG (a UI is a few flat
    colours: a quarter of the size, no visible change)."""
    from PIL import Image

    path = SHOTS / name
    page_or_locator.screenshot(path=str(path), type="png", **options)
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)
    return path


def test_screenshots_of_the_ui_for_the_docs(project, tmp_path, monkeypatch):
    """Five songs through the model-free features in one batch run and the library-wide
    statistics; then the asset graph, a track's partition page, the statistics plots and
    the batch run's timeline, as the docs show them."""
    from playwright.sync_api import expect, sync_playwright

    features = {**LIGHT_FEATURES, "spectral_features": True, "feature_statistics": True}
    home, instance = _instance(project, tmp_path, monkeypatch, features)
    songs = [(96, "A", "minor"), (108, "C", "major"), (122, "E", "minor"), (134, "G", "major"),
             (150, "D", "minor")]  # fmt: skip
    paths = [
        project.add_audio(
            f"0{i} - Song {i}.flac",
            render_song(bpm=bpm, tonic=tonic, scale=scale, bars=4, seed=i).mix,
        )
        for i, (bpm, tonic, scale) in enumerate(songs, 1)
    ]
    track_ids = register(project, paths, instance)
    from mir_assets.definitions import all_assets, all_checks

    batch = materialize([*all_assets, *all_checks], selection=SHOWN, instance=instance,
                        resources=project.resources(),
                        tags={RANGE_START: track_ids[0], RANGE_END: track_ids[-1]})  # fmt: skip
    assert batch.success
    assert materialize([*all_assets, *all_checks], selection=["feature_statistics"],
                       instance=instance, resources=project.resources()).success  # fmt: skip
    # a track's values are the metadata of a run of that track alone (a batch's
    # materializations carry its counts): the second song again, as the UI's Materialize
    track = track_ids[1]
    assert materialize([*all_assets, *all_checks], selection=["loudness"], partition_key=track,
                       instance=instance, resources=project.resources()).success  # fmt: skip
    (record,) = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=AssetKey("loudness"), asset_partitions=[track]), limit=1
    ).records
    lufs = record.asset_materialization.metadata["lufs"].value
    assert -70 < lufs < 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    with dagster_dev(home, project.config_path) as url, sync_playwright() as pw:
        browser, page = _browser_page(pw)
        page.goto(f"{url}/asset-groups", wait_until="networkidle")
        _skip_greeting(page)
        page.get_by_role("button", name="Hide navigation").click()

        # the whole graph, its groups collapsed, top to bottom (left to right it is too
        # tall to read), in a wide window, cut to the graph; the orientation is kept in
        # local storage, so a reload lays the graph out again and fits it
        page.set_viewport_size({"width": 2000, "height": 1000})
        page.mouse.click(800, 500, button="right")
        page.get_by_role("menuitem", name="Change graph to vertical orientation").click()
        page.reload(wait_until="networkidle")
        page.locator("button:has([aria-label=panel_show_right])").click()  # the group list
        groups = {group for a in all_assets for group in a.group_names_by_key.values()}
        assert {"source", "loudness", "spectral", "statistics", "export"} <= groups
        labels = [page.get_by_text(group, exact=True).last for group in sorted(groups)]
        for label in labels:
            expect(label).to_be_visible()
        page.wait_for_timeout(1000)  # the edges are drawn after the nodes
        boxes = [label.bounding_box() for label in labels]
        left, top = min(b["x"] for b in boxes) - 40, min(b["y"] for b in boxes) - 40
        right = max(b["x"] + b["width"] for b in boxes) + 80
        bottom = max(b["y"] + b["height"] for b in boxes) + 40
        clip = {"x": left, "y": top, "width": right - left, "height": bottom - top}
        shots = [_shot(page, "asset_graph.png", clip=clip)]
        page.set_viewport_size(VIEWPORT)

        # a track's partition page: its values, the track folder, the feature-store table
        page.goto(f"{url}/assets/loudness?view=partitions&partition={track}",
                  wait_until="networkidle")  # fmt: skip
        for key, value in (("lufs", f"{lufs:.3f}"), ("track_dir", f"library/{track}"),
                           ("table", "loudness")):  # fmt: skip
            row = page.locator("tr").filter(has=page.get_by_text(key, exact=True))
            expect(row).to_contain_text(value)
        shots.append(_shot(page, "partition_page.png"))

        # the statistics: the plots are Markdown images in the materialization's metadata
        # (a taller window: the histogram grid's dialog is taller than 900 pixels)
        page.set_viewport_size({"width": VIEWPORT["width"], "height": 1100})
        page.goto(f"{url}/assets/feature_statistics?view=events", wait_until="networkidle")
        row = page.locator("tr").filter(has=page.get_by_text("tracks", exact=True))
        expect(row).to_contain_text(str(len(songs)))
        for name in ("histograms", "correlations"):
            row = page.locator("tr").filter(has=page.get_by_text(name, exact=True))
            row.get_by_text("[Show Markdown]").click()
            dialog = page.get_by_role("dialog")
            expect(dialog).to_contain_text(name)
            expect(dialog.locator("img")).to_be_visible()
            page.wait_for_function(
                "() => [...document.querySelectorAll('[role=dialog] img')]"
                ".every(i => i.complete && i.naturalWidth > 300)"
            )
            shots.append(_shot(dialog, f"statistics_{name}.png"))
            page.keyboard.press("Escape")
            expect(dialog).to_be_hidden()

        # the batch run's timeline: one step per asset and check, all tracks in each
        page.set_viewport_size(VIEWPORT)
        page.goto(f"{url}/runs/{batch.run_id}", wait_until="networkidle")
        expect(page.get_by_text("Success", exact=True).first).to_be_visible()
        expect(page.get_by_text(f"{len(SHOWN)} assets", exact=True)).to_be_visible()
        # the chart over the whole window (the log below it hidden), cut below the chart
        page.locator("button:has([aria-label=expand_arrows])").first.click()
        for step in ("audio_quality", "beat_grid"):  # the long steps, whose names show
            expect(page.get_by_text(step, exact=True).first).to_be_visible()
        page.wait_for_timeout(1000)
        clip = {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": 420}
        shots.append(_shot(page, "run_timeline.png", clip=clip))
        browser.close()
    for path in shots:
        assert 10_000 < path.stat().st_size < 300_000, (path, path.stat().st_size)
