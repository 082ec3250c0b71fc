"""AkhbarOptions: every setting of an akhbar run, as Beam PipelineOptions.

One place for configuration: the CLI and a cluster launcher parse the same
flags, and each flag maps onto the config dataclass of the box that uses it.
"""
from __future__ import annotations

from collections.abc import Sequence

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from akhbar.lib.articles import FetchConfig
from akhbar.lib.feeds import PollConfig
from akhbar.lib.models import choose_near_dup_model
from akhbar.lib.neardup import DEFAULT_TTL_S as NEAR_DUP_TTL_S
from akhbar.lib.web.http import HttpConfig
from akhbar.transforms.dedup import DEFAULT_TTL_S
from akhbar.transforms.neardup import DedupNearOptions


def has_flag(argv: Sequence[str], name: str) -> bool:
    """Whether ``--name`` or ``--name=value`` is on the command line."""
    return any(a == name or a.startswith(name + "=") for a in argv)


class AkhbarOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser) -> None:
        parser.add_argument("--feeds", help="File with one feed URL per line (# comments allowed), or OPML.")
        parser.add_argument("--output", help="Output folder (local path or a Beam filesystem URL).")
        parser.add_argument("--once", action="store_true", default=False,
                            help="Poll every feed once and finish (batch, the default).")
        parser.add_argument("--poll_interval", type=float, default=300.0,
                            help="Streaming: seconds between polls of one feed.")
        parser.add_argument("--tick_interval", type=float, default=None,
                            help="Streaming: seconds between scheduler ticks (default: min(poll_interval, 30)).")
        parser.add_argument("--duration", type=float, default=None,
                            help="Streaming: stop after this many seconds (default: run until stopped).")
        parser.add_argument("--max_backoff", type=float, default=3600.0,
                            help="Upper bound in seconds of the per-feed backoff after errors.")
        parser.add_argument("--allow_loopback", action="store_true", default=False,
                            help="Allow feeds and pages on 127.0.0.0/8 and ::1 (tests, the demo).")
        parser.add_argument("--allow_private", action="store_true", default=False,
                            help="Allow private-network addresses (RFC 1918, ULA, CGNAT).")
        parser.add_argument("--connect_timeout", type=float, default=5.0)
        parser.add_argument("--read_timeout", type=float, default=20.0)
        parser.add_argument("--max_feed_bytes", type=int, default=10 * 1024 * 1024)
        parser.add_argument("--max_page_bytes", type=int, default=5 * 1024 * 1024)
        parser.add_argument("--max_redirects", type=int, default=5)
        parser.add_argument("--http_user_agent", default=HttpConfig.user_agent,
                            help="User-Agent sent with every feed and page request.")
        parser.add_argument("--no_fetch_pages", action="store_true", default=False,
                            help="Use the feeds' own content/summary; do not fetch article pages.")
        parser.add_argument("--keep_non_arabic", action="store_true", default=False,
                            help="Write non-Arabic articles instead of dead-lettering them.")
        parser.add_argument("--dedup_ttl", type=int, default=DEFAULT_TTL_S,
                            help="Streaming: seconds a dedup key is remembered (default 7 days).")
        parser.add_argument("--remember_entries", type=int, default=5000,
                            help="Streaming: entries remembered per feed to skip re-polled items.")
        parser.add_argument("--write_interval", type=int, default=30,
                            help="Streaming: seconds per output window (files appear this often).")
        parser.add_argument("--max_rows_per_file", type=int, default=50_000)
        parser.add_argument("--near_dup_policy", choices=["keep", "drop", "off"], default="keep",
                            help="Near-duplicates: keep all with story_id/duplicate_of/near_dup_score (default), "
                                 "drop all but the first article of each story, or off (skip the stage).")
        parser.add_argument("--near_dup_ttl", type=int, default=NEAR_DUP_TTL_S,
                            help="Near-dup: seconds an article can be matched by later ones (default 3 days).")
        parser.add_argument("--near_dup_shards", type=int, default=16,
                            help="Streaming near-dup: index shards (keys of the stateful index; 1 = one global index).")
        parser.add_argument("--near_dup_routes", type=int, default=8,
                            help="Streaming near-dup: shards each article is checked against (MinHash routing values).")
        parser.add_argument("--near_dup_model", default="default",
                            help="Near-dup pair scorer JSON ('default': the shipped models/neardup/pair_scorer.json).")
        parser.add_argument("--event_model", default="default",
                            help="Event classifier: a model folder, 'default' (the shipped events-ar-small) or 'none'.")
        parser.add_argument("--ner_model", default="default",
                            help="NER: 'default' (the shipped ner-ar-small), 'none', a model folder or a Hugging Face "
                                 "token-classification model path/hub id (needs the hf extra).")
        parser.add_argument("--ner_batch_size", type=int, default=16, help="NER: articles per model batch.")
        parser.add_argument("--ner_crf_weight", type=float, default=None,
                            help="NER: weight of the feature CRF beside an akhbar model (0: the model alone, faster; "
                                 "default: the model's config).")

    def http_config(self, max_bytes: int) -> HttpConfig:
        return HttpConfig(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            max_bytes=max_bytes,
            max_redirects=self.max_redirects,
            user_agent=self.http_user_agent,
            allow_loopback=self.allow_loopback,
            allow_private=self.allow_private,
        )

    def near_dup_options(self) -> DedupNearOptions:
        return DedupNearOptions(
            policy=self.near_dup_policy,
            ttl_s=self.near_dup_ttl,
            shards=self.near_dup_shards,
            routes=self.near_dup_routes,
            model_path=choose_near_dup_model(self.near_dup_model),
            window_s=self.write_interval,
        )

    def poll_config(self) -> PollConfig:
        return PollConfig(
            http=self.http_config(self.max_feed_bytes),
            interval_s=self.poll_interval,
            max_backoff_s=self.max_backoff,
            remember_entries=self.remember_entries,
        )

    def fetch_config(self) -> FetchConfig:
        return FetchConfig(
            http=self.http_config(self.max_page_bytes),
            fetch_pages=not self.no_fetch_pages,
            keep_non_arabic=self.keep_non_arabic,
        )


class UsageError(ValueError):
    """A command line that cannot run; the message says what to change."""


def parse_options(argv: Sequence[str]) -> AkhbarOptions:
    """Parse akhbar's and Beam's flags, check them, and choose the runner that fits the mode."""
    from akhbar.pipelines.runners import RunnerError, choose_runner

    argv = list(argv)
    opts = PipelineOptions(argv).view_as(AkhbarOptions)
    streaming = bool(opts.view_as(StandardOptions).streaming)
    if opts.once and streaming:
        raise UsageError("--once and --streaming exclude each other")
    if not opts.feeds or not opts.output:
        raise UsageError("--feeds FILE and --output DIR are required")
    try:
        choose_runner(opts, argv)
    except RunnerError as exc:
        raise UsageError(str(exc)) from None
    return opts
