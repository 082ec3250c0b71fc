"""Charset decoding and Arabic mojibake repair (akhbar.lib.web.charset)."""

from __future__ import annotations

import ast
import codecs
import re

import feedparser
import pytest

from akhbar.lib.web.charset import (
    arabic_fit,
    decode_bytes,
    encoding_alias,
    looks_like_arabic_mojibake,
    repair_mojibake,
)
from tests.shared_data import shared_data

# Our own sentences; the second has no 'ف' or short vowels, whose UTF-8 bytes
# (0x81, 0x8F, 0x90) cp1252 cannot decode, so it exercises the cp1252 path.
ARABIC = "قالت وزارة الصحة في بيان إن حملة التلقيح ستنطلق الأسبوع المقبل، وسط إقبال كبير."
ARABIC_NO_F = "الرئيس يستقبل وزير الخارجية بقصر قرطاج لبحث تعزيز العلاقات الثنائية."
FRENCH = "L'élève a réussi son examen à Paris ; « Ça va », dit-il — où est l'hôtel ? 5 €"
GERMAN = "Die Straße in München ist schön, sagte der Bürgermeister. Ärger über Öl."
ENGLISH = "The president met the foreign minister on Tuesday."

ARABIC_LETTER = re.compile("[\u0621-\u064a]")

CHARDET_FILES = {
    "chardet_iso-8859-6__chromium_ISO-8859-6_with_no_encoding_specified.html": "iso-8859-6",
    "chardet_windows-1256__chromium_windows-1256_with_no_encoding_specified.html": "windows-1256",
    "chardet_windows-1256__ude_1.txt": "windows-1256",
    "chardet_windows-1256_culturax_OSCAR-2109_98639.txt": "windows-1256",
    "chardet_windows-1256_culturax_mC4_98635.txt": "windows-1256",
    "chardet_windows-1256_culturax_mC4_98641.txt": "windows-1256",
}
FEED_FILES = [
    "feedparser_x80_cp1256.xml",
    "feedparser_x80_cp864.xml",
    "feedparser_x80_ms-arab.xml",
    "feedparser_x80_windows-1256.xml",
    "feedparser_x80_windows_1256.xml",
]


def arabic_share(text: str) -> float:
    letters = [ch for ch in text if ch.isalpha()]
    return sum(bool(ARABIC_LETTER.match(ch)) for ch in letters) / max(len(letters), 1)


# --- legacy-encoded real text ---------------------------------------------------


@pytest.mark.parametrize("name,charset", sorted(CHARDET_FILES.items()))
def test_undeclared_legacy_arabic_decodes(name: str, charset: str) -> None:
    body = shared_data("html", name).read_bytes()
    text, used = decode_bytes(body)
    assert used == encoding_alias(charset)
    assert text == body.decode(charset)
    assert "\ufffd" not in text
    assert arabic_share(text) > 0.5
    assert not looks_like_arabic_mojibake(text)


# --- wrong declarations ---------------------------------------------------------


@pytest.mark.parametrize("sentence", [ARABIC, ARABIC_NO_F])
def test_wrong_latin1_header_over_cp1256(sentence: str) -> None:
    text, used = decode_bytes(sentence.encode("cp1256"), declared="iso-8859-1")
    assert text == sentence
    assert used == "cp1256"


@pytest.mark.parametrize("sentence", [ARABIC, ARABIC_NO_F])
def test_wrong_latin1_header_over_utf8(sentence: str) -> None:
    text, used = decode_bytes(sentence.encode("utf-8"), declared="ISO-8859-1")
    assert text == sentence
    assert used == "utf-8"


def test_prolog_windows_1256_over_utf8_is_repaired() -> None:
    body = f'<?xml version="1.0" encoding="windows-1256"?>\n<rss><title>{ARABIC}</title></rss>'
    text, used = decode_bytes(body.encode("utf-8"))
    assert f"<title>{ARABIC}</title>" in text
    assert used == "utf-8"


def test_double_encoded_utf8_is_repaired_in_place() -> None:
    # Mojibake saved as UTF-8: the bytes are valid UTF-8, only the text can be fixed.
    body = ARABIC.encode("utf-8").decode("latin-1").encode("utf-8")
    assert decode_bytes(body) == (ARABIC, "utf-8+repaired:latin-1>utf-8")


def test_meta_charset_honoured() -> None:
    page = f'<html><head><meta charset="windows-1256"></head><body><p>{ARABIC}</p></body></html>'
    text, used = decode_bytes(page.encode("cp1256"))
    assert ARABIC in text
    assert used == "cp1256"


def test_meta_charset_over_utf8_is_repaired() -> None:
    page = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1256">'
        f"</head><body><p>{ARABIC}</p></body></html>"
    )
    text, used = decode_bytes(page.encode("utf-8"))
    assert ARABIC in text
    assert used == "utf-8"


