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
from urllib.parse import urlsplit

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
  var headings = Array.prototype.map.call(document.querySelectorAll('h2'), function (h) { return h.textContent; });
  var links = Array.prototype.map.call(document.querySelectorAll('section a'), function (a) {
    return {text: a.textContent, href: a.getAttribute('href'), group: a.closest('div[id]') ? a.closest('div[id]').id : null};
  });
  var swatches = Array.prototype.map.call(document.querySelectorAll('.swatch'), function (s) {
    return {code: s.parentNode.textContent, colour: getComputedStyle(s).backgroundColor,
            hatched: getComputedStyle(s).backgroundImage !== 'none'};
  });
  var pre = document.createElement('pre');
  pre.id = 'akhbar-check';
  pre.textContent = JSON.stringify({errors: window.__errors, images: images, resources: resources, headings: headings,
                                    links: links, swatches: swatches, dir: document.documentElement.dir});
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


def section_rows(page: str, anchor: str, table: int | None = None) -> list[list[str]]:
    """The table cells (as text) of one element (section or div) of the page, by id; ``table``: only that one."""
    match = re.search(rf'id="{anchor}">(.*?)</(section|div)>', page, re.S)
    assert match, f"no element {anchor!r} in the report"
    tables = re.findall(r"<table[^>]*>(.*?)</table>", match.group(1), re.S)
    body = tables[table] if table is not None else match.group(1)
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
        if "<td" in row
    ]


def entity_links(page: str, group: str) -> dict[str, str]:
    """Name -> example article URL of one top-entities column."""
    match = re.search(rf'id="{group}">(.*?)</div>', page, re.S)
    assert match, group
    return {html.unescape(t): html.unescape(u) for u, t in re.findall(r'<a href="([^"]*)"[^>]*>(.*?)</a>', match.group(1))}


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
    # Arabic first: the page reads right to left and every heading opens in Arabic, then English.
    assert seen["dir"] == "rtl" and len(seen["headings"]) == 6
    for heading in seen["headings"]:
        arabic, _, english = heading.partition(" · ")
        assert re.match(r"[\u0600-\u06ff]", arabic) and re.fullmatch(r"[A-Za-z ,]+", english), heading
    # Top entities link to example articles; event types show their fixed colour-blind-safe colours.
    groups = {link["group"] for link in seen["links"]}
    assert groups == set(ENTITY_GROUPS) and all(link["href"].startswith("https://enriched.example/") for link in seen["links"])
    from akhbar.lib.report import event_style

    assert seen["swatches"]
    for swatch in seen["swatches"]:
        colour, hatch = event_style(swatch["code"])
        r, g, b = (int(colour[i: i + 2], 16) for i in (1, 3, 5))
        assert swatch["colour"] == f"rgb({r}, {g}, {b})" and swatch["hatched"] == bool(hatch), swatch
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


def outlet_kind(feed_url: str) -> str:
    """What the report must call an outlet, decided here independently of its SQL."""
    parts = urlsplit(feed_url)
    if parts.hostname == "127.0.0.1" and parts.path.startswith(("/bad/", "/fault/")):
        return "fault"
    if parts.hostname == "127.0.0.1" or (parts.hostname or "").endswith(".example"):
        return "demo"
    return "news"


def test_report_numbers_match_the_output(report: Path, analytics_output: Path):
    page = report.read_text(encoding="utf-8")
    rows = _articles(analytics_output)
    news = [r for r in rows if outlet_kind(r["feed_url"]) != "fault"]
    assert len(news) < len(rows), "the sample run has fault-feed articles"
    per_outlet = Counter(r["outlet"] or "(no outlet)" for r in news)
    table = {o: int(n) for o, n in section_rows(page, "articles-per-day-and-outlet", table=0)}
    assert all(o.endswith("(تجريبي · demo)") for o in table), "every outlet of the sample is a demo outlet"
    assert {o.replace(" (تجريبي · demo)", ""): n for o, n in table.items()} == dict(per_outlet)
    faults = Counter(r["outlet"] or "(no outlet)" for r in rows if outlet_kind(r["feed_url"]) == "fault")
    fault_table = {o: int(n) for o, n in section_rows(page, "articles-per-day-and-outlet", table=1)}
    assert {o.replace(" (تغذية أعطال · fault feed)", ""): n for o, n in fault_table.items()} == dict(faults)
    assert all(o.endswith("(تغذية أعطال · fault feed)") for o in fault_table)

    for group, kinds in ENTITY_GROUPS.items():
        # Counted by canonical name (rows written without one count by their text), shown as written in full.
        articles_per_key, shown, urls = Counter(), {}, {}
        for r in news:
            keys = {e.get("canonical") or e["text"] for e in r["entities"] or [] if e["type"] in kinds}
            articles_per_key.update(keys)
            for e in r["entities"] or []:
                key = e.get("canonical") or e["text"]
                if e["type"] in kinds and (e.get("canonical") is None or e.get("norm") == key):
                    shown.setdefault(key, set()).add(e["text"])
                if e["type"] in kinds:
                    urls.setdefault(key, set()).add(r["url"])
        table = [(name, int(n)) for name, n in section_rows(page, group)]
        assert table and table[0][1] == max(articles_per_key.values()), group
        by_shown = {text: key for key, texts in shown.items() for text in texts}
        assert dict(table) == {name: articles_per_key[by_shown[name]] for name, _ in table}, group
        links = entity_links(page, group)
        assert set(links) == {name for name, _ in table}, f"every top {group} name links to an article"
        for name, url in links.items():
            assert url in urls[by_shown[name]], (name, url)

    outlets: dict[str, set] = {}
    articles = Counter()
    for r in news:
        if r["story_id"]:
            outlets.setdefault(r["story_id"], set()).add(r["outlet"])
            articles[r["story_id"]] += 1
    carried = {s: len(o) for s, o in outlets.items() if articles[s] > 1}  # a story of one article is not shown
    table = [(s, int(n)) for s, n, *_ in section_rows(page, "stories-carried-by-the-most-outlets")]
    assert table and len(table) == min(20, len(carried))
    assert all(carried[s] == n for s, n in table)
    assert [n for _, n in table] == sorted((n for _, n in table), reverse=True)
    assert table[0][1] == max(carried.values())

    events = Counter(e["code"] for r in news for e in r["event_types"] or [])
    assert {c: int(n) for c, n in section_rows(page, "event-types-per-day")} == dict(events)

    dead = ds.dataset(analytics_output / DEAD_LETTERS_TABLE, format="parquet", partitioning="hive").to_table().to_pylist()
    kinds = Counter((d["stage"], d["error_kind"]) for d in dead)
    assert {(s, k): int(n) for s, k, n in section_rows(page, "dead-letters-by-stage-and-reason")} == dict(kinds)


