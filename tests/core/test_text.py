"""akhbar.core.text, the one home of the Arabic text rules: each rule pinned, then properties.

Extraction, exact dedup (text_hash), near-dup stems and NER features all fold text through
these functions, so a change here changes keys everywhere: these tests make it deliberate.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from akhbar.core import text
from akhbar.core.text import (
    ARABIC_LETTER,
    PROCLITICS,
    arabic_ratio,
    detect_language,
    normalize_arabic,
    proclitic_stems,
    strip_proclitic,
    text_hash,
    text_key,
)
from tests.paths import REPO_ROOT

# -- normalize_arabic, rule by rule ---------------------------------------------------


@pytest.mark.parametrize("written,folded", [
    ("أحمد", "احمد"),  # alef with hamza above
    ("إسلام", "اسلام"),  # alef with hamza below
    ("آمنة", "امنه"),  # alef with madda (and ta marbuta)
    ("ٱلله", "الله"),  # alef wasla
    ("مؤتمر", "موتمر"),  # hamza on waw
    ("رئيس", "رييس"),  # hamza on ya
    ("مستشفى", "مستشفي"),  # alef maqsura
    ("مدرسة", "مدرسه"),  # ta marbuta
    ("سماء", "سماء"),  # a free-standing hamza stays
])
def test_letter_variants_fold_to_one_seat(written, folded):
    assert normalize_arabic(written) == folded


def test_decomposed_hamza_and_madda_fold_like_the_precomposed_letters():
    # NFKC composes alef + madda / hamza marks first; the letter map then folds the result.
    assert normalize_arabic("\u0627\u0653") == normalize_arabic("\u0622") == "ا"
    assert normalize_arabic("\u0627\u0654") == normalize_arabic("\u0623") == "ا"
    assert normalize_arabic("\u064a\u0654") == normalize_arabic("\u0626") == "ي"


@pytest.mark.parametrize("mark", [
    "\u064b", "\u064c", "\u064d",  # tanween
    "\u064e", "\u064f", "\u0650",  # fatha, damma, kasra
    "\u0651", "\u0652",  # shadda, sukun
    "\u0670",  # superscript (dagger) alef
    "\u0610", "\u0615", "\u061a",  # Quranic honorifics and small marks
    "\u06d6", "\u06dc", "\u06df", "\u06e8", "\u06ea", "\u06ed",  # Quranic annotation marks
])
def test_every_tashkeel_mark_is_removed(mark):
    assert normalize_arabic(f"كت{mark}ب") == "كتب"
    assert text.TASHKEEL.fullmatch(mark)


def test_tashkeel_of_a_whole_phrase_and_tatweel():
    assert normalize_arabic("الـمُؤْتَمَرُ") == "الموتمر"
    assert normalize_arabic("بِسْمِ اللَّهِ") == "بسم الله"
    assert normalize_arabic("جـــمـيـل") == "جميل"


@pytest.mark.parametrize("mark", [
    "\u200b", "\u200c", "\u200d",  # zero width space, non-joiner, joiner
    "\u200e", "\u200f", "\u061c",  # LRM, RLM, Arabic letter mark
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",  # embeddings and overrides
    "\u2066", "\u2067", "\u2068", "\u2069",  # isolates
    "\ufeff", "\u00ad",  # BOM / zero-width no-break space, soft hyphen
])
def test_bidi_and_zero_width_marks_are_removed(mark):
    assert normalize_arabic(f"{mark}الخبر{mark} العاجل{mark}") == "الخبر العاجل"


def test_digits_become_ascii():
    assert normalize_arabic("٠١٢٣٤٥٦٧٨٩") == "0123456789"  # Arabic-Indic
    assert normalize_arabic("۰۱۲۳۴۵۶۷۸۹") == "0123456789"  # Eastern Arabic-Indic (Persian, Urdu)
    assert normalize_arabic("عام ٢٠٢٦ و۱۹") == "عام 2026 و19"


def test_presentation_forms_and_ligatures_unfold():
    assert normalize_arabic("\ufefb") == "لا"  # lam-alef ligature
    assert normalize_arabic("\ufdf2") == "الله"  # the Allah ligature
    assert normalize_arabic("\ufe8d\ufedf") == "ال"  # isolated / initial forms


def test_what_normalisation_keeps():
    assert normalize_arabic("Reuters: UN Summit, 2026!") == "Reuters: UN Summit, 2026!"  # case and punctuation
    assert normalize_arabic("قال، ثم سأل؟") == "قال، ثم سال؟"  # Arabic punctuation stays
    assert normalize_arabic("پیام گزارش") == "پیام گزارش"  # Persian letters stay (Farsi yeh U+06CC is not folded)
    assert normalize_arabic("") == ""


# -- text_key and text_hash ------------------------------------------------------------


def test_text_key_is_lower_case_words():
    assert text_key("  قال الرئيسُ:  «الاجتماع   كان مثمراً»! UN-Summit ") == "قال الرييس الاجتماع كان مثمرا un summit"
    assert text_key("...!!!") == ""


def test_text_hash_ignores_marks_spacing_and_punctuation_but_not_words():
    a = "قال الرئيسُ إنّ الاجتماعَ كان مثمراً."
    assert text_hash(a) == text_hash("قال  الرئيس ان الاجتماع كان مثمرا")
    assert text_hash(a) != text_hash("قال الوزير إن الاجتماع كان مثمراً.")
    assert re.fullmatch(r"[0-9a-f]{32}", text_hash(a))


# -- proclitics --------------------------------------------------------------------------


def test_the_proclitic_list_is_normalized_unique_and_longest_first():
    assert len(set(PROCLITICS)) == len(PROCLITICS) == 21
    assert all(normalize_arabic(p) == p for p in PROCLITICS)
    assert [len(p) for p in PROCLITICS] == sorted((len(p) for p in PROCLITICS), reverse=True)
    # Conjunctions و ف, prepositions ب ك ل, the article ال and their combinations.
    assert {"و", "ف", "ب", "ك", "ل", "ال", "وال", "بال", "لل", "وبال", "فبال"} <= set(PROCLITICS)


@pytest.mark.parametrize("word,stem", [
    ("والكتاب", "كتاب"),  # و + ال
    ("بالمدرسه", "مدرسه"),  # ب + ال
    ("وبالتالي", "تالي"),  # و + ب + ال
    ("للرييس", "رييس"),  # ل + ال, the alef elided
    ("الحكومه", "حكومه"),  # the article
    ("وقال", "قال"),  # a conjunction
    ("ولد", "ولد"),  # stripping و would leave 2 letters (< min_stem 3)
])
def test_strip_proclitic_takes_the_longest_prefix_that_leaves_a_stem(word, stem):
    assert strip_proclitic(word) == stem


def test_strip_proclitic_is_a_length_rule_not_a_lexicon():
    # ك is a proclitic string, so كتاب loses its first letter: the rule knows lengths, not words.
    # Near-dup and NER apply it to both sides of a comparison, where it stays consistent.
    assert strip_proclitic("كتاب") == "تاب"
    assert strip_proclitic("كتاب", min_stem=4) == "كتاب"


def test_proclitic_stems_lists_every_strip_longest_first():
    assert proclitic_stems("والكتاب") == ("كتاب", "الكتاب")
    assert proclitic_stems("بالمدرسه") == ("مدرسه", "المدرسه")
    assert proclitic_stems("ولد") == ("لد",)  # min_stem 2 by default
    assert proclitic_stems("ولد", min_stem=3) == ()
    assert proclitic_stems("مدرسه") == ()


# -- letters and language -----------------------------------------------------------------


@pytest.mark.parametrize("char,is_letter", [
    ("ء", True), ("ا", True), ("ي", True), ("ة", True), ("ى", True), ("پ", True), ("گ", True), ("ٱ", True),
    ("\ufefb", True), ("\u0750", True),  # a presentation form, Arabic Supplement
    ("ـ", False), ("\u064b", False), ("\u0670", False),  # tatweel and marks
    ("٠", False), ("۹", False), ("،", False), ("؟", False), ("؛", False),  # digits, punctuation
    ("a", False), ("1", False), (" ", False),
])
def test_arabic_letter(char, is_letter):
    assert bool(ARABIC_LETTER.fullmatch(char)) is is_letter


def test_arabic_ratio_counts_letters_only():
    assert arabic_ratio("") == 0.0
    assert arabic_ratio("123 !؟ ٤٥") == 0.0  # no letters at all
    assert arabic_ratio("كتاب") == 1.0
    assert arabic_ratio("كتاب book") == 0.5
    assert arabic_ratio("كِتَابٌ ٢٠٢٦ book") == 0.5  # marks and digits are not letters
    assert detect_language("كتاب book") == "ar"  # the threshold is inclusive
    assert detect_language("كتاب books") == "other"
    assert detect_language("") == "other"


# -- properties -----------------------------------------------------------------------------

ARABIC_WORDS = st.text(alphabet=st.characters(min_codepoint=0x0621, max_codepoint=0x064A), min_size=1, max_size=8)
MARKS = st.sampled_from(["\u064b", "\u064e", "\u064f", "\u0650", "\u0651", "\u0652", "\u0670", "\u0640"])
INVISIBLE = st.sampled_from(["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u061c", "\u202b", "\u2067", "\ufeff"])
PUNCTUATION = st.sampled_from([" ", "  ", "\n", "، ", ". ", "! ", "؟ ", ": ", " « ", " » ", " - "])
HAMZA_SEATS = {"ا": "أإآ", "ي": "ىئ", "ه": "ة", "و": "ؤ"}


@settings(max_examples=300, deadline=None)
@given(st.text())
@example("e\u200b\u0301")  # removing a mark between a letter and its accent must not change a second pass
@example("e\u0640\u0301")
@example("\ufc5e")
def test_normalize_arabic_is_idempotent(value):
    once = normalize_arabic(value)
    assert normalize_arabic(once) == once


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_text_key_is_idempotent_and_hash_follows_it(value):
    key = text_key(value)
    assert text_key(key) == key
    assert key == key.strip() and "  " not in key
    assert text_hash(value) == text_hash(key)


@st.composite
def decorated(draw):
    """A list of Arabic words, and the same words written with marks, tatweel, invisible marks,
    other punctuation and other hamza seats."""
    words = draw(st.lists(ARABIC_WORDS, min_size=1, max_size=8))
    plain = " ".join(words)
    out = []
    for i, word in enumerate(words):
        if i:
            out.append(draw(PUNCTUATION))
        for ch in word:
            seats = next((v for k, v in HAMZA_SEATS.items() if k == ch), "")
            out.append(draw(st.sampled_from(ch + seats)) if seats else ch)
            if draw(st.booleans()):
                out.append(draw(MARKS))
            if draw(st.integers(0, 9)) == 0:
                out.append(draw(INVISIBLE))
    return plain, "".join(out)


@settings(max_examples=300, deadline=None)
@given(decorated())
def test_text_key_ignores_how_the_words_are_written(pair):
    plain, written = pair
    assert text_key(written) == text_key(plain)
    assert text_hash(written) == text_hash(plain)


@settings(max_examples=200, deadline=None)
@given(st.lists(ARABIC_WORDS, min_size=2, max_size=6, unique_by=normalize_arabic))
def test_text_key_keeps_words_and_their_order(words):
    keys = [text_key(w) for w in words]
    if len(set(keys)) < len(keys) or "" in keys:
        return
    assert text_key(" ".join(words)).split(" ") == keys
    assert text_hash(" ".join(words)) != text_hash(" ".join(reversed(words)))


@settings(max_examples=300, deadline=None)
@given(ARABIC_WORDS, st.integers(1, 4))
def test_a_stripped_stem_is_a_suffix_after_a_listed_proclitic(word, min_stem):
    word = normalize_arabic(word)
    stem = strip_proclitic(word, min_stem=min_stem)
    assert word.endswith(stem)
    if stem != word:
        assert word[: len(word) - len(stem)] in PROCLITICS and len(stem) >= min_stem
        assert stem == proclitic_stems(word, min_stem)[0]


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arabic_ratio_is_a_share(value):
    ratio = arabic_ratio(value)
    assert 0.0 <= ratio <= 1.0
    assert detect_language(value) == ("ar" if ratio >= 0.5 else "other")


# -- one home --------------------------------------------------------------------------------

RULE_MARKERS = {
    "the hamza/alef folding map": re.compile(r"[\"']أ[\"']\s*:|[\"']إ[\"']\s*:"),
    "a tashkeel range": re.compile(r"\\u064[bB]"),
    "the tatweel": re.compile(r"\\u0640|[\"']ـ[\"']"),
    "a proclitic list": re.compile(r"[\"']وال[\"']\s*,|[\"']بال[\"']\s*,"),
    "the Arabic-Indic digits": re.compile(r"0x0660|\\u0660"),
    "the Arabic script blocks": re.compile(r"\\u0600-\\u06ff"),
}


def _python_files():
    for top in ("akhbar", "pipelines", "transforms", "schemas", "sample", "training", "bench", "deploy"):
        for path in (REPO_ROOT / top).rglob("*.py"):
            if "__pycache__" not in path.parts:
                yield path


def test_the_text_rules_are_written_only_in_akhbar_core_text():
    home = (REPO_ROOT / "akhbar" / "core" / "text.py").resolve()
    copies = []
    for path in _python_files():
        if path.resolve() == home:
            continue
        source = path.read_text(encoding="utf-8")
        copies += [f"{path.relative_to(REPO_ROOT)}: {what}" for what, rx in RULE_MARKERS.items() if rx.search(source)]
    assert not copies, "Arabic text rules copied outside akhbar/core/text.py:\n" + "\n".join(copies)
    home_source = home.read_text(encoding="utf-8")
    assert [what for what, rx in RULE_MARKERS.items() if not rx.search(home_source)] == [], "markers must find the rules"


@pytest.mark.parametrize("module", [
    "akhbar/lib/extract.py", "akhbar/lib/articles.py", "akhbar/lib/ner/features.py", "akhbar/lib/ner/entities.py",
    "akhbar/lib/neardup/sketch.py", "akhbar/lib/events/features.py",
])
def test_extraction_dedup_ner_and_neardup_fold_text_through_core_text(module):
    tree = ast.parse(Path(REPO_ROOT, module).read_text(encoding="utf-8"))
    imported = {(node.module, alias.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                for alias in node.names}
    assert any(mod == "akhbar.core.text" for mod, _ in imported), module
