"""The home country of an outlet, a weak prior for resolving its place names.

A country-code top-level domain says it (``.tn``, ``.com.eg``); a short list in
``data/outlets.tsv`` names national outlets on generic domains. Pan-Arab and
international outlets (Al Arabiya, BBC Arabic, France 24, ...) have none, so no
country is favoured for them.
"""
from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from akhbar.lib.geo.gazetteer import data_file

# Country-code TLDs sold as generic ones: they say nothing about where an outlet is.
_GENERIC_CCTLDS = frozenset({"tv", "fm", "io", "me", "co", "ai", "am", "ws", "cc", "to"})


@lru_cache(maxsize=1)
def _outlets() -> dict[str, str]:
    table = {}
    for raw in data_file("outlets.tsv").read_text(encoding="utf-8").splitlines():
        if raw.strip() and not raw.startswith("#"):
            domain, country = raw.split("\t")[:2]
            table[domain.strip().lower()] = country.strip().upper()
    return table


def home_country(url: str | None) -> str | None:
    """ISO 3166-1 alpha-2 home country of the outlet at ``url``, or None when it has none or is unknown."""
    if not url:
        return None
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return None
    if not host:
        return None
    labels = host.split(".")
    table = _outlets()
    for i in range(len(labels) - 1):
        country = table.get(".".join(labels[i:]))
        if country:
            return country
    tld = labels[-1]
    if len(tld) == 2 and tld.isalpha() and tld not in _GENERIC_CCTLDS:
        return "GB" if tld == "uk" else tld.upper()
    return None
