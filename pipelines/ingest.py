"""akhbar ingest: poll Arabic news feeds, fetch full text, dedup, enrich, write Parquet.

Flow (each box is a composite PTransform that returns a ``StageOutput``: its main
output and its dead letters, ``transforms/outputs.py``)::

    feed URLs -> PollFeeds -> FetchArticles -> DedupExact -> DedupNear -> Enrich -> WriteParquet(articles)
                     |             |                                         |       +
                     +-------------+-----------------------------------------+--> WriteParquet(dead_letters)

Enrich runs the model branches chosen by the options (NER, event types) side
by side and joins them back by article_id; geocoding, which reads both, runs
on the joined articles.

Batch, on the DirectRunner (polls every feed once)::

    akhbar run --feeds feeds.txt --output out/ --once

Streaming, on the Prism runner (polls each feed every --poll_interval
seconds until stopped, or for --duration seconds)::

    akhbar run --feeds feeds.txt --output out/ --streaming --poll_interval 60

Every item read is accounted for by the run's counters:
``items_seen = rows_written_articles + duplicates + items_dead_lettered``.

Reruns and restarts over the same ``--output`` write each article once: what
is already there (read from the output's key columns at start) counts as
``duplicates_in_output``. Delete the output folder to start fresh.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.runners.runner import PipelineState
from apache_beam.transforms.periodicsequence import PeriodicImpulse
from apache_beam.utils.shared import Shared
from apache_beam.utils.timestamp import MAX_TIMESTAMP, Duration, Timestamp

from akhbar.lib.enrichment import Enricher
from akhbar.lib.events.enricher import EventEnricher
from akhbar.lib.geo.enricher import GeoEnricher
from akhbar.lib.models import choose_event_model, choose_ner_model
from akhbar.lib.ner.enricher import NerEnricher
from akhbar.pipelines import flink, runners
from akhbar.pipelines.options import AkhbarOptions
from akhbar.pipelines.output import check_output_writable
from akhbar.schemas.article import ARTICLES_TABLE, DEAD_LETTERS_TABLE
from akhbar.transforms.dedup import DedupExact, SkipWritten
from akhbar.transforms.enrich import Enrich
from akhbar.transforms.feeds import PollFeeds
from akhbar.transforms.fetch import FetchArticles
from akhbar.transforms.isolation import flatten_dead_letters
from akhbar.transforms.neardup import DedupNear
from akhbar.transforms.parquet import WindowForWrite, WriteParquet

LOG = logging.getLogger(__name__)


class Interrupted(Exception):
    """The run was stopped by the user (Ctrl-C); files written so far are complete."""


class DrainTimeout(Exception):
    """A streaming run with --duration did not end in time after its deadline and was cancelled."""


@dataclass(frozen=True)
class IngestOutputs:
    """Handles on what a built pipeline writes, for tests and callers that extend it."""

    article_files: beam.PCollection
    dead_letter_files: beam.PCollection


def poll_requests(pipeline: beam.Pipeline, feeds: Sequence[str], opts: AkhbarOptions, streaming: bool):
    """One poll request per feed (batch), or per feed per tick until stopped (streaming)."""
    if not streaming:
        return pipeline | "FeedUrls" >> beam.Create(list(feeds))
    tick = opts.tick_interval or min(opts.poll_interval, 30.0)
    start = Timestamp.now()
    # The ticks are [start, stop): one microsecond past the deadline gives a last tick at the
    # deadline itself when the duration is a multiple of the tick. Then the source ends, the
    # watermark passes every window and the job drains.
    stop = start + Duration(seconds=opts.duration) + Duration(micros=1) if opts.duration else MAX_TIMESTAMP
    feeds = list(feeds)
    if flink.is_flink(opts):
        # PeriodicImpulse's watermark is lost on portable Flink: see pipelines/flink.py.
        ticks = pipeline | "Tick" >> flink.FlinkTicks(tick)
    else:
        ticks = pipeline | "Tick" >> PeriodicImpulse(start_timestamp=start, stop_timestamp=stop, fire_interval=tick)
    return ticks | "FeedUrlsPerTick" >> beam.FlatMap(lambda _tick: feeds)


def build_enrichers(opts: AkhbarOptions) -> list[Enricher]:
    """The model branches this run applies to every article; each model is validated here, before the run."""
    enrichers: list[Enricher] = []
    events = choose_event_model(opts.event_model)
    if events is not None:
        enrichers.append(EventEnricher(events.location, events.model_id))
    ner = choose_ner_model(opts.ner_model, crf_weight=opts.ner_crf_weight)
    if ner is not None:
        enrichers.append(NerEnricher(ner.location, ner.model_id, batch_size=opts.ner_batch_size,
                                     crf_weight=opts.ner_crf_weight))
        if opts.geo == "default":  # reads the entities: Enrich runs it after joining the branches
            enrichers.append(GeoEnricher())
    return enrichers


def check_models(opts: AkhbarOptions) -> list[Enricher]:
    """Validate every model the options choose (NER, events, near-dup scorer) before any feed is read.

    Returns the enrichers; raises ``ModelError`` with a one-line message.
    """
    if opts.near_dup_policy != "off":
        opts.near_dup_options()  # loads the pair scorer: a bad --near_dup_model fails here
    return build_enrichers(opts)


def build_pipeline(pipeline: beam.Pipeline, feeds: Sequence[str], opts: AkhbarOptions,
                   enrichers: Sequence[Enricher] | None = None, items: beam.PCollection | None = None) -> IngestOutputs:
    """The ingest graph on ``pipeline``; ``enrichers`` default to the options' models.

    ``items``: FeedItems from elsewhere (``akhbar backfill``'s sitemaps) instead of polling ``feeds``.
    """
    streaming = bool(opts.view_as(StandardOptions).streaming)
    dead_letters = {}
    if items is None:
        polled = poll_requests(pipeline, feeds, opts, streaming) | "PollFeeds" >> PollFeeds(opts.poll_config())
        items = polled.main
        dead_letters["Poll"] = polled.dead_letter
    # What earlier runs wrote to this output is read back once per worker: never fetched or written again.
    in_output, shared = opts.written_keys(), Shared()
    items = items | "SkipWrittenItems" >> SkipWritten(in_output, shared)
    fetched = items | "FetchArticles" >> FetchArticles(opts.fetch_config(), opts.politeness_config())
    exact = fetched.main | "DedupExact" >> DedupExact(
        streaming=streaming, ttl_s=opts.dedup_ttl, written=in_output, shared=shared)
    dead_letters.update(Fetch=fetched.dead_letter, DedupExact=exact.dead_letter)
    articles = exact.main
    on_flink_streaming = streaming and flink.is_flink(opts)
    # The joins after fan-outs: in keyed state on Flink, where windowed joins dropped late parts
    # (transforms/joins.py), in the write windows elsewhere.
    join_window_s = None if on_flink_streaming else opts.write_interval
    if on_flink_streaming:  # see flink.stamp_processing_time
        articles = flink.stamp_processing_time(articles, "StampAfterDedup")
    if opts.near_dup_policy != "off":
        near = articles | "DedupNear" >> DedupNear(opts.near_dup_options(), streaming=streaming,
                                                    join_window_s=join_window_s)
        articles = near.main
        dead_letters["DedupNear"] = near.dead_letter
    enrichers = build_enrichers(opts) if enrichers is None else list(enrichers)
    if enrichers:
        enriched = articles | "Enrich" >> Enrich(enrichers, streaming=streaming, join_window_s=join_window_s)
        articles = enriched.main
        dead_letters["Enrich"] = enriched.dead_letter
    write = dict(streaming=streaming, window_s=opts.write_interval, max_rows=opts.max_rows_per_file)
    if on_flink_streaming:
        articles = flink.stamp_processing_time(articles, "StampBeforeWrite")
    written = articles | "WriteArticles" >> WriteParquet(opts.output, ARTICLES_TABLE, **write)
    dead_letters["WriteArticles"] = written.dead_letter  # article rows Arrow refused
    if streaming:
        # The stages' dead letters come windowed differently (the poller's, the fetcher's and the dedup
        # stages' in the global window, Enrich's in its join windows or, on Flink, the global window,
        # the writer's in the write windows): each goes into the write windows first, the one
        # windowing of the dead-letter table.
        windowed = [pcoll | f"{stage}DeadLetterWindows" >> WindowForWrite(opts.write_interval)
                    for stage, pcoll in dead_letters.items()]
        all_dead_letters = windowed | "AllDeadLetters" >> beam.Flatten()
        if on_flink_streaming:  # the fetcher's came after their window had closed: see flink.stamp_processing_time
            all_dead_letters = flink.stamp_processing_time(all_dead_letters, "StampDeadLettersBeforeWrite")
    else:
        all_dead_letters = flatten_dead_letters(list(dead_letters.values()), "AllDeadLetters")
    dead_letter_files = (
        all_dead_letters
        | "WriteDeadLetters" >> WriteParquet(opts.output, DEAD_LETTERS_TABLE, **write)
    ).main
    return IngestOutputs(article_files=written.main, dead_letter_files=dead_letter_files)


CANCEL_TIMEOUT_S = 10.0
# After its deadline a streaming run drains: the last poll's items go through and the last
# windows are written (measured: seconds). Past write_interval + this, it is cancelled.
DRAIN_GRACE_S = 60.0


def _cancel_within(result, timeout_s: float) -> None:
    """Cancel the job from a daemon thread and give up after ``timeout_s``: the gRPC call has no deadline."""

    def cancel() -> None:
        try:
            result.cancel()
        except Exception as cancel_error:
            LOG.info("job service gone before cancel: %s", cancel_error)

    worker = threading.Thread(target=cancel, name="akhbar-cancel", daemon=True)
    worker.start()
    worker.join(timeout_s)


def _wait_for_drain(result, give_up_at: float) -> None:
    """Wait for a streaming run with a deadline to end by itself; cancel it at ``give_up_at`` (monotonic)."""
    remaining_ms = max(int((give_up_at - time.monotonic()) * 1000), 1)
    state = result.wait_until_finish(duration=remaining_ms)
    if PipelineState.is_terminal(state):
        return
    LOG.error("the job is still %s past its deadline + write_interval + %.0fs: cancelling it", state, DRAIN_GRACE_S)
    _cancel_within(result, CANCEL_TIMEOUT_S)
    raise DrainTimeout(
        f"the streaming job did not end within --write_interval + {DRAIN_GRACE_S:.0f}s of its --duration "
        "deadline and was cancelled; the files written are complete, the last windows may be missing"
    )


def run(opts: AkhbarOptions, feeds: Sequence[str], enrichers: Sequence[Enricher] | None = None):
    """Build and run the ingest pipeline; return (PipelineResult, seconds taken)."""
    LOG.info("polling %d feeds into %s", len(feeds), opts.output)
    started = time.monotonic()
    pipeline = beam.Pipeline(runner=runners.create_runner(opts), options=opts)
    build_pipeline(pipeline, feeds, opts, enrichers)
    result = pipeline.run()
    streaming = bool(opts.view_as(StandardOptions).streaming)
    try:
        if flink.is_flink(opts) and streaming:
            flink_master = opts.view_as(PipelineOptions).get_all_options().get("flink_master")
            flink.wait_for_streaming_run(result, opts.duration, 2 * opts.write_interval, flink_master)
        elif streaming and opts.duration:
            _wait_for_drain(result, started + opts.duration + opts.write_interval + DRAIN_GRACE_S)
        else:
            result.wait_until_finish()
    except KeyboardInterrupt as exc:
        # Ctrl-C stops a streaming run. Ask the job service to cancel, but never wait on it
        # for long: a local runner is often already shutting down with this process.
        LOG.warning("interrupted: stopping the job")
        _cancel_within(result, CANCEL_TIMEOUT_S)
        raise Interrupted() from exc
    return result, time.monotonic() - started


def submit(opts: AkhbarOptions, feeds: Sequence[str], enrichers: Sequence[Enricher] | None = None):
    """Build the ingest pipeline and hand it to the runner; return its PipelineResult without waiting.

    For launchers that must return once the job is submitted (Dataflow's flex-template
    launcher, ``akhbar submit``); ``run`` waits for the job instead.
    """
    LOG.info("submitting: %d feeds into %s", len(feeds), opts.output)
    pipeline = beam.Pipeline(options=opts)
    build_pipeline(pipeline, feeds, opts, enrichers)
    return pipeline.run()


def run_with_args(argv: Sequence[str]):
    """Parse ``argv`` (akhbar's and Beam's flags), validate the models, read the feed list and run.

    The programmatic form of ``akhbar run``: returns (PipelineResult, seconds). Raises
    ``UsageError`` (unknown option, bad value, unwritable output), ``FeedListError`` or
    ``ModelError`` before anything is fetched.
    """
    from akhbar.pipelines.feedlist import read_feed_list
    from akhbar.pipelines.options import parse_options

    opts = parse_options(argv)
    enrichers = check_models(opts)
    feeds = read_feed_list(opts.feeds)
    check_output_writable(opts.output)
    return run(opts, feeds, enrichers)
