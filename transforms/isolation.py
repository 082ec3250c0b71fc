"""Per-item isolation: a failure on one feed or one item becomes a dead letter, never a failed run.

One wrapper for every per-element step (engineering.md: cross-cutting behaviour
is one wrapper, not copied into every DoFn). ``@per_item(stage)`` on a DoFn's
``process`` runs it for one element and holds its outputs back until it has
finished: if it raises, none of them is emitted, a ``DeadLetter`` naming the
stage, the error kind and the input goes to the ``dead_letter`` output instead,
and a counter is incremented, so ``seen = written + duplicates + dead letters``
still holds. Beam reads the wrapped method's signature through
``functools.wraps``, so state, timer and timestamp parameters work as before.

Error kinds: an exception that carries a ``kind`` (``FetchError``,
``FeedError``, ``InvalidURL``) keeps it; anything else is ``unexpected``, with
the exception type, message and the line that raised it in ``error``.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import logging
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindows

from akhbar.schemas.records import Article, DeadLetter, FeedItem
from akhbar.transforms import counters
from akhbar.transforms.outputs import DEAD_LETTER

LOG = logging.getLogger(__name__)
UNEXPECTED = "unexpected"


def error_kind(exc: BaseException) -> str:
    kind = getattr(exc, "kind", None)
    return kind if isinstance(kind, str) and kind else UNEXPECTED


def error_text(exc: BaseException) -> str:
    """``Type: message``, and for an unexpected error the file and line that raised it."""
    text = str(exc) if error_kind(exc) != UNEXPECTED else f"{type(exc).__name__}: {exc}"
    if error_kind(exc) == UNEXPECTED and exc.__traceback__ is not None:
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        text += f" (at {frame.filename.rsplit('/', 2)[-1]}:{frame.lineno} in {frame.name})"
    return text


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def describe(element: Any) -> tuple[str, str | None, str | None]:
    """(input, feed_url, url) of an element for its dead letter, whatever stage it was in."""
    if isinstance(element, FeedItem):
        return element.describe(), element.feed_url, element.link
    if isinstance(element, Article):
        summary = {k: getattr(element, k) for k in ("article_id", "url", "guid", "title", "published_at")}
        return _json(summary), element.feed_url, element.url
    if isinstance(element, DeadLetter):
        return _json(dataclasses.asdict(element)), element.feed_url, element.url
    if isinstance(element, dict):
        keys = ("article_id", "dead_letter_id", "url", "feed_url", "title", "stage", "error_kind")
        return _json({k: element.get(k) for k in keys if k in element}), element.get("feed_url"), element.get("url")
    if isinstance(element, tuple) and element:
        for part in element:
            if isinstance(part, (FeedItem, Article, DeadLetter, dict)):
                return describe(part)
        if isinstance(element[0], str):  # (feed_url, tick) and other keyed elements
            return element[0], element[0] if "://" in element[0] else None, None
    return repr(element)[:4096], None, None


def dead_letter(stage: str, exc: BaseException, element: Any) -> DeadLetter:
    text, feed_url, url = describe(element)
    return DeadLetter(stage=stage, error_kind=error_kind(exc), error=error_text(exc), input=text,
                      feed_url=feed_url, url=url)


def guarded(stage: str, element: Any, produce: Callable[[], Iterable], dead_counter) -> Iterator:
    """Run ``produce()`` for one element; its outputs, or one dead letter if it raised."""
    try:
        outputs = list(produce())
    except Exception as exc:
        dead_counter.inc()
        letter = dead_letter(stage, exc, element)
        LOG.warning("%s: %s on %.200s: %.500s", stage, letter.error_kind, letter.url or letter.input, letter.error)
        yield beam.pvalue.TaggedOutput(DEAD_LETTER, letter)
        return
    yield from outputs


def per_item(stage: str, counter: str = counters.ITEMS_DEAD_LETTERED):
    """Decorate ``DoFn.process``: one element's failure is its dead letter (``stage``), counted in ``counter``.

    The DoFn must declare the ``dead_letter`` output (``.with_outputs(DEAD_LETTER, main=...)``).
    """
    dead_counter = counters.counter(counter)

    def wrap(process):
        @functools.wraps(process)
        def isolated(self, element, *args, **kwargs):
            yield from guarded(stage, element, lambda: process(self, element, *args, **kwargs), dead_counter)

        return isolated

    return wrap


def flatten_dead_letters(pcolls, label: str):
    """Dead letters from stages that window differently, as one PCollection in the global window.

    Prism 2.77 fails a Flatten whose inputs are windowed differently once elements
    flow through it ("typex.Window is window.GlobalWindow, not window.IntervalWindow"),
    so each input is re-windowed first; element timestamps are kept, and the
    dead-letter writer windows them again.
    """
    rewindowed = [
        pcoll | f"{label}GlobalWindow{i}" >> beam.WindowInto(GlobalWindows()) for i, pcoll in enumerate(pcolls)
    ]
    return rewindowed | label >> beam.Flatten()