def test_correct_declaration_wins() -> None:
    assert decode_bytes(ARABIC.encode("cp1256"), declared="windows-1256") == (ARABIC, "cp1256")
    assert decode_bytes(ARABIC.encode("utf-8"), declared="utf-8") == (ARABIC, "utf-8")


def test_undecodable_declaration_falls_through() -> None:
    # UTF-8 Arabic is not valid under a declared 'ascii'.
    assert decode_bytes(ARABIC.encode("utf-8"), declared="us-ascii") == (ARABIC, "utf-8")


def test_unknown_declaration_is_ignored() -> None:
    assert decode_bytes(ARABIC.encode("utf-8"), declared="x-no-such-charset") == (ARABIC, "utf-8")


@pytest.mark.parametrize(
    "body,encoding",
    [
        (codecs.BOM_UTF8 + ARABIC.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF16_LE + ARABIC.encode("utf-16-le"), "utf-16"),
        (codecs.BOM_UTF16_BE + ARABIC.encode("utf-16-be"), "utf-16"),
    ],
)
def test_bom_wins_over_declaration(body: bytes, encoding: str) -> None:
    assert decode_bytes(body, declared="windows-1256") == (ARABIC, encoding)


def test_empty_and_ascii() -> None:
    assert decode_bytes(b"") == ("", "utf-8")
    assert decode_bytes(ENGLISH.encode()) == (ENGLISH, "utf-8")


def test_rejects_str() -> None:
    with pytest.raises(TypeError, match="str"):
        decode_bytes(ARABIC)  # type: ignore[arg-type]


# --- Latin text stays untouched -------------------------------------------------


@pytest.mark.parametrize("sentence", [FRENCH, GERMAN, ENGLISH])
def test_latin_text_untouched(sentence: str) -> None:
    assert repair_mojibake(sentence) == (sentence, False)
    assert not looks_like_arabic_mojibake(sentence)
    assert decode_bytes(sentence.encode("utf-8"))[0] == sentence
    assert decode_bytes(sentence.encode("cp1252"), declared="iso-8859-1") == (sentence, "cp1252")
    assert decode_bytes(sentence.encode("cp1252"), declared="windows-1252") == (sentence, "cp1252")


def test_latin_words_next_to_arabic_untouched() -> None:
    mixed = f"{ARABIC} (AFP) — Ça, À Paris, Straße."
    assert repair_mojibake(mixed) == (mixed, False)


# --- repair_mojibake ------------------------------------------------------------


@pytest.mark.parametrize(
    "garbled,expected",
    [
        ("ÇáÑÆíÓ", "الرئيس"),
        ("Ø§Ù„", "ال"),
        (ARABIC.encode("utf-8").decode("latin-1"), ARABIC),
        (ARABIC_NO_F.encode("utf-8").decode("cp1252"), ARABIC_NO_F),
        (ARABIC.encode("cp1256").decode("latin-1"), ARABIC),
        (ARABIC.encode("cp1256").decode("cp1252"), ARABIC),
        (ARABIC.encode("utf-8").decode("cp1256"), ARABIC),
    ],
)
def test_repair_mojibake(garbled: str, expected: str) -> None:
    assert looks_like_arabic_mojibake(garbled)
    assert repair_mojibake(garbled) == (expected, True)


def test_repair_keeps_genuine_arabic_and_markup() -> None:
    garbled = ARABIC_NO_F.encode("utf-8").decode("latin-1")
    text = f"<item><title>{ARABIC}</title><description>{garbled}</description></item>"
    repaired, changed = repair_mojibake(text)
    assert changed
    assert repaired == f"<item><title>{ARABIC}</title><description>{ARABIC_NO_F}</description></item>"


def test_genuine_arabic_is_not_mojibake() -> None:
    assert repair_mojibake(ARABIC) == (ARABIC, False)
    assert repair_mojibake("«" + ARABIC + "»") == ("«" + ARABIC + "»", False)


def test_lossy_words_are_left_alone() -> None:
    # cp1252 with errors="replace" loses the second byte of 'ف' ('في' -> 'Ù\ufffdÙŠ'):
    # that word cannot be repaired and stays as it was; the others are repaired.
    lossy = ARABIC.encode("utf-8").decode("cp1252", errors="replace")
    repaired, changed = repair_mojibake(lossy)
    assert changed
    assert repaired == ARABIC.replace("في", "في".encode().decode("cp1252", errors="replace"))


# --- encoding_alias -------------------------------------------------------------


