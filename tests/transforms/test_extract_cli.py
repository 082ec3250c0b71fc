"""``akhbar extract``: files and URLs in one process, one JSON object per input."""

from __future__ import annotations

import json
from pathlib import Path

from akhbar.cli import main as akhbar
from tests.transforms.test_extract import BODY, TITLE, synthetic_page


def _records(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_many_files_in_one_run_one_object_each(tmp_path: Path, capsys):
    paths = []
    for k in range(3):
        path = tmp_path / f"page{k}.html"
        path.write_bytes(synthetic_page().encode("utf-8"))
        paths.append(str(path))
    assert akhbar(["extract", *paths, "--json"]) == 0
    records = _records(capsys)
    assert [r["input"] for r in records] == paths
    for record in records:
        assert set(record) == {"input", "url", "title", "text", "published", "method", "language"}
        assert record["title"] == TITLE and record["language"] == "ar"
        assert record["published"] == "2026-11-24T04:45:00+00:00"
        assert record["method"] == "trafilatura"
        for paragraph in BODY:
            assert paragraph in record["text"]


def test_a_failed_input_says_why_and_the_rest_go_on(tmp_path: Path, capsys):
    good = tmp_path / "good.html"
    good.write_text(synthetic_page(), encoding="utf-8")
    empty = tmp_path / "empty.html"
    empty.write_text("<html><body></body></html>", encoding="utf-8")
    missing = tmp_path / "missing.html"
    assert akhbar(["extract", str(missing), str(empty), str(good), "--json"]) == 1
    captured = capsys.readouterr()
    records = [json.loads(line) for line in captured.out.splitlines()]
    assert records[0]["error"].startswith("read: ") and records[1]["error"].startswith("extraction: ")
    assert "text" in records[2]
    assert "missing.html" in captured.err and "empty.html" in captured.err


def test_plain_output_is_the_text(tmp_path: Path, capsys):
    path = tmp_path / "page.html"
    path.write_text(synthetic_page(), encoding="utf-8")
    assert akhbar(["extract", str(path), "--url", "https://example.com/a/1"]) == 0
    out = capsys.readouterr().out
    assert BODY[0] in out and not out.startswith("{")


def test_urls_go_through_the_http_client_and_its_address_guard(sample_server, capsys):
    article = sample_server.articles[0]
    url = sample_server.page_url(article)
    assert akhbar(["extract", url, "--json"]) == 1
    refused = _records(capsys)[0]
    assert refused["error"].startswith("fetch/address_refused"), refused
    assert akhbar(["extract", url, sample_server.url + "/fault/404", "--json", "--allow_loopback"]) == 1
    page, dead = _records(capsys)
    assert page["url"] == url and page["title"] == article.title
    for paragraph in article.body:
        assert paragraph in page["text"]
    assert dead["error"].startswith("fetch/http_status")


def test_usage_errors(tmp_path: Path, capsys):
    path = tmp_path / "p.html"
    path.write_text(synthetic_page(), encoding="utf-8")
    for argv in (["extract"], ["extract", str(path), str(path), "--url", "https://e.com/a"],
                 ["extract", str(path), "--url", "ftp://e.com/a"]):
        try:
            code = akhbar(argv)
        except SystemExit as exc:
            code = exc.code
        assert code == 2, argv


def test_standard_input(monkeypatch, capsys):
    import io

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(synthetic_page().encode("cp1256", "xmlcharrefreplace"))))
    assert akhbar(["extract", "-", "--json"]) == 0
    record = _records(capsys)[0]
    assert record["input"] == "-" and BODY[0] in record["text"]
