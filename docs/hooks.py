"""MkDocs hooks: the generated references, rendered from the code at build time.

A page holds a marker (`<!-- mir:features -->`); the hook replaces it with what
:mod:`mir.reference` renders, so the feature and configuration references are the
declarations and the configuration model themselves, never a copy that drifts.
"""

import sys
from pathlib import Path

# the checkout being built, ahead of any installed copy of the project
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mir import reference  # noqa: E402

MARKERS = {
    "<!-- mir:features -->": reference.feature_reference,
    "<!-- mir:configuration -->": reference.config_reference,
    "<!-- mir:models-readme -->": reference.models_readme,
    "<!-- mir:versions -->": reference.versions_table,
}


#: where bench/_report.py writes the scripts' tables
BENCH_TABLES = ROOT / "docs" / "benchmarks"


def bench_tables() -> str:
    """Every table a bench script wrote with `--write-docs` (bench/_report.py), newest
    first; the page says so when there is none yet."""
    tables = sorted(BENCH_TABLES.glob("*.md"), key=lambda p: p.stat().st_mtime, reverse=True)
    if not tables:
        return "*No script has written its table yet.*\n"
    return "\n".join(p.read_text(encoding="utf-8") for p in tables)


MARKERS["<!-- mir:bench-tables -->"] = bench_tables


def on_page_markdown(markdown, page, config, files, **kwargs):
    for marker, render in MARKERS.items():
        if marker in markdown:
            markdown = markdown.replace(marker, render())
    return markdown