def test_persons_are_counted_by_canonical_name_and_outlets_are_never_persons(tmp_path: Path):
    """Rows as the NER stage writes them: short and prefixed forms count once, under the full name."""
    out = tmp_path / "out"
    texts = [
        ("عمّان - الوسط نيوز: قال الرئيس فلاديمير بوتين إن بوتين سيزور للأمم المتحدة", "https://wasat.example/1"),
        ("قال بوتين في الأمم المتحدة", "https://wasat.example/2"),
    ]
    rows = []
    for i, (text, link) in enumerate(texts):
        row = article(text=text, link=link, guid=f"c-{i}", outlet="الوسط نيوز", feed_url="https://wasat.example/rss").to_row()
        rows.append(row)
    def ent(text, surface, kind, norm, canonical, nth=0):
        start = text.find(surface) if not nth else text.find(surface, text.find(surface) + 1)
        return {"text": surface, "type": kind, "start": start, "end": start + len(surface), "score": 0.9,
                "norm": norm, "canonical": canonical}
    t0, t1 = texts[0][0], texts[1][0]
    rows[0]["entities"] = [ent(t0, "عمّان", "LOC", "عمان", "عمان"),
                           ent(t0, "فلاديمير بوتين", "PERS", "فلاديمير بوتين", "فلاديمير بوتين"),
                           ent(t0, "بوتين", "PERS", "بوتين", "فلاديمير بوتين", nth=1),
                           ent(t0, "للأمم المتحدة", "ORG", "الامم المتحده", "الامم المتحده")]
    rows[1]["entities"] = [ent(t1, "بوتين", "PERS", "بوتين", "بوتين"), ent(t1, "الأمم المتحدة", "ORG", "الامم المتحده", "الامم المتحده")]
    directory = partition_dir(str(out), ARTICLES_TABLE, rows[0]["published_at"].strftime("%Y-%m-%d"))
    os.makedirs(directory)
    write_parquet_file(rows, ARTICLES_TABLE, directory, "part-0.parquet")
    page_path = tmp_path / "report.html"
    assert main([str(out), "--since", "all", "--out", str(page_path)]) == 0
    page = page_path.read_text(encoding="utf-8")
    assert dict((n, int(c)) for n, c in section_rows(page, "persons")) == {"فلاديمير بوتين": 1, "بوتين": 1}
    assert dict((n, int(c)) for n, c in section_rows(page, "organizations")) == {"الأمم المتحدة": 2}
    assert entity_links(page, "persons")["فلاديمير بوتين"] == "https://wasat.example/1"


def test_outlet_kinds_and_event_colours():
    import duckdb

    from akhbar.lib.events.decision import EVENT_TYPES
    from akhbar.lib.report import EVENT_PALETTE, OTHER_COLOUR, OUTLET_KIND_SQL, event_style

    urls = {
        "http://127.0.0.1:8765/bad/pages.xml": "fault", "http://127.0.0.1:1/fault/500": "fault",
        "http://localhost:8000/wasat/rss.xml": "demo", "https://enriched.example/0/rss": "demo",
        "https://news.example.com/feed": "demo", "https://www.aljazeera.net/feed": "news",
        "https://example.org.evil.net/bad/x": "news", "https://bbc.co.uk/fault/": "news",
    }
    con = duckdb.connect()
    for url, kind in urls.items():
        assert con.execute(f"SELECT {OUTLET_KIND_SQL} FROM (SELECT ? AS feed_url)", [url]).fetchone()[0] == kind, url
    styles = [event_style(code) for code in EVENT_TYPES]
    assert len(set(styles)) == len(EVENT_TYPES), "no two event types look alike"
    assert all(colour in (*EVENT_PALETTE, OTHER_COLOUR) for colour, _ in styles)
    assert event_style("DIPLOMACY") == event_style("DIPLOMACY")


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
    labels = {"demo": " (تجريبي · demo)", "fault": " (تغذية أعطال · fault feed)", "news": ""}
    expected = Counter(r["outlet"] + labels[outlet_kind(r["feed_url"])] for r in _articles(analytics_output)
                       if r["published_at"] >= cutoff)
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
