"""Invariants of the bundled demo corpus (sample/corpus.jsonl, sample/late.jsonl).

The corpus is original fictional Arabic news written for akhbar's demo server
and end-to-end tests; these checks keep it usable as test data when edited.
"""
import json
import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample"
CORPUS = SAMPLE_DIR / "corpus.jsonl"
LATE = SAMPLE_DIR / "late.jsonl"

OUTLETS = {"wasat", "anba", "sahil"}
TAXONOMY = {
    "DIPLOMACY", "STATEMENT", "AID_COOPERATION", "MILITARY_POSTURE", "SANCTIONS",
    "PROTEST", "ARREST_LEGAL", "ARMED_CONFLICT", "POLITICS_GOVERNANCE",
    "DISASTER_ACCIDENT", "ECONOMY", "OTHER",
}
FIELDS = {
    "id": str, "outlet": str, "published": str, "title": str, "summary": str,
    "body": list, "event_types": list, "primary": str,
}
ORIGINALS_PER_OUTLET = 22
N_REPUBLICATIONS = 8
MIN_PRIMARY_PER_CODE = 4
MIN_WORDS, MAX_WORDS = 120, 400
MIN_PARAS, MAX_PARAS = 3, 7
MIN_ARABIC_LETTER_SHARE = 0.60
FIRST_DAY, LAST_DAY = "2026-11-22", "2026-11-27"

TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
ID_RE = re.compile(r"^(wasat|anba|sahil)-\d{3}$")
LATE_ID_RE = re.compile(r"^(wasat|anba)-late-\d+$")
TASHKEEL_RE = re.compile("[\u064B-\u0652]")
TATWEEL = "\u0640"
EASTERN_DIGIT_RE = re.compile("[\u0660-\u0669]")
WESTERN_DIGIT_RE = re.compile("[0-9]")
LATIN_ACRONYM_RE = re.compile(r"\b[A-Z]{2,}\+?")
SENTENCE_SPLIT_RE = re.compile(r"(?<=[.!?\u061F])\s+")
BOILERPLATE = ("شاهد أيضا", "شاهد أيضاً", "اقرأ أيضا", "اقرأ أيضاً", "أخبار ذات صلة",
               "تعليقات", "الصفحة الرئيسية")


def _load(path):
    assert path.exists(), f"missing file {path}"
    items = []
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            assert line.strip(), f"{path.name}:{lineno}: blank line"
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as e:
                pytest.fail(f"{path.name}:{lineno}: invalid JSON: {e}")
    return items


def _ts(value):
    assert TS_RE.match(value), f"published {value!r} is not UTC ISO 8601 'YYYY-MM-DDTHH:MM:SSZ'"
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def _words(item):
    return sum(len(p.split()) for p in item["body"])


def _sentences(item):
    return {s.strip() for p in item["body"] for s in SENTENCE_SPLIT_RE.split(p) if s.strip()}


def _texts(item):
    return [item["title"], item["summary"], *item["body"]]


def _arabic_share(text):
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum("\u0600" <= c <= "\u06FF" for c in letters) / len(letters)


@pytest.fixture(scope="module")
def corpus():
    return _load(CORPUS)


@pytest.fixture(scope="module")
def late():
    return _load(LATE)


@pytest.fixture(scope="module")
def originals(corpus):
    return [a for a in corpus if a["republished_from"] is None]


@pytest.fixture(scope="module")
def republications(corpus):
    return [a for a in corpus if a["republished_from"] is not None]


def _check_item_shape(a, where):
    for field, typ in FIELDS.items():
        assert field in a, f"{where}: missing field {field!r}"
        assert isinstance(a[field], typ), f"{where}: {field!r} should be {typ.__name__}, got {type(a[field]).__name__}"
    assert "republished_from" in a, f"{where}: missing field 'republished_from'"
    assert a["republished_from"] is None or isinstance(a["republished_from"], str), \
        f"{where}: republished_from must be null or a string"
    extra = set(a) - set(FIELDS) - {"republished_from"}
    assert not extra, f"{where}: unexpected fields {sorted(extra)}"
    assert a["outlet"] in OUTLETS, f"{where}: unknown outlet {a['outlet']!r}"
    assert a["title"].strip() and a["summary"].strip(), f"{where}: empty title or summary"
    assert MIN_PARAS <= len(a["body"]) <= MAX_PARAS, \
        f"{where}: body has {len(a['body'])} paragraphs, expected {MIN_PARAS}-{MAX_PARAS}"
    for i, p in enumerate(a["body"]):
        assert isinstance(p, str) and p.strip(), f"{where}: body[{i}] must be a non-empty string"
    assert a["event_types"], f"{where}: event_types is empty"
    assert all(isinstance(c, str) for c in a["event_types"]), f"{where}: event_types must be strings"
    _ts(a["published"])


