"""The UI in a real browser: Debian's Chromium driven by Playwright against `dagster dev`."""

from pathlib import Path

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter, materialize

from mir.info import info_path, read_info
from mir.synth import render_song
from store.duckdb import DuckDBTables
from tests.conftest import write_config
from tests.dagster_dev import ROOT, dagster_dev, wait_until
from tests.helpers import register
from tests.test_daemon import LIGHT_FEATURES

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def test_a_track_partition_materialized_from_the_ui(project, tmp_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    write_config(project.root, features=LIGHT_FEATURES)
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text((ROOT / "config" / "dagster.yaml").read_text())
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("MIR_CONFIG", str(project.config_path))
    instance = DagsterInstance.get()
    path = project.add_audio("05 - Browser Song.flac", render_song(bpm=118, bars=4).mix)
    (track_id,) = register(project, [path], instance)
    from mir_assets.definitions import all_assets

    assert materialize(all_assets, selection=["source_audio"], partition_key=track_id, instance=instance,
                       resources=project.resources()).success  # fmt: skip
    before = {r.run_id for r in instance.get_runs()}
    ARTIFACTS.mkdir(exist_ok=True)
    with dagster_dev(home, project.config_path) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{url}/asset-groups", wait_until="networkidle")
        try:  # a first visit greets with a community dialog
            page.get_by_role("button", name="Skip").click(timeout=8000)
        except Exception:
            pass
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
