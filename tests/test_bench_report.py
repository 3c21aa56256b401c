"""The bench scripts write their own dated tables (bench/_report.py), which the
Benchmarks page shows (docs/hooks.py)."""

import datetime
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_write_docs_keeps_what_the_script_printed_with_date_command_and_machine(
    tmp_path, monkeypatch, capsys
):
    report = _load("bench_report", ROOT / "bench" / "_report.py")
    monkeypatch.setattr(report, "TABLES", tmp_path)
    seen = []

    def main():
        seen.append(list(sys.argv))
        print("peer      ours  theirs")
        print("tempo     0.96    0.48")

    monkeypatch.setattr(sys, "argv", ["bench/toy.py", "clips/", "--write-docs", "--items"])
    assert report.run(main) is None
    assert seen == [["bench/toy.py", "clips/", "--items"]]  # the option is not the script's
    printed = capsys.readouterr().out
    assert "tempo     0.96    0.48" in printed  # printed as always
    text = (tmp_path / "toy.md").read_text()
    today = datetime.date.today().isoformat()
    assert f"Written by `bench/toy.py` on {today}, on " in text
    assert f"{report.cpu_model()}, " in text and " cores, " in text
    assert "```bash\n.venv/bin/python bench/toy.py clips/ --items\n```" in text
    assert "```\npeer      ours  theirs\ntempo     0.96    0.48\n```\n" in text

    # a failed run writes nothing; without the option nothing is written either
    monkeypatch.setattr(sys, "argv", ["bench/bad.py", "--write-docs"])
    assert report.run(lambda: print("half a table") or 1) == 1
    monkeypatch.setattr(sys, "argv", ["bench/quiet.py"])
    report.run(lambda: print("a table"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["toy.md"]


def test_the_benchmarks_page_shows_every_written_table(tmp_path, monkeypatch):
    report = _load("bench_report", ROOT / "bench" / "_report.py")
    hooks = _load("docs_hooks", ROOT / "docs" / "hooks.py")
    monkeypatch.setattr(hooks, "BENCH_TABLES", tmp_path)
    page = (ROOT / "docs" / "benchmarks.md").read_text()
    assert "<!-- mir:bench-tables -->" in page
    assert "No script has written its table yet" in hooks.on_page_markdown(page, None, None, None)
    day = datetime.date(2026, 12, 7)
    report.write_table(
        "dbn", "Beat decoding", "python bench/dbn.py x", "1.75x", folder=tmp_path, day=day
    )
    shown = hooks.on_page_markdown(page, None, None, None)
    assert "### Beat decoding (2026-12-07)\n\nWritten by `bench/dbn.py` on 2026-12-07" in shown
    assert "```\n1.75x\n```" in shown


def test_every_bench_script_takes_write_docs():
    for script in sorted((ROOT / "bench").glob("*.py")):
        if script.name.startswith("_"):
            continue
        assert "raise SystemExit(run(main))" in script.read_text(), script.name