def test_fields_and_types(corpus):
    for i, a in enumerate(corpus, 1):
        _check_item_shape(a, f"corpus.jsonl:{i} ({a.get('id')})")


def test_ids_unique_and_well_formed(corpus):
    ids = [a["id"] for a in corpus]
    dupes = [k for k, n in Counter(ids).items() if n > 1]
    assert not dupes, f"duplicate ids: {dupes}"
    for a in corpus:
        assert ID_RE.match(a["id"]), f"id {a['id']!r} does not match <outlet>-NNN"
        assert a["id"].split("-")[0] == a["outlet"], f"{a['id']}: id prefix differs from outlet {a['outlet']!r}"


def test_outlets_have_22_originals_each(originals):
    counts = Counter(a["outlet"] for a in originals)
    assert set(counts) == OUTLETS, f"outlets with originals: {sorted(counts)}"
    for outlet in sorted(OUTLETS):
        assert counts[outlet] == ORIGINALS_PER_OUTLET, \
            f"{outlet}: {counts[outlet]} originals, expected {ORIGINALS_PER_OUTLET}"


def test_republications(corpus, republications):
    by_id = {a["id"]: a for a in corpus}
    assert len(republications) == N_REPUBLICATIONS, \
        f"{len(republications)} republications, expected {N_REPUBLICATIONS}"
    verbatim, edited = [], []
    for r in republications:
        src = by_id.get(r["republished_from"])
        assert src is not None, f"{r['id']}: republished_from {r['republished_from']!r} not in corpus"
        assert src["outlet"] == "anba", f"{r['id']}: republishes {src['id']}, which is not an anba story"
        assert src["republished_from"] is None, f"{r['id']}: source {src['id']} is itself a republication"
        assert r["outlet"] in {"wasat", "sahil"}, f"{r['id']}: only wasat/sahil republish wire copy"
        delay = _ts(r["published"]) - _ts(src["published"])
        assert timedelta(hours=1) <= delay <= timedelta(hours=6), \
            f"{r['id']}: published {delay} after {src['id']}, expected 1-6 hours later"
        assert r["event_types"] == src["event_types"] and r["primary"] == src["primary"], \
            f"{r['id']}: labels differ from {src['id']}"
        if r["body"] == src["body"]:
            verbatim.append(r["id"])
        else:
            edited.append(r["id"])
            assert r["title"] != src["title"], f"{r['id']}: edited republication should have a new headline"
            orig = _sentences(src)
            shared = len(orig & _sentences(r)) / len(orig)
            assert shared >= 0.5, f"{r['id']}: shares only {shared:.0%} of the sentences of {src['id']}"
    assert len(verbatim) == 4, f"verbatim republications: {verbatim}"
    assert len(edited) == 4, f"edited republications: {edited}"
    sources = [r["republished_from"] for r in republications]
    assert len(set(sources)) == len(sources), "an anba story is republished more than once"


def test_published_is_utc_and_spread_over_days(corpus):
    days = Counter()
    for a in corpus:
        ts = _ts(a["published"])
        day = ts.date().isoformat()
        assert FIRST_DAY <= day <= LAST_DAY, f"{a['id']}: published {day} outside {FIRST_DAY}..{LAST_DAY}"
        days[day] += 1
    assert len(days) == 6, f"expected articles on 6 distinct days, got {sorted(days)}"
    assert min(days.values()) >= 5, f"some day has too few articles: {dict(days)}"


def test_event_types_from_taxonomy(corpus):
    for a in corpus:
        codes = a["event_types"]
        unknown = set(codes) - TAXONOMY
        assert not unknown, f"{a['id']}: unknown codes {sorted(unknown)}"
        assert len(set(codes)) == len(codes), f"{a['id']}: duplicate codes {codes}"
        assert a["primary"] in codes, f"{a['id']}: primary {a['primary']!r} not in event_types {codes}"
        if "OTHER" in codes:
            assert codes == ["OTHER"], f"{a['id']}: OTHER combined with other codes {codes}"


