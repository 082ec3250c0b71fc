"""`akhbar run` as a careless user meets it: help, typos, bad values, a bad output, a dead feed list."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from akhbar.cli import main
from akhbar.cli.run import EXIT_NO_FEED_READ, EXIT_USAGE
from akhbar.pipelines.options import GROUPS, check_flags, parse_options

pytestmark = pytest.mark.timeout(120)


class _Recorder(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.server.paths.append(self.path)
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def feed_server():
    """A loopback server that records every request: a refused run must not have fetched anything."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.paths = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def feeds(tmp_path: Path, feed_server) -> Path:
    path = tmp_path / "feeds.txt"
    path.write_text(f"http://127.0.0.1:{feed_server.server_address[1]}/feed.xml\n")
    return path


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["run", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_help_lists_akhbars_options_grouped_and_says_beam_options_pass_through(capsys):
    code, out, _err = _run(capsys, "--help")
    assert code == 0
    assert out.startswith("usage: akhbar run --feeds FILE --output DIR")
    positions = [out.index(f"\n{group}:\n") for group in GROUPS]
    assert positions == sorted(positions), "the groups, in order"
    for flag in ("--feeds", "--output", "--allow_loopback", "--poll_interval", "--ner_model", "--near_dup_policy",
                 "--max_rows_per_file", "--streaming", "--max_page_bytes"):
        assert flag in out
    assert "Beam pipeline option passes through" in out.replace("\n", " ")
    assert "Exit codes" in out


@pytest.mark.parametrize(
    ("flag", "suggestion"),
    [("--ner_modle", "--ner_model"), ("--allow-loopback", "--allow_loopback"), ("--pol_interval", "--poll_interval"),
     ("--max-page-bytes", "--max_page_bytes"), ("--runer", "--runner")],
)
def test_a_misspelled_option_is_an_error_with_a_suggestion(capsys, feeds, feed_server, tmp_path, flag, suggestion):
    """Once only a Beam warning: the run went on with the defaults and exited 0."""
    value = [] if flag == "--allow-loopback" else ["none"]
    code, _out, err = _run(capsys, "--feeds", str(feeds), "--output", str(tmp_path / "out"), flag, *value)
    assert code == EXIT_USAGE
    assert f"unknown option {flag}; did you mean {suggestion}?" in err
    assert len(err.strip().splitlines()) == 1
    assert feed_server.paths == [] and not (tmp_path / "out").exists()


def test_an_unknown_option_without_a_close_match_and_a_stray_argument(capsys, feeds, tmp_path):
    code, _out, err = _run(capsys, "--feeds", str(feeds), "--output", str(tmp_path), "--frobnicate", "3")
    assert code == EXIT_USAGE and "unknown option --frobnicate (see" in err
    code, _out, err = _run(capsys, "--feeds", str(feeds), "--output", str(tmp_path), "feeds.txt")
    assert code == EXIT_USAGE and "unexpected argument 'feeds.txt'" in err


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--poll_interval", "0", "must be > 0"),
        ("--poll_interval", "-5", "must be > 0"),
        ("--tick_interval", "0", "must be > 0"),
        ("--duration", "inf", "must be > 0"),
        ("--max_rows_per_file", "0", "must be >= 1"),
        ("--read_timeout", "0", "must be > 0"),
        ("--connect_timeout", "nan", "must be > 0"),
        ("--max_feed_bytes", "-1", "must be >= 1"),
        ("--max_page_bytes", "0", "must be >= 1"),
        ("--max_redirects", "-1", "must be >= 0"),
        ("--write_interval", "0", "must be >= 1"),
        ("--dedup_ttl", "0", "must be >= 1"),
        ("--near_dup_shards", "0", "must be >= 1"),
        ("--ner_batch_size", "0", "must be >= 1"),
        ("--remember_entries", "0", "must be >= 1"),
        ("--max_backoff", "0", "must be > 0"),
        ("--read_timeout", "soon", "expected a number"),
        ("--max_rows_per_file", "1.5", "expected an integer"),
        ("--near_dup_policy", "maybe", "invalid choice"),
    ],
)
def test_bad_values_are_refused_up_front(capsys, feeds, feed_server, tmp_path, flag, value, message):
    """Once tracebacks, or every fetch silently broken (read_timeout 0, max_feed_bytes -1)."""
    code, _out, err = _run(capsys, "--feeds", str(feeds), "--output", str(tmp_path / "out"), flag, value)
    assert code == EXIT_USAGE
    assert f"argument {flag}: {message}" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert feed_server.paths == []


def test_beam_options_stay_accepted():
    check_flags(["--feeds", "f", "--output", "o", "--runner", "DirectRunner", "--direct_num_workers", "2",
                 "--direct_running_mode=multi_processing", "--experiments", "a", "--experiments=b", "--streaming",
                 "--prism_location", "/x/prism", "--flink_master", "[local]", "--environment_type", "LOOPBACK",
                 "--checkpointing_interval", "5000", "--job_endpoint", "embed", "--save_main_session"])
    opts = parse_options(["--feeds", "f", "--output", "o", "--direct_num_workers", "2", "--poll_interval", "2.5"])
    assert opts.poll_interval == 2.5


@pytest.mark.parametrize("where", ["file", "under_file"])
def test_an_unwritable_output_is_found_before_any_fetch(capsys, feeds, feed_server, tmp_path, where):
    """Once found only after all the fetching was done."""
    blocker = tmp_path / "taken"
    blocker.write_text("not a folder")
    output = blocker if where == "file" else blocker / "out"
    code, _out, err = _run(capsys, "--feeds", str(feeds), "--output", str(output), "--allow_loopback",
                           "--ner_model", "none", "--event_model", "none")
    assert code == EXIT_USAGE
    assert f"--output {output}:" in err and "file" in err
    assert len(err.strip().splitlines()) == 1
    assert feed_server.paths == [], "nothing was fetched"


def test_a_feed_list_that_is_not_utf8_is_a_one_line_error(capsys, tmp_path):
    path = tmp_path / "feeds.txt"
    path.write_bytes("https://news.example/rss\n# أخبار\n".encode("cp1256"))
    code, _out, err = _run(capsys, "--feeds", str(path), "--output", str(tmp_path / "out"))
    assert code == EXIT_USAGE
    assert err.strip() == f"akhbar run: feed list {str(path)!r} is not UTF-8 text (byte 27); save it as UTF-8"


def test_a_run_in_which_no_feed_could_be_read_exits_with_its_own_code(capsys, feeds, feed_server, tmp_path):
    """Once exit 0 although every feed failed."""
    code, out, err = _run(capsys, "--feeds", str(feeds), "--output", str(tmp_path / "out"), "--allow_loopback",
                          "--ner_model", "none", "--event_model", "none")
    assert code == EXIT_NO_FEED_READ
    assert feed_server.paths == ["/feed.xml"]
    assert "no feed could be read" in err
    assert "1 failed" in out
