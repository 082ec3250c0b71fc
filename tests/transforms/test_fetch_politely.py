"""FetchArticleFn driven by hand: every item queued comes out exactly once, whatever order fetches finish in."""
from __future__ import annotations

from concurrent.futures import Future

from apache_beam.pvalue import TaggedOutput
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.timestamp import Timestamp
from apache_beam.utils.windowed_value import WindowedValue

from akhbar.lib.articles import FetchConfig
from akhbar.lib.web.http import FetchError, HttpConfig
from akhbar.lib.web.politeness import PolitenessConfig, PoliteResult
from akhbar.sample.site import NewsSite
from akhbar.schemas.records import Article
from akhbar.transforms.fetch import NO_HOST, FetchArticleFn, _Pending, host_key
from tests.factories import feed_item


class State:
    def __init__(self):
        self.value = None

    def read(self):
        return self.value

    def write(self, value):
        self.value = value


def _items(site: NewsSite, count: int):
    return [feed_item(link=site.page_url(page), guid=f"{site.name}-{page.index}", feed_url=site.url + "/feed.xml")
            for page in site.pages[:count]]


def test_every_queued_page_comes_out_exactly_once():
    """Fetches finish on other threads while process() and finish_bundle() collect them: none may fall between."""
    sites = [NewsSite(pages=100, name=f"s{k}", robots=None).start() for k in range(4)]
    try:
        for _round in range(2):
            fn = FetchArticleFn(FetchConfig(http=HttpConfig(allow_loopback=True, read_timeout=5)),
                                PolitenessConfig(delay_s=0, concurrency=8, threads=16))
            fn.setup()
            fn.start_bundle()
            state = State()
            items = [item for site in sites for item in _items(site, 100)]
            outputs = []
            for k, item in enumerate(items):
                outputs += list(fn.process((host_key(item, fn._config), (item, 0.0)), Timestamp(k), GlobalWindow(),
                                           state))
            outputs += list(fn.finish_bundle())
            assert all(isinstance(o, WindowedValue) and not isinstance(o, TaggedOutput) for o in outputs)
            urls = sorted(o.value.url for o in outputs)
            assert len(urls) == 400 and len(set(urls)) == 400
            assert all(isinstance(o.value, Article) and o.value.text_source == "page" for o in outputs)
            # Each output keeps the timestamp of the element it came from.
            assert {o.value.url: o.timestamp for o in outputs} == {item.link: Timestamp(k) for k, item in
                                                                     enumerate(items)}
    finally:
        for site in sites:
            site.stop()


def test_items_without_a_page_are_answered_at_once():
    fn = FetchArticleFn(FetchConfig(http=HttpConfig(allow_loopback=True)), PolitenessConfig(delay_s=0))
    fn.setup()
    fn.start_bundle()
    no_link = feed_item(link=None, guid="no-link")
    bad_port = feed_item(link="http://127.0.0.1:99999/x", guid="bad-port")
    assert host_key(no_link, fn._config) == host_key(bad_port, fn._config) == NO_HOST
    (first,) = fn.process((NO_HOST, (no_link, 0.0)), Timestamp(0), GlobalWindow(), State())
    assert first.text_source == "feed_summary" and first.fetch_error.startswith("no_link")
    (second,) = fn.process((NO_HOST, (bad_port, 0.0)), Timestamp(0), GlobalWindow(), State())
    assert isinstance(second, TaggedOutput) or second.fetch_error.startswith("bad_url")
    assert list(fn.finish_bundle()) == []


class FinishingWhileChecked(Future):
    """A fetch that finishes just after its first check: it reports not done, and is done from then on."""

    def __init__(self, result):
        super().__init__()
        self._late_result = result

    def done(self):
        if not super().done():
            self.set_result(self._late_result)
            return False
        return True


def test_a_fetch_that_finishes_while_the_queue_is_read_is_emitted_once():
    fn = FetchArticleFn(FetchConfig(http=HttpConfig(allow_loopback=True)), PolitenessConfig(delay_s=0))
    fn.setup()
    fn.start_bundle()
    items = [feed_item(link=f"https://n.example/{k}", guid=str(k)) for k in range(3)]
    result = PoliteResult(error=FetchError("timeout", "https://n.example/", "timed out"))
    finished: Future = Future()
    finished.set_result(result)
    futures = [finished] + [FinishingWhileChecked(result) for _ in items[1:]]
    fn._pending = [_Pending(future, item, item.link, "n.example", Timestamp(0), GlobalWindow())
                   for future, item in zip(futures, items)]
    outputs = list(fn._drain(block=False)) + list(fn.finish_bundle())
    assert sorted(o.value.url for o in outputs) == [item.link for item in items]
    assert all(o.value.fetch_error == "timeout: timed out" for o in outputs)