def test_every_code_is_primary_at_least_4_times(originals):
    counts = Counter(a["primary"] for a in originals)
    low = {c: counts[c] for c in sorted(TAXONOMY) if counts[c] < MIN_PRIMARY_PER_CODE}
    assert not low, f"codes that are primary fewer than {MIN_PRIMARY_PER_CODE} times among originals: {low}"


def test_some_articles_are_multi_label(originals):
    multi = [a["id"] for a in originals if len(a["event_types"]) > 1]
    assert len(multi) >= 10, f"only {len(multi)} multi-label originals: {multi}"


def test_text_is_mostly_arabic(corpus):
    for a in corpus:
        for i, text in enumerate(_texts(a)):
            share = _arabic_share(text)
            assert share >= MIN_ARABIC_LETTER_SHARE, \
                f"{a['id']} text #{i}: only {share:.0%} Arabic letters: {text[:60]!r}"


def test_word_counts(corpus):
    for a in corpus:
        n = _words(a)
        assert MIN_WORDS <= n <= MAX_WORDS, f"{a['id']}: body has {n} words, expected {MIN_WORDS}-{MAX_WORDS}"


def test_summary_is_one_sentence(corpus):
    for a in corpus:
        parts = [s for s in SENTENCE_SPLIT_RE.split(a["summary"].strip()) if s]
        assert len(parts) == 1, f"{a['id']}: summary has {len(parts)} sentences"


def test_body_has_no_page_boilerplate(corpus, late):
    for a in corpus + late:
        for p in a["body"]:
            for marker in BOILERPLATE:
                assert marker not in p, f"{a['id']}: body contains boilerplate {marker!r}"


def test_arabic_edge_cases(originals):
    def joined(a):
        return " ".join(_texts(a))

    def vocalised(word):  # a word carrying several tashkeel marks, e.g. "يُؤَكِّدَانِ"
        return len(TASHKEEL_RE.findall(word)) >= 3

    diacritised = [a["id"] for a in originals if any(vocalised(w) for w in joined(a).split())]
    assert len(diacritised) >= 5, f"only {len(diacritised)} articles with vocalised words: {diacritised}"
    tatweel = [a["id"] for a in originals if TATWEEL in joined(a)]
    assert len(tatweel) >= 3, f"only {len(tatweel)} articles with tatweel: {tatweel}"
    eastern = [a["id"] for a in originals if EASTERN_DIGIT_RE.search(joined(a))]
    western = [a["id"] for a in originals if WESTERN_DIGIT_RE.search(joined(a))]
    assert len(eastern) >= 5, f"only {len(eastern)} articles with Eastern Arabic digits"
    assert len(western) >= 5, f"only {len(western)} articles with Western digits"
    latin = [a["id"] for a in originals if LATIN_ACRONYM_RE.search(joined(a))]
    assert len(latin) >= 3, f"only {len(latin)} articles with Latin acronyms: {latin}"


def test_late_items(corpus, late):
    assert len(late) == 4, f"late.jsonl has {len(late)} items, expected 4"
    corpus_ids = {a["id"] for a in corpus}
    late_ids = [a["id"] for a in late]
    assert len(set(late_ids)) == len(late_ids), f"duplicate ids in late.jsonl: {late_ids}"
    for i, a in enumerate(late, 1):
        where = f"late.jsonl:{i} ({a.get('id')})"
        _check_item_shape(a, where)
        assert LATE_ID_RE.match(a["id"]), f"{where}: id should look like <outlet>-late-N"
        assert a["id"] not in corpus_ids, f"{where}: id already used in corpus.jsonl"
        assert a["id"].split("-")[0] == a["outlet"] in {"wasat", "anba"}, f"{where}: outlet must be wasat or anba"
        assert a["republished_from"] is None, f"{where}: late items are originals"
        assert _ts(a["published"]).date().isoformat() == "2026-11-28", f"{where}: published should be on 2026-11-28"
        assert set(a["event_types"]) <= TAXONOMY and a["primary"] in a["event_types"], f"{where}: bad labels"
        if "OTHER" in a["event_types"]:
            assert a["event_types"] == ["OTHER"], f"{where}: OTHER combined with other codes"
        assert MIN_WORDS <= _words(a) <= MAX_WORDS, f"{where}: {_words(a)} words"
        for text in _texts(a):
            assert _arabic_share(text) >= MIN_ARABIC_LETTER_SHARE, f"{where}: not mostly Arabic: {text[:60]!r}"
