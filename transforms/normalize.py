"""Normalized forms used as keys: Arabic text keys and canonical URLs.

The output always keeps the original text; these forms only decide identity
(dedup keys, ``article_id``, ``text_hash``), so that the same story written
with or without tashkeel, tatweel or hamza variants gets one key.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

# Harakat, tanween, shadda, sukun, superscript alef, Quranic annotation marks.
_TASHKEEL = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed]")
_TATWEEL = "\u0640"
_LETTER_MAP = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        "ؤ": "و",
        "ئ": "ي",
        # Arabic-Indic and Eastern Arabic-Indic digits to ASCII.
        **{chr(0x0660 + i): str(i) for i in range(10)},
        **{chr(0x06F0 + i): str(i) for i in range(10)},
    }
)
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_SPACES = re.compile(r"\s+")
_ARABIC_LETTER = re.compile("[\u0621-\u064a\u0671-\u06d3\u06fa-\u06ff]")
_ANY_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


def normalize_arabic(text: str) -> str:
    """NFKC, no tashkeel or tatweel, unified alef/ya/ta marbuta/hamza seats, digits as ASCII."""
    text = unicodedata.normalize("NFKC", text)
    text = _TASHKEEL.sub("", text).replace(_TATWEEL, "")
    return text.translate(_LETTER_MAP)


def text_key(text: str) -> str:
    """The normalized text reduced to lower-case words, so punctuation and spacing do not matter."""
    words = _NON_WORD.sub(" ", normalize_arabic(text).lower())
    return _SPACES.sub(" ", words).strip()


def text_hash(text: str) -> str:
    """Hash of ``text_key``: equal for texts that differ only in marks, spacing or punctuation."""
    return hashlib.sha256(text_key(text).encode("utf-8")).hexdigest()[:32]


def arabic_ratio(text: str) -> float:
    """Share of letters that are Arabic letters (0.0 for text with no letters)."""
    letters = _ANY_LETTER.findall(text)
    if not letters:
        return 0.0
    return len(_ARABIC_LETTER.findall(text)) / len(letters)


def detect_language(text: str, threshold: float = 0.5) -> str:
    """'ar' when most letters are Arabic, else 'other': enough to route non-Arabic feeds."""
    return "ar" if arabic_ratio(text) >= threshold else "other"


# Query parameters that only track the click, never select content.
_TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid", "_ga", "_gl",
        "ref", "ref_src", "ref_url", "referrer", "cmpid", "ocid", "spm", "share", "from", "at_medium",
        "at_campaign", "ito", "xtor", "ncid", "sr_share", "s_cid", "amp", "outputtype",
    }
)
_TRACKING_PREFIXES = ("utm_", "at_", "pk_", "mtm_", "hsa_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


def _is_tracking(name: str) -> bool:
    name = name.lower()
    return name in _TRACKING_PARAMS or name.startswith(_TRACKING_PREFIXES)


def _strip_amp_path(path: str) -> str:
    """AMP variants of a page: /amp/x, /x/amp, /x/amp/, /x.amp.html, /x.amp."""
    segments = [s for s in path.split("/")]
    segments = [s for i, s in enumerate(segments) if not (s.lower() == "amp" and i > 0)]
    path = "/".join(segments)
    path = re.sub(r"\.amp(\.html?)?$", lambda m: m.group(1) or "", path, flags=re.IGNORECASE)
    return path or "/"


def canonical_url(url: str) -> str:
    """One spelling per article URL.

    Lower-cases scheme and host, drops ``www.``/``amp.`` host prefixes, default
    ports, fragments, tracking parameters and AMP variants, sorts the query,
    normalizes percent-encoding (so raw and encoded Arabic paths agree) and
    drops the trailing slash. http and https stay apart: merging them is
    the reader's choice, not ours.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    for prefix in ("www.", "amp."):
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix) :]
    port = parts.port
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    path = quote(unquote(parts.path), safe=_PATH_SAFE)
    path = _strip_amp_path(path)
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    if not path:
        path = "/"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query), doseq=True), ""))


def article_id(canonical: str) -> str:
    """Stable id of an article: a hash of its canonical URL, the same on every runner and rerun."""
    return hashlib.sha1(canonical.encode("utf-8")).hexdigest()[:20]
