"""Related-article and see-also lines found by their structure (akhbar.lib.related), both ways:
such lines go in every layout and wording, body prose that merely holds a link stays."""

from __future__ import annotations

import html as html_lib

import lxml.html
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from akhbar.lib.evaluation.extraction import snippet_check
from akhbar.lib.extract import extract_article
from akhbar.lib.related import drop_related_lines, related_lines, site_key
from bench.arabic_pages import LAYOUTS, arabic_pages

PAGES = arabic_pages()

# --- the Arabic page set ----------------------------------------------------------


def test_the_page_set_is_what_the_bench_reports():
    assert len(PAGES) >= 40
    assert len({p.layout for p in PAGES}) == len(LAYOUTS) >= 6
    assert len({p.id for p in PAGES}) == len(PAGES)
    for page in PAGES:
        assert page.boilerplate and len(page.body) >= 4
        # A boilerplate string that also sat in the body could never be dropped.
        for snippet in page.boilerplate:
            assert not any(snippet in paragraph for paragraph in page.body), (page.id, snippet)


@pytest.mark.parametrize("page", PAGES, ids=[p.id for p in PAGES])
def test_arabic_page_keeps_every_body_paragraph_and_no_related_line(page):
    text = extract_article(page.html, page.url).text
    check = snippet_check(text, page.body, page.boilerplate)
    assert not check.missing, f"body lost: {check.missing}"
    assert not check.leaked, f"boilerplate kept: {check.leaked}"


# --- lines around a body, one at a time ---------------------------------------------

BODY = [
    "افتتحت وزارة الفلاحة صباح الثلاثاء محطة جديدة لتحلية مياه البحر في ولاية صفاقس بطاقة إنتاج كبيرة.",
    "وقال مدير المشروع في تصريح للصحفيين إن المحطة ستغطي حاجيات أكثر من نصف مليون ساكن خلال الصيف.",
    "وأضاف أن الأشغال استغرقت ثلاث سنوات وأن كلفة المشروع بلغت نحو ثلاثمئة مليون دينار.",
    "من جهتهم عبّر عدد من المزارعين عن أملهم في أن تخفف المحطة الضغط على المائدة المائية الجوفية.",
]
URL = "https://www.sada-news.example/news/2026/11/24/desalination-plant"
HEADLINE = "انطلاق موسم جني الزيتون في الساحل وسط توقعات بصابة قياسية"


def _page(line_html: str, url: str | None = URL) -> str:
    paragraphs = [f"<p>{html_lib.escape(p)}</p>" for p in BODY]
    paragraphs.insert(2, line_html)
    return (
        '<html lang="ar"><head><title>محطة تحلية</title></head><body>'
        '<nav><a href="/">الرئيسية</a> <a href="/economy">اقتصاد</a></nav>'
        f'<article><h1>محطة تحلية جديدة</h1><div class="content">{"".join(paragraphs)}</div></article>'
        "<footer>جميع الحقوق محفوظة</footer></body></html>"
    )


def _extract(line_html: str, url: str | None = URL) -> str:
    text = extract_article(_page(line_html, url), url).text
    for paragraph in BODY:
        assert paragraph in text
    return text


@pytest.mark.parametrize(
    "line_html",
    [
        # Labels in wordings no lexical rule lists, in the layouts sites use.
        f'<p><strong>مقترحات المحرر:</strong> <a href="/news/2026/11/20/olives">{HEADLINE}</a></p>',
        f'<p>على نفس الصعيد | <a href="https://www.sada-news.example/article/5512">{HEADLINE}</a></p>',
        f'<p><span class="kicker">ربما فاتك</span><a href="https://m.sada-news.example/a/5512">{HEADLINE}</a></p>',
        f'<div class="box"><div class="box-title">من أرشيفنا</div><div><a href="/a/5512">{HEADLINE}</a></div></div>',
        f'<p>تعرف على</p><p><a href="/index.php?p=5512">{HEADLINE}</a></p>',
        f'<p><a href="/a/5512">{HEADLINE}</a> (صور)</p>',
        f'<p><a href="/a/5512">اقرأ كذلك: {HEADLINE}</a></p>',
        f'<h3>ملف المياه</h3><ul><li><a href="/a/1">{HEADLINE}</a></li><li><a href="/a/2">سدود الشمال تبلغ نصف طاقتها</a></li></ul>',
        f'<div class="card"><a href="/a/7"><img src="/i.jpg" alt=""><h4>{HEADLINE}</h4></a><span>منذ ساعتين</span></div>',
        '<p>Related: <a href="/en/5512">Olive harvest starts on the coast with record crop expected</a></p>',
        '<p>Lire aussi : <a href="/fr/5512">La récolte des olives commence sur la côte</a></p>',
    ],
    ids=["strong-label", "bar-label", "span-label-mobile-host", "div-box", "label-paragraph", "tag-after",
         "label-in-link", "heading-and-list", "card", "english", "french"],
)
def test_related_lines_go_in_any_wording(line_html: str) -> None:
    text = _extract(line_html)
    dropped = lxml.html.fromstring(line_html).text_content()
    for piece in ("مقترحات المحرر", "على نفس الصعيد", "ربما فاتك", "من أرشيفنا", "تعرف على", "ملف المياه",
                  "منذ ساعتين", HEADLINE, "Olive harvest", "La récolte"):
        if piece in dropped:
            assert piece not in text, piece


