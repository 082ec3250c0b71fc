import pytest

from akhbar.pipelines.feedlist import FeedListError, read_feed_list


def test_text_feed_list_with_comments_blank_lines_and_duplicates(tmp_path):
    path = tmp_path / "feeds.txt"
    path.write_text("# news\nhttps://a.example/rss\n\nhttps://b.example/atom  # agency\nhttps://a.example/rss\n")
    assert read_feed_list(path) == ["https://a.example/rss", "https://b.example/atom"]


def test_opml_feed_list(tmp_path):
    path = tmp_path / "feeds.opml"
    path.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head><title>أخبار</title></head><body>'
        '<outline text="عربي"><outline type="rss" text="أ" xmlUrl="https://a.example/rss"/>'
        '<outline type="rss" text="ب" xmlUrl="https://b.example/atom"/></outline></body></opml>',
        encoding="utf-8",
    )
    assert read_feed_list(path) == ["https://a.example/rss", "https://b.example/atom"]


@pytest.mark.parametrize("content", ["", "# only a comment\n", "<?xml version='1.0'?><opml><body>"])
def test_empty_or_broken_lists_are_errors(tmp_path, content):
    path = tmp_path / "feeds.txt"
    path.write_text(content)
    with pytest.raises(FeedListError):
        read_feed_list(path)


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(FeedListError, match="cannot read"):
        read_feed_list(tmp_path / "nope.txt")
