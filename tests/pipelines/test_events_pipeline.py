"""The seed article through the whole pipeline: page -> extraction -> event classifier -> Parquet.

The seed (``../shared/data/seed/article.txt``) is served as a real page from a
loopback server with a one-item RSS feed: headline, standfirst and body, with
its inline "شاهد ايضاً" line and its trailing "أخبار ذات صلة" headlines (floods,
a power grid, sanctions) as page boilerplate. The classifier must see the
article, not the boilerplate: primary DIPLOMACY, and none of
DISASTER_ACCIDENT, ECONOMY or SANCTIONS.
"""
from __future__ import annotations

import html
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import duckdb
import pytest

from akhbar.lib.models import EVENT_MODEL as DEFAULT_EVENT_MODEL
from akhbar.pipelines import ingest
from akhbar.schemas.article import table_glob
from akhbar.transforms import counters
from tests.shared_data import shared_data

SEE_ALSO = "شاهد ايضاً"
RELATED = "أخبار ذات صلة"


def seed_page(article_text: str) -> tuple[str, str, str, list[str]]:
    """(headline, standfirst, page HTML, related headlines) of the captured seed article."""
    lines = [line.strip() for line in article_text.splitlines()]
    headline, standfirst = lines[0], lines[1]
    rest = [line for line in lines[2:] if line]
    cut = rest.index(RELATED)
    body, related = rest[:cut], rest[cut + 1 :]
    paragraphs = []
    for line in body:
        if line.startswith(SEE_ALSO):
            label, _, linked = line.partition(":")
            paragraphs.append(f'<p class="see-also"><strong>{html.escape(label)}:</strong> '
                              f'<a href="/news/related-0.html">{html.escape(linked.strip())}</a></p>')
        else:
            paragraphs.append(f"<p>{html.escape(line)}</p>")
    items = "".join(f'<li><a href="/news/related-{i + 1}.html">{html.escape(h)}</a></li>' for i, h in enumerate(related))
    page = f"""<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>{html.escape(headline)}</title>
<meta property="og:title" content="{html.escape(headline)}">
<meta property="article:published_time" content="2026-11-24T08:00:00+00:00"></head>
<body><header><nav><a href="/">الرئيسية</a> | <a href="/world">العالم</a> | <a href="/economy">اقتصاد</a></nav></header>
<main><article><h1>{html.escape(headline)}</h1>
<p class="standfirst">{html.escape(standfirst)}</p>
<div class="post-content">
{chr(10).join(paragraphs)}
</div>
<section class="related-news"><h3>{RELATED}</h3><ul>{items}</ul></section>
</article></main><footer>جميع الحقوق محفوظة</footer></body></html>
"""
    return headline, standfirst, page, related


class SeedServer:
    """One RSS feed with one item, and the seed page, on 127.0.0.1."""

    def __init__(self, headline: str, standfirst: str, page: str):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                return

            def do_GET(self):
                if self.path == "/feed.xml":
                    body, kind = server.feed().encode("utf-8"), "application/rss+xml; charset=utf-8"
                elif self.path == "/news/putin-kim.html":
                    body, kind = page.encode("utf-8"), "text/html; charset=utf-8"
                else:
                    body, kind = b"not found", "text/plain"
                self.send_response(200 if kind != "text/plain" else 404)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.headline, self.standfirst = headline, standfirst
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def feed(self) -> str:
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>seed</title>'
            f"<link>{self.url}/</link><item><title>{html.escape(self.headline)}</title>"
            f"<link>{self.url}/news/putin-kim.html</link><guid>seed-1</guid>"
            "<pubDate>Mon, 24 Nov 2026 08:00:00 GMT</pubDate>"
            f"<description>{html.escape(self.standfirst)}</description></item></channel></rss>"
        )

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory):
    article_text = shared_data("seed", "article.txt").read_text(encoding="utf-8")
    headline, standfirst, page, related = seed_page(article_text)
    server = SeedServer(headline, standfirst, page)
    tmp = tmp_path_factory.mktemp("seed")
    try:
        feeds = tmp / "feeds.txt"
        feeds.write_text(server.url + "/feed.xml\n", encoding="utf-8")
        out = tmp / "out"
        result, _ = ingest.run_with_args(["--feeds", str(feeds), "--output", str(out), "--once", "--allow_loopback",
                                          "--host_delay", "0", "--host_concurrency", "4",
                                "--event_model", str(DEFAULT_EVENT_MODEL)])
    finally:
        server.close()
    con = duckdb.connect()
    rel = con.sql(f"SELECT title, text, text_source, primary_event, event_types "
                  f"FROM read_parquet('{table_glob(str(out), 'articles')}', hive_partitioning=true)")
    rows = [dict(zip(rel.columns, row)) for row in rel.fetchall()]
    return rows, related, counters.query_counters(result)


def test_seed_page_is_written_once_from_the_page(seed_run):
    rows, related, totals = seed_run
    assert len(rows) == 1, rows
    assert rows[0]["text_source"] == "page"
    assert totals["enriched_events"] == 1


def test_classifier_input_is_the_article_without_related_headlines(seed_run):
    rows, related, _ = seed_run
    text = rows[0]["text"]
    assert "بوتين" in text and "كيم" in text
    for headline in related:
        assert headline not in text, f"boilerplate headline reached the article text: {headline}"


def test_seed_is_diplomacy_and_not_the_boilerplate_events(seed_run):
    rows, _, _ = seed_run
    row = rows[0]
    codes = [e["code"] for e in row["event_types"]]
    assert row["primary_event"] == "DIPLOMACY", row["event_types"]
    assert "DIPLOMACY" in codes
    assert not {"DISASTER_ACCIDENT", "ECONOMY", "SANCTIONS"} & set(codes), row["event_types"]
    assert all(0.0 <= e["score"] <= 1.0 for e in row["event_types"])
