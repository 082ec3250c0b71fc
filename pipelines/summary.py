"""The account of a run: what was polled, seen, written, deduplicated and dead-lettered."""
from __future__ import annotations

from dataclasses import dataclass

from akhbar.schemas.article import ARTICLES_TABLE, DEAD_LETTERS_TABLE, table_glob
from akhbar.transforms import counters


@dataclass(frozen=True)
class RunSummary:
    counters: dict[str, int]
    output: str
    seconds: float

    @property
    def items_seen(self) -> int:
        return self.counters.get(counters.ITEMS_SEEN, 0)

    @property
    def articles_written(self) -> int:
        return self.counters.get(counters.ROWS_WRITTEN_PREFIX + ARTICLES_TABLE, 0)

    @property
    def duplicates(self) -> int:
        return counters.duplicates_total(self.counters)

    @property
    def items_dead_lettered(self) -> int:
        return self.counters.get(counters.ITEMS_DEAD_LETTERED, 0)

    @property
    def dead_letters(self) -> int:
        return self.counters.get(counters.ROWS_WRITTEN_PREFIX + DEAD_LETTERS_TABLE, 0)

    @property
    def enrichment_failures(self) -> int:
        return sum(v for k, v in self.counters.items() if k.startswith(counters.ENRICH_FAILED_PREFIX))

    @property
    def no_feed_read(self) -> bool:
        """Feeds were polled and every poll failed: nothing of the run's input could be read."""
        return self.counters.get(counters.FEEDS_READ, 0) == 0 and self.counters.get(counters.FEEDS_FAILED, 0) > 0

    @property
    def balanced(self) -> bool:
        """Every item is written, a duplicate, or a dead letter."""
        return self.items_seen == self.articles_written + self.duplicates + self.items_dead_lettered

    def _politeness_lines(self) -> list[str]:
        """A line on robots.txt and rate limits, when either changed what the run fetched."""
        c = self.counters
        disallowed = c.get(counters.PAGES_ROBOTS_DISALLOWED, 0)
        deferred = c.get(counters.PAGES_DEFERRED, 0)
        given_up = c.get(counters.PAGES_RATE_LIMITED, 0)
        if not (disallowed or deferred or given_up):
            return []
        return [f"politeness          {disallowed} pages disallowed by robots.txt, {deferred} deferred by a "
                f"Retry-After, {given_up} given up after a rate limit (their feed text is used)"]

    def _earlier_runs_line(self) -> list[str]:
        earlier = self.counters.get(counters.DUPLICATES_PREFIX + "in_output", 0)
        if not earlier:
            return []
        return [f"already in output   {earlier} (written by earlier runs into {self.output}; delete it to start fresh)"]

    def render(self) -> str:
        c = self.counters
        dups = ", ".join(
            f"{k[len(counters.DUPLICATES_PREFIX):]} {v}" for k, v in sorted(c.items()) if k.startswith(counters.DUPLICATES_PREFIX)
        )
        glob = table_glob(self.output, ARTICLES_TABLE)
        lines = [
            f"feeds polled        {c.get(counters.FEEDS_POLLED, 0)} ({c.get(counters.FEEDS_FAILED, 0)} failed, "
            f"{c.get(counters.FEEDS_UNCHANGED, 0)} unchanged)",
            f"items seen          {self.items_seen}",
            f"articles written    {self.articles_written}",
            # Counted at the fetch, before dedup: on a rerun they describe items that are then found already written.
            f"pages               {c.get(counters.PAGES_FETCHED, 0)} fetched, {c.get(counters.PAGES_FAILED, 0)} failed; "
            f"{c.get(counters.TEXT_FROM_FEED, 0)} items kept the text from their feed",
            *self._politeness_lines(),
            f"duplicates dropped  {self.duplicates} ({dups or 'none'}; re-polled entries {c.get(counters.ITEMS_REPEATED, 0)})",
            *self._earlier_runs_line(),
            f"dead letters        {self.dead_letters} ({c.get(counters.FEEDS_FAILED, 0)} feeds, {self.items_dead_lettered} items, "
            f"{self.enrichment_failures} enrichment failures on written articles)",
            f"fields capped       {c.get(counters.FIELDS_TRUNCATED, 0)} (titles, summaries or texts cut to their limit)",
            f"accounted for       {'yes' if self.balanced else 'NO'}: seen = written + duplicates + item dead letters",
            f"took                {self.seconds:.1f}s",
            f"output              {self.output}",
            "try:",
            f"  duckdb -c \"SELECT date, outlet, count(*) AS n FROM read_parquet('{glob}', hive_partitioning=true)"
            " GROUP BY ALL ORDER BY ALL\"",
        ]
        return "\n".join(lines)