@pytest.mark.parametrize(
    "label,expected",
    [
        ("cp1256", "cp1256"),
        ("windows-1256", "cp1256"),
        ("windows_1256", "cp1256"),
        ("WINDOWS-1256", "cp1256"),
        (" 'windows-1256' ", "cp1256"),
        ("ms-arab", "cp1256"),
        ("iso-8859-6", "iso8859-6"),
        ("ISO_8859-6", "iso8859-6"),
        ("arabic", "iso8859-6"),
        ("asmo-708", "iso8859-6"),
        ("x-mac-arabic", "mac-arabic"),
        ("cp864", "cp864"),
        ("utf8", "utf-8"),
        ("latin1", "iso8859-1"),
    ],
)
def test_encoding_alias(label: str, expected: str) -> None:
    assert encoding_alias(label) == expected


@pytest.mark.parametrize("label", ["", "x-no-such-charset", "rot13", "base64", "unicode_escape", "utf-7"])
def test_encoding_alias_rejects(label: str) -> None:
    assert encoding_alias(label) is None


# --- feedparser x80 feeds -------------------------------------------------------


def _feed_header(body: bytes) -> tuple[str, str, str]:
    """(declared encoding, codec the SkipUnless line looks up, expected title)."""
    head = body.decode("ascii", errors="replace")
    declared = re.search(r'encoding="([^"]+)"', head)
    skip_unless = re.search(r"SkipUnless:.*lookup\('([^']+)'\)", head)
    expect = re.search(r"Expect:\s*not bozo and feed\['title'\] == ('[^']*')", head)
    assert declared and skip_unless and expect, f"unexpected feed header: {head[:300]!r}"
    return declared.group(1), skip_unless.group(1), ast.literal_eval(expect.group(1))


@pytest.mark.parametrize("name", FEED_FILES)
def test_feed_declared_encoding_alias(name: str) -> None:
    declared, _, title = _feed_header(shared_data("feeds", name).read_bytes())
    alias = encoding_alias(declared)
    assert alias is not None, f"no codec for {declared!r}"
    assert b"\x80".decode(alias) == title


@pytest.mark.parametrize("name", FEED_FILES)
def test_feedparser_title_from_declared_encoding(name: str) -> None:
    body = shared_data("feeds", name).read_bytes()
    declared, lookup_name, title = _feed_header(body)
    try:
        codecs.lookup(lookup_name)
    except LookupError:
        # Python lacks the label (ms-arab), so feedparser falls back to cp1252 with
        # bozo set. Passing our canonical name as the HTTP charset fixes it.
        parsed = feedparser.parse(body)
        assert parsed.bozo
        charset = encoding_alias(declared)
        parsed = feedparser.parse(
            body, response_headers={"content-type": f"application/atom+xml; charset={charset}"}
        )
    else:
        parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed["title"] == title


def _rss(encoding: str, title: str) -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        f'<rss version="2.0"><channel><title>{title}</title>'
        f"<item><title>{title}</title></item></channel></rss>"
    )


def test_feedparser_wrong_http_charset_mojibake_is_repaired() -> None:
    body = _rss("windows-1256", ARABIC).encode("cp1256")
    parsed = feedparser.parse(
        body, response_headers={"content-type": "application/rss+xml; charset=iso-8859-1"}
    )
    assert not parsed.bozo  # the silent failure the spec warns about
    title = parsed.entries[0].title
    assert title != ARABIC and looks_like_arabic_mojibake(title)
    assert repair_mojibake(title) == (ARABIC, True)


def test_feedparser_prolog_1256_over_utf8_is_repaired() -> None:
    parsed = feedparser.parse(_rss("windows-1256", ARABIC).encode("utf-8"))
    title = parsed.entries[0].title
    assert title != ARABIC and looks_like_arabic_mojibake(title)
    assert repair_mojibake(title) == (ARABIC, True)


# --- Arabic bytes behind a wrong or missing label: pages ---------------------------

PAGE_PARAGRAPH = "أعلنت وزارة الصحة اليوم عن حملة وطنية للتلقيح تبدأ الأسبوع المقبل في جميع المحافظات."
PAGE_METAS = [None, "utf-8", "iso-8859-6", "iso-8859-1"]
PAGE_HEADERS = [None, "text/html", "text/html; charset=iso-8859-6", "text/html; charset=iso-8859-1"]


def _page(encoding: str, meta: str | None) -> bytes:
    head = f'<meta charset="{meta}">' if meta else ""
    return (
        f"<!DOCTYPE html><html lang=ar><head>{head}<title>وزارة الصحة</title></head>"
        f"<body><article><h1>حملة تلقيح</h1><p>{PAGE_PARAGRAPH}</p></article></body></html>"
    ).encode(encoding)


def _charset(content_type: str | None) -> str | None:
    return content_type.split("charset=")[1] if content_type and "charset=" in content_type else None


