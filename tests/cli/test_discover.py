"""``akhbar discover``: feeds on standard output, one per line; the rest on standard error."""
from __future__ import annotations

from akhbar.cli import main
from akhbar.sample.site import NewsSite

FAST = ["--allow_loopback", "--host_delay", "0"]


def test_discover_prints_a_feed_list(capsys, tmp_path):
    with NewsSite(pages=3) as site, NewsSite(pages=2, robots="User-agent: *\nDisallow: /\n") \
            as closed:
        code = main(["discover", site.url, closed.url + "/", "--verbose", *FAST])
    captured = capsys.readouterr()
    assert code == 0
    assert captured.out.splitlines() == [site.url + "/feed.xml", site.url + "/atom.xml"]
    assert f"# {closed.url}/: home page not read: robots_disallowed" in captured.err
    assert f"announced {site.url}/old-feed.xml is not a feed" in captured.err
    feeds = tmp_path / "feeds.txt"
    feeds.write_text(captured.out)
    from akhbar.pipelines.feedlist import read_feed_list

    assert read_feed_list(str(feeds)) == [site.url + "/feed.xml", site.url + "/atom.xml"]


def test_discover_exit_codes(capsys):
    assert main(["discover"]) == 2
    assert main(["discover", "--allow_loopback"]) == 2
    assert main(["discover", "https://n.example", "--host_dealy", "0"]) == 2
    assert "did you mean --host_delay" in capsys.readouterr().err
    with NewsSite(pages=1, robots="User-agent: *\nDisallow: /\n") as closed:
        assert main(["discover", closed.url, *FAST]) == 3
    assert main(["discover", "--help"]) == 0
