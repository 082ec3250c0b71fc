"""akhbar report: the page's numbers match the output, empty columns are said plainly, and it renders in Chromium."""
from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from akhbar.cli.report import main
from akhbar.lib.report import ENTITY_GROUPS, ReportError, parse_since
from akhbar.schemas.article import ARTICLES_TABLE, DEAD_LETTERS_TABLE
from akhbar.transforms.parquet import partition_dir, write_parquet_file
from tests.factories import article

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--hide-scrollbars",
]

# Injected at the top of <head>: records script errors and failed loads (capture phase sees <img> errors),
# then, once the page has loaded, every image's natural size and every resource the page fetched.
CHECKER = """<script>
window.__errors = [];
window.addEventListener('error', function (e) {
  var t = e.target;
  window.__errors.push(t && t.tagName ? 'failed to load <' + t.tagName.toLowerCase() + '>' : String(e.message));
}, true);
window.addEventListener('load', function () {
  var images = Array.prototype.map.call(document.images, function (i) {
    return {alt: i.alt, complete: i.complete, width: i.naturalWidth, height: i.naturalHeight};
  });
  var resources = performance.getEntriesByType('resource').map(function (r) { return r.name.slice(0, 80); });
  var pre = document.createElement('pre');
  pre.id = 'akhbar-check';
  pre.textContent = JSON.stringify({errors: window.__errors, images: images, resources: resources});
  document.body.appendChild(pre);
});
</script>"""


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        message = "Chromium is not installed (make test installs Debian's chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def render_in_chromium(page: Path, tmp_path: Path) -> dict:
    """Load a copy of the page, with the checker injected, in headless Chromium; return what the checker saw."""
    checked = tmp_path / f"checked-{page.name}"
    text = page.read_text(encoding="utf-8")
    assert "<head>" in text
    checked.write_text(text.replace("<head>", "<head>" + CHECKER, 1), encoding="utf-8")
    profile = tmp_path / f"chromium-profile-{page.stem}"
    proc = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=10000", "--dump-dom", checked.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    match = re.search(r'<pre id="akhbar-check">(.*?)</pre>', proc.stdout, re.S)
    assert match, "the page never finished loading: " + proc.stdout[-500:]
    return json.loads(html.unescape(match.group(1)))