@pytest.mark.parametrize(
    "line_html,kept",
    [
        (
            '<p>وكانت <a href="/a/5512">الحكومة قد أعلنت الأسبوع الماضي عن خطة لدعم الفلاحين</a> في المناطق الداخلية.</p>',
            "وكانت الحكومة قد أعلنت الأسبوع الماضي عن خطة لدعم الفلاحين في المناطق الداخلية.",
        ),
        (
            '<p>وأكد <a href="/tag/health-minister">وزير الصحة</a> ذلك.</p>',
            "وأكد وزير الصحة ذلك.",
        ),
        (
            '<p>وللاطلاع على نص القرار كاملاً يمكن العودة إلى <a href="/docs/decree-12">الجريدة الرسمية</a>.</p>',
            "وللاطلاع على نص القرار كاملاً يمكن العودة إلى الجريدة الرسمية.",
        ),
        (  # a link to another site is not the site's own related article
            '<p><a href="https://www.un.example/report-2026">تقرير الأمم المتحدة حول ندرة المياه في المنطقة</a></p>',
            "تقرير الأمم المتحدة حول ندرة المياه في المنطقة",
        ),
        (  # a link to a section of this very page
            f'<p><a href="{URL}#costs">كلفة المشروع وتمويله من بنك التنمية الإقليمي</a></p>',
            "كلفة المشروع وتمويله من بنك التنمية الإقليمي",
        ),
    ],
    ids=["link-mid-sentence", "short-sentence-mostly-link", "link-at-sentence-end", "other-site", "same-page-anchor"],
)
def test_body_prose_that_holds_a_link_stays(line_html: str, kept: str) -> None:
    assert kept in _extract(line_html)


def _count(line_html: str) -> int:
    return related_lines(lxml.html.document_fromstring(_page(line_html)), URL).count


def test_a_linked_sentence_is_not_a_headline():
    sentence = (
        '<p><a href="/a/5512">وكانت وزارة الفلاحة قد أعلنت في بيان أصدرته مساء الاثنين أن المحطة ستدخل '
        "حيز الاستغلال التجريبي قبل نهاية السنة الجارية.</a></p>"
    )
    base = _count("")  # the page's own navigation line counts too
    assert _count(sentence) == base
    assert _count(f'<p><a href="/a/5512">{HEADLINE}</a></p>') == base + 1


def test_a_subheading_before_a_labelled_related_line_stays():
    heading = "ردود فعل المزارعين"
    line = f'<h3>{heading}</h3><p>اقرأ أيضاً: <a href="/a/5512">{HEADLINE}</a></p>'
    text = _extract(line)
    assert heading in text and HEADLINE not in text


def test_without_the_page_address_relative_links_are_the_sites_own():
    text = _extract(f'<p><b>مقترحات المحرر:</b> <a href="/a/5512">{HEADLINE}</a></p>', url=None)
    assert HEADLINE not in text


def test_canonical_address_names_the_site_when_the_page_url_is_a_mirror():
    line = f'<p>على نفس الصعيد | <a href="https://www.sada-news.example/a/5512">{HEADLINE}</a></p>'
    page = _page(line).replace("<head>", f'<head><link rel="canonical" href="{URL}">')
    text = extract_article(page, "https://amp-cache.example/sada/news/1").text
    assert HEADLINE not in text and BODY[2] in text


# --- properties -----------------------------------------------------------------------

WORDS = st.sampled_from(
    "الحكومة الوزير المدينة المشروع السكان المياه الطاقة البرلمان الشركة الطلاب الميناء الموسم "
    "أعلن قال أكد بدأ ارتفع تراجع وصل افتتح ناقش رفض قرر أضاف".split()
)


def _phrase(low: int, high: int):
    return st.lists(WORDS, min_size=low, max_size=high).map(" ".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(before=_phrase(1, 10), linked=_phrase(1, 12), after=_phrase(1, 10))
def test_property_a_sentence_with_a_link_inside_is_never_dropped(before: str, linked: str, after: str):
    line = f'<p>{before} <a href="/a/5512">{linked}</a> {after}.</p>'
    assert f"{before} {linked} {after}." in _extract(line)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(label=_phrase(1, 4), headline=_phrase(4, 14), separator=st.sampled_from([":", " -", " |", " »", ""]))
def test_property_a_label_and_a_linked_headline_are_dropped(label: str, headline: str, separator: str):
    line = f'<p><strong>{label}{separator}</strong> <a href="/news/2026/5512">{headline}</a></p>'
    text = extract_article(_page(line), URL).text
    assert headline not in text.splitlines()
    assert f"{label}{separator} {headline}" not in text
    for paragraph in BODY:
        assert paragraph in text


# --- the pieces -----------------------------------------------------------------------


def test_site_key():
    assert site_key("www.assabah.com.tn") == site_key("m.assabah.com.tn") == "assabah.com.tn"
    assert site_key("news.bbc.co.uk") == "bbc.co.uk"
    assert site_key("WWW.Example.COM.") == "example.com"


def test_drop_related_lines_matches_however_the_extractor_joins_label_and_link():
    tree = lxml.html.document_fromstring(_page(f'<p><b>روابط ذات صلة</b><a href="/a/1">{HEADLINE}</a></p>'))
    related = related_lines(tree, URL)
    assert related.count == _count("") + 1
    text = "\n".join([BODY[0], f"روابط ذات صلة{HEADLINE}", f"روابط ذات صلة: {HEADLINE}", HEADLINE, BODY[1]])
    assert drop_related_lines(text, related) == f"{BODY[0]}\n{BODY[1]}"