@pytest.mark.parametrize("encoding", ["iso-8859-6", "windows-1256", "utf-8"])
@pytest.mark.parametrize("meta", PAGE_METAS, ids=lambda m: f"meta={m}")
@pytest.mark.parametrize("header", PAGE_HEADERS, ids=lambda h: f"ct={h}")
def test_arabic_page_reads_right_whatever_the_labels_say(encoding, meta, header):
    text, used = decode_bytes(_page(encoding, meta), _charset(header))
    assert PAGE_PARAGRAPH in text, used
    assert used == encoding_alias(encoding)


def test_one_invalid_byte_in_utf8_replaces_that_byte_only() -> None:
    body = ARABIC.encode("utf-8") + b"\xff" + ARABIC_NO_F.encode("utf-8")
    assert decode_bytes(body) == (ARABIC + "\ufffd" + ARABIC_NO_F, "utf-8")
    assert decode_bytes(body, declared="utf-8") == (ARABIC + "\ufffd" + ARABIC_NO_F, "utf-8")
    # ...also under a wrong label that decodes "cleanly" into mojibake.
    assert decode_bytes(body, declared="windows-1256") == (ARABIC + "\ufffd" + ARABIC_NO_F, "utf-8")


def test_latin1_text_is_not_mostly_utf8() -> None:
    text, used = decode_bytes(FRENCH.encode("cp1252"))
    assert used != "utf-8" and "\ufffd" not in text


def test_windows_1256_read_as_iso_8859_6_is_told_apart_by_letter_frequencies() -> None:
    # No ghain, tatweel, feh, qaf or kaf: these windows-1256 bytes also decode as ISO-8859-6, into other letters.
    sentence = "وزير الداخلية يزور مدينة حمص"
    body = sentence.encode("cp1256")
    assert body.decode("iso-8859-6") != sentence
    assert decode_bytes(body, declared="iso-8859-6") == (sentence, "cp1256")


def test_arabic_fit_scores_real_arabic_above_wrong_readings() -> None:
    assert arabic_fit(ARABIC).is_arabic
    assert not arabic_fit(ARABIC.encode("iso-8859-6").decode("cp1256")).is_arabic  # Latin letters among the Arabic
    assert not arabic_fit(ENGLISH).is_arabic
    assert not arabic_fit(FRENCH).is_arabic


# Non-Arabic text in the legacy encodings of its language (our own sentences).
NON_ARABIC = {
    "fr": ("Les députés ont adopté mercredi le projet de loi sur l'énergie; l'élève a réussi à Paris.", ["cp1252"]),
    "de": ("Die Straße in München ist schön, sagte der Bürgermeister. Ärger über Öl und Größe.", ["cp1252"]),
    "pl": ("Rząd przyjął w środę projekt ustawy o energii, a posłowie zagłosują w piątek.", ["iso-8859-2", "cp1250"]),
    "ru": ("Правительство одобрило в среду законопроект об энергетике, депутаты проголосуют в пятницу.",
           ["cp1251", "koi8-r", "iso-8859-5"]),
    "el": ("Η κυβέρνηση ενέκρινε την Τετάρτη το νομοσχέδιο για την ενέργεια.", ["iso-8859-7", "cp1253"]),
    "he": ("הממשלה אישרה ביום רביעי את הצעת החוק בנושא אנרגיה.", ["cp1255", "iso-8859-8"]),
    "tr": ("Hükümet çarşamba günü enerji yasa tasarısını onayladı, milletvekilleri cuma günü oylayacak.",
           ["cp1254", "iso-8859-9"]),
}


@pytest.mark.parametrize("lang", sorted(NON_ARABIC))
@pytest.mark.parametrize("label", ["right", "iso-8859-1", None])
def test_non_arabic_legacy_text_is_never_turned_into_arabic(lang: str, label: str | None) -> None:
    sentence, encodings = NON_ARABIC[lang]
    for encoding in encodings:
        body = f"<html><body><p>{sentence}</p></body></html>".encode(encoding)
        text, used = decode_bytes(body, encoding if label == "right" else label)
        assert used not in ("cp1256", "iso8859-6") and "repaired" not in used, (encoding, used, text)
        if label == "right":
            assert sentence in text


def test_utf8_nbsp_under_a_latin1_label_is_not_read_as_arabic() -> None:
    # 'Â\xa0' (a UTF-8 no-break space read as windows-1252) would read as 'آ' in windows-1256.
    page = "<p>Copyright\u00a0\u00a0© 2024 \u2013 all rights\u00a0reserved</p>".encode()
    text, used = decode_bytes(page, declared="iso-8859-1")
    assert used not in ("cp1256", "iso8859-6") and "repaired:latin-1>cp1256" not in used
    assert "\u0622" not in text