def section_rows(page: str, anchor: str) -> list[list[str]]:
    """The table cells of one element (section or div) of the page, by id."""
    match = re.search(rf'id="{anchor}">(.*?)</(section|div)>', page, re.S)
    assert match, f"no element {anchor!r} in the report"
    return [
        [html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", match.group(1), re.S)
        if "<td" in row
    ]


@pytest.fixture(scope="module")
def report(analytics_output: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    assert main([str(analytics_output), "--since", "all", "--out", str(out)]) == 0
    return out


def _articles(output: Path) -> list[dict]:
    return ds.dataset(output / ARTICLES_TABLE, format="parquet", partitioning="hive").to_table().to_pylist()


def test_report_renders_in_chromium_with_every_image_and_no_error(report: Path, tmp_path: Path):
    seen = render_in_chromium(report, tmp_path)
    assert seen["errors"] == []
    expected_images = report.read_text(encoding="utf-8").count("<img ")
    assert expected_images >= 6 and len(seen["images"]) == expected_images
    for image in seen["images"]:
        assert image["complete"] and image["width"] > 100 and image["height"] > 50, image
    assert all(r.startswith("data:") for r in seen["resources"]), f"the page fetched {seen['resources']}"
    assert "http://" not in report.read_text(encoding="utf-8").split("<body>")[0], "the page must load nothing"


def test_the_chromium_check_catches_a_broken_image_and_a_script_error(tmp_path: Path):
    broken = tmp_path / "broken.html"
    broken.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
        '<img alt="broken" src="data:image/png;base64,AAAAAAAA"><script>notDefined();</script></body></html>',
        encoding="utf-8",
    )
    seen = render_in_chromium(broken, tmp_path)
    assert any("notDefined" in e for e in seen["errors"]) and any("<img>" in e for e in seen["errors"])
    assert seen["images"][0]["width"] == 0


def test_report_numbers_match_the_output(report: Path, analytics_output: Path):
    page = report.read_text(encoding="utf-8")
    rows = _articles(analytics_output)
    per_outlet = Counter(r["outlet"] or "(no outlet)" for r in rows)
    assert {o: int(n) for o, n in section_rows(page, "articles-per-day-and-outlet")} == dict(per_outlet)

    for group, kinds in ENTITY_GROUPS.items():
        articles_per_name = Counter()
        for r in rows:
            articles_per_name.update({e["text"] for e in r["entities"] or [] if e["type"] in kinds})
        table = [(name, int(n)) for name, n in section_rows(page, group)]
        assert table and table[0][1] == max(articles_per_name.values()), group
        assert dict(table) == {name: articles_per_name[name] for name, _ in table}, group

    outlets: dict[str, set] = {}
    articles = Counter()
    for r in rows:
        if r["story_id"]:
            outlets.setdefault(r["story_id"], set()).add(r["outlet"])
            articles[r["story_id"]] += 1
    carried = {s: len(o) for s, o in outlets.items() if articles[s] > 1}  # a story of one article is not shown
    table = [(s, int(n)) for s, n, *_ in section_rows(page, "stories-carried-by-the-most-outlets")]
    assert table and len(table) == min(20, len(carried))
    assert all(carried[s] == n for s, n in table)
    assert [n for _, n in table] == sorted((n for _, n in table), reverse=True)
    assert table[0][1] == max(carried.values())

    events = Counter(e["code"] for r in rows for e in r["event_types"] or [])
    assert {c: int(n) for c, n in section_rows(page, "event-types-per-day")} == dict(events)

    dead = ds.dataset(analytics_output / DEAD_LETTERS_TABLE, format="parquet", partitioning="hive").to_table().to_pylist()
    kinds = Counter((d["stage"], d["error_kind"]) for d in dead)
    assert {(s, k): int(n) for s, k, n in section_rows(page, "dead-letters-by-stage-and-reason")} == dict(kinds)


def test_columns_not_filled_yet_are_said_plainly(tmp_path: Path):
    out = tmp_path / "out"
    rows = [article(text=f"خبر رقم {i}", link=f"https://n.example/a/{i}", guid=f"g-{i}").to_row() for i in range(3)]
    directory = partition_dir(str(out), ARTICLES_TABLE, rows[0]["published_at"].strftime("%Y-%m-%d"))
    os.makedirs(directory)
    write_parquet_file(rows, ARTICLES_TABLE, directory, "part-0.parquet")
    page_path = tmp_path / "report.html"
    assert main([str(out), "--since", "all", "--out", str(page_path)]) == 0
    page = page_path.read_text(encoding="utf-8")
    for plain in ("No event types yet", "No entities yet", "No story ids yet", "No dead letters in this period"):
        assert plain in page
    assert page.count("<img ") == 1  # articles per day only


def test_since_limits_the_period(analytics_output: Path, tmp_path: Path):
    since = "2026-11-24"
    page_path = tmp_path / "since.html"
    assert main([str(analytics_output), "--since", since, "--out", str(page_path)]) == 0
    page = page_path.read_text(encoding="utf-8")
    cutoff = datetime(2026, 11, 24, tzinfo=timezone.utc)
    expected = Counter(r["outlet"] for r in _articles(analytics_output) if r["published_at"] >= cutoff)
    assert {o: int(n) for o, n in section_rows(page, "articles-per-day-and-outlet")} == dict(expected)


def test_since_values_and_bad_arguments(tmp_path: Path, capsys):
    now = datetime(2026, 11, 29, 12, tzinfo=timezone.utc)
    assert parse_since("7d", now) == datetime(2026, 11, 22, 12, tzinfo=timezone.utc)
    assert parse_since("48h", now) == datetime(2026, 11, 27, 12, tzinfo=timezone.utc)
    assert parse_since("all", now) is None
    with pytest.raises(ReportError, match="yesterday"):
        parse_since("yesterday", now)
    assert main([str(tmp_path), "--since", "yesterday"]) == 2
    assert "yesterday" in capsys.readouterr().err
    assert main([str(tmp_path / "missing")]) == 2


def test_events_by_country_table_chart_and_map(report: Path, analytics_output: Path):
    page = report.read_text(encoding="utf-8")
    rows = _articles(analytics_output)
    located = Counter(r["event_location"]["country"] for r in rows if r.get("event_location"))
    assert located, "the enriched day has event locations"
    section = re.search(r'<section id="events-by-country">(.*?)</section>', page, re.S).group(1)
    cells = [[html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
             for row in re.findall(r"<tr>(.*?)</tr>", section, re.S) if "<td" in row]
    assert {code: int(n) for code, _name, n, *_ in cells} == dict(located)
    mentioned = Counter(c["country"] for r in rows for c in r.get("countries") or [])
    assert all(int(articles) == mentioned[code] for code, _name, _n, _types, articles in cells)
    assert '<img alt="events by country"' in section
    svg = re.search(r'<div class="map">(<svg.*?</svg>)</div>', section, re.S)
    assert svg and "<script" not in svg.group(1) and re.search(r'class="ma country', svg.group(1))
