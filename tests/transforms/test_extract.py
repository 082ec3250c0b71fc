"""Main-text extraction of Arabic news pages (akhbar.lib.extract)."""

from __future__ import annotations

import gzip
import html as html_lib
import json
import random
import re
import time
from datetime import datetime, timezone

import pytest

from akhbar.lib.evaluation.extraction import token_scores
from akhbar.lib.extract import (
    ExtractedPage,
    ExtractionError,
    extract_article,
    extract_bytes,
    parse_html,
    strip_arabic_boilerplate,
)
from tests.shared_data import shared_data

# --- a synthetic Arabic news page (our own text) ------------------------------------

TITLE = "افتتاح محطة لتحلية المياه في صفاقس"
BODY = [
    "افتتحت وزارة الفلاحة صباح الثلاثاء محطة جديدة لتحلية مياه البحر في ولاية صفاقس، "
    "بطاقة إنتاج تبلغ مئة ألف متر مكعب يوميا.",
    "وقال مدير المشروع في تصريح للصحفيين إن المحطة ستغطي حاجيات أكثر من نصف مليون ساكن "
    "خلال فصل الصيف، حين يرتفع الطلب على مياه الشرب.",
    "وأضاف أن الأشغال استغرقت ثلاث سنوات، وأن كلفة المشروع بلغت نحو ثلاثمئة مليون دينار، "
    "موّلت في جزء منها بقرض من بنك تنمية إقليمي.",
    "من جهتهم، عبّر عدد من المزارعين عن أملهم في أن تخفف المحطة الضغط على المائدة المائية "
    "الجوفية التي تراجع مستواها في السنوات الأخيرة.",
]
SEE_ALSO = "شاهد أيضاً: ارتفاع منسوب السدود بعد أمطار الخريف"
RELATED = [
    "وزير الفلاحة يزور مشاريع الري في القيروان",
    "تراجع مخزون السدود إلى أدنى مستوى منذ عقد",
    "انطلاق موسم جني الزيتون في الساحل",
]
# Page furniture; none of it may reach the extracted text.
BOILERPLATE = [
    "جريدة النهار الرقمية",
    "الرئيسية",
    "اقتصاد",
    "اتصل بنا",
    "الطقس اليوم",
    "شاهد أيضاً",
    "ارتفاع منسوب السدود",
    "أخبار ذات صلة",
    *RELATED,
    "أضف تعليقاً",
    "البريد الإلكتروني",
    "إرسال التعليق",
    "شارك على",
    "جميع الحقوق محفوظة",
    "تابعونا على",
]


def synthetic_page(*, related_inside_article: bool = False) -> str:
    """A news page with header, nav, an inline "شاهد أيضاً" line, a related-news
    block, a comment form and a footer. With `related_inside_article` the
    related list and comment heading sit inside the article container, where
    trafilatura keeps them and only the Arabic cleanup can remove them."""
    paragraphs = [f"<p>{p}</p>" for p in BODY]
    paragraphs.insert(2, f'<p>شاهد أيضاً: <a href="/news/2">{SEE_ALSO.split(": ", 1)[1]}</a></p>')
    related_items = "".join(f'<li><a href="/news/{i}">{h}</a></li>' for i, h in enumerate(RELATED, 3))
    related = f'<section class="related"><h3>أخبار ذات صلة</h3><ul>{related_items}</ul></section>'
    comments = (
        '<section id="comments" class="comments-area"><h3 class="comment-reply-title">أضف تعليقاً</h3>'
        '<form action="/comment" method="post"><label for="name">الاسم</label><input id="name">'
        '<label for="email">البريد الإلكتروني</label><input id="email">'
        '<label for="c">تعليقك</label><textarea id="c"></textarea>'
        '<button type="submit">إرسال التعليق</button></form></section>'
    )
    if related_inside_article:
        inside = (
            "<h3>أخبار ذات صلة</h3>"
            + "".join(f"<p>{h}</p>" for h in RELATED)
            + "<h3>أضف تعليقاً</h3><p>الاسم</p><p>البريد الإلكتروني</p>"
        )
        after = ""
    else:
        inside, after = "", related + comments
    return f"""<!DOCTYPE html>
<html lang="ar" dir="rtl">
<head>
<meta charset="utf-8">
<title>{TITLE} | جريدة النهار الرقمية</title>
<meta property="og:title" content="{TITLE}">
<meta property="article:published_time" content="2026-11-24T07:45:00+03:00">
</head>
<body>
<header class="site-header">
  <div class="logo"><a href="/">جريدة النهار الرقمية</a></div>
  <nav class="main-menu"><ul>
    <li><a href="/">الرئيسية</a></li><li><a href="/politics">سياسة</a></li>
    <li><a href="/economy">اقتصاد</a></li><li><a href="/sport">رياضة</a></li>
    <li><a href="/contact">اتصل بنا</a></li>
  </ul></nav>
  <div class="weather">الطقس اليوم: صحو، 18 درجة</div>
</header>
<main>
<article class="post">
  <h1 class="entry-title">{TITLE}</h1>
  <div class="entry-content">
    {"".join(paragraphs)}
    {inside}
  </div>
  <div class="share">شارك على: <a href="#">فيسبوك</a> <a href="#">تويتر</a></div>
</article>
{after}
</main>
<footer class="site-footer">
  <p>جميع الحقوق محفوظة © 2026 جريدة النهار الرقمية</p>
  <p>تابعونا على فيسبوك وتويتر</p>
</footer>
</body>
</html>"""


@pytest.mark.parametrize("inside", [False, True], ids=["related-after-article", "related-inside-article"])
def test_synthetic_page(inside: bool) -> None:
    page = extract_article(synthetic_page(related_inside_article=inside), "https://example.com/a/1")
    for paragraph in BODY:
        assert paragraph in page.text
    for snippet in BOILERPLATE:
        assert snippet not in page.text, snippet
    assert page.title == TITLE
    assert page.published == datetime(2026, 11, 24, 4, 45, tzinfo=timezone.utc)
    assert page.published.utcoffset().total_seconds() == 0
    assert page.method == "trafilatura"
    assert isinstance(page, ExtractedPage)


# --- the real Assabah page ------------------------------------------------------


def test_assabah_expected_snippets() -> None:
    page_html = shared_data("html", "trafilatura_assabah.com.tn.article.html").read_text(encoding="utf-8")
    expected = json.loads(
        shared_data("html", "trafilatura_assabah.com.tn.article.expected.json").read_text(encoding="utf-8")
    )
    page = extract_article(page_html, expected["url"])
    for snippet in expected["with"]:
        assert snippet in page.text, f"missing {snippet!r}"
    for snippet in expected["without"]:
        assert snippet not in page.text, f"boilerplate {snippet!r} kept"
    assert page.title is not None
    assert " ".join(page.title.split()) == " ".join(expected["title"].split())


# --- the seed article -----------------------------------------------------------


def test_seed_article_boilerplate_removed() -> None:
    lines = [ln.strip() for ln in shared_data("seed", "article.txt").read_text(encoding="utf-8").splitlines()]
    headline, rest = lines[0], [ln for ln in lines[1:] if ln]
    page_html = (
        f"<html><head><title>{html_lib.escape(headline)}</title></head><body><article>"
        f"<h1>{html_lib.escape(headline)}</h1>"
        + "".join(f"<p>{html_lib.escape(ln)}</p>" for ln in rest)
        + "</article></body></html>"
    )
    see_also = next(ln for ln in rest if ln.startswith("شاهد"))
    heading = rest.index("أخبار ذات صلة")
    headlines = rest[heading + 1 :]
    body = [ln for ln in rest[:heading] if ln != see_also]
    assert len(headlines) == 3 and len(body) > 5  # the file is what the README says

    page = extract_article(page_html)
    opening_sentence = body[1].split(".")[0]  # body[0] is the standfirst
    assert opening_sentence in page.text
    for paragraph in body:
        assert paragraph in page.text
    assert see_also not in page.text
    assert "شاهد" not in page.text
    assert "أخبار ذات صلة" not in page.text
    for line in headlines:
        assert line not in page.text
    assert page.title == headline


# --- strip_arabic_boilerplate ---------------------------------------------------

P1 = "قال وزير الصحة إن الحملة الوطنية للتلقيح ستنطلق مطلع الشهر القادم في كل المحافظات."
P2 = "وأوضح أن الوزارة وفرت أكثر من مليوني جرعة، وأن مراكز التلقيح ستفتح أبوابها طيلة الأسبوع."


@pytest.mark.parametrize(
    "line",
    [
        "شاهد أيضاً: انطلاق موسم الحصاد",
        "شاهد أيضًا: انطلاق موسم الحصاد",  # tanween on the alef's other side
        "شاهد ايضا: انطلاق موسم الحصاد",
        "شاهد ايضاً - انطلاق موسم الحصاد",
        "شاهد أيضا – انطلاق موسم الحصاد",
        "شاهد أيضاً انطلاق موسم الحصاد",
        "شاهـد أيضــاً: انطلاق موسم الحصاد",  # tatweel
        "اقرأ أيضاً: انطلاق موسم الحصاد",
        "إقرأ أيضا: انطلاق موسم الحصاد",
        "اقرا ايضا — انطلاق موسم الحصاد",
        "» اقرأ أيضًا: انطلاق موسم الحصاد",
        "- شاهد أيضاً: انطلاق موسم الحصاد",
        "\u200fشاهد أيضاً: انطلاق موسم الحصاد",
        "شارك على فيسبوك",
        "شارك على:",
        "شارك الخبر عبر واتساب",
        "تابعونا على تويتر",
        "تابعنا على تلغرام",
        "إعلان",
        "اعلان",
        "إعلان:",
        "»",
    ],
)
def test_strip_drops_inline_lines(line: str) -> None:
    assert strip_arabic_boilerplate(f"{P1}\n{line}\n{P2}") == f"{P1}\n{P2}"


@pytest.mark.parametrize(
    "heading",
    [
        "أخبار ذات صلة",
        "اخبار ذات صلة:",
        "أخبار ذات صله",
        "مواضيع ذات صلة",
        "مواضيع ذات صلة -",
        "الأكثر قراءة",
        "الاكثر قراءة",
        "الأكثر قراءةً:",
        "أضف تعليقاً",
        "أضف تعليقا",
        "أضف تعليقًا",
        "اترك تعليقاً",
        "اترك تعليقا:",
        "التعليقات",
        "التعليقات (3)",
        "إضافة تعليق جديد",
    ],
)
def test_strip_cuts_trailing_blocks(heading: str) -> None:
    text = f"{P1}\n{P2}\n{heading}\nعنوان الخبر الأول\nعنوان الخبر الثاني\nعنوان الخبر الثالث"
    assert strip_arabic_boilerplate(text) == f"{P1}\n{P2}"


def test_strip_bare_marker_takes_its_links() -> None:
    text = f"{P1}\nاقرأ أيضاً:\nعنوان الخبر الأول\nعنوان الخبر الثاني\n{P2}"
    assert strip_arabic_boilerplate(text) == f"{P1}\n{P2}"


def test_strip_mid_article_list_keeps_the_article() -> None:
    text = f"{P1}\nالأكثر قراءة\nعنوان الخبر الأول\nعنوان الخبر الثاني\n{P2}\n{P1}\n{P2}"
    assert strip_arabic_boilerplate(text) == f"{P1}\n{P2}\n{P1}\n{P2}"


@pytest.mark.parametrize(
    "prose",
    [
        # "شارك" = "took part", "شاهد" = "saw": prose, not boilerplate.
        "شارك على مدى يومين أكثر من مئتي باحث في المؤتمر الدولي الذي احتضنته العاصمة.",
        "شاهد أيضا المواطنون الذين تجمعوا أمام مقر البلدية قوات الأمن وهي تفرق المحتجين.",
        "التعليقات التي نشرها المستخدمون على المنصة أثارت جدلا واسعا.",
        "وبلغ عدد المشاركين 1500",
    ],
)
def test_strip_keeps_prose(prose: str) -> None:
    assert strip_arabic_boilerplate(f"{P1}\n{prose}\n{P2}") == f"{P1}\n{prose}\n{P2}"


# --- failures -------------------------------------------------------------------

NAV_ONLY = (
    "<html><head><title>الرئيسية</title></head><body><nav><ul>"
    + "".join(f'<li><a href="/s/{i}">قسم {i}</a></li>' for i in range(30))
    + "</ul></nav><footer><a href='/contact'>اتصل بنا</a></footer></body></html>"
)
LINK_LIST = (
    "<html><body><div class='latest'>"
    + "".join(f'<p><a href="/n/{i}">عنوان خبر طويل نسبيا عن موضوع رقم {i} في المنطقة</a></p>' for i in range(30))
    + "</div></body></html>"
)


@pytest.mark.parametrize(
    "document",
    [
        "",
        "  \n\t ",
        "<html><head></head><body></body></html>",
        NAV_ONLY,
        LINK_LIST,
        random.Random(7).randbytes(4096).decode("latin-1"),
        "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n" * 50,
        json.dumps({"title": "خبر", "body": "نص " * 200}, ensure_ascii=False),
        "هذا نص عادي بلا وسوم. " * 30,
    ],
    ids=["empty", "blank", "empty-html", "nav-only", "link-list", "random-bytes", "pdf", "json", "plain-text"],
)
def test_extraction_error(document: str) -> None:
    with pytest.raises(ExtractionError, match=re.escape("'https://example.com/x'")):
        extract_article(document, "https://example.com/x")


def test_rejects_bytes() -> None:
    with pytest.raises(TypeError, match="bytes"):
        extract_article(synthetic_page().encode("utf-8"))  # type: ignore[arg-type]


# --- dates ----------------------------------------------------------------------


def _dated_page(head: str, body_extra: str = "") -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in BODY)
    return f"<html><head><title>{TITLE}</title>{head}</head><body><article><h1>{TITLE}</h1>{body_extra}{paragraphs}</article></body></html>"


@pytest.mark.parametrize(
    "head,body_extra,expected",
    [
        ('<meta property="article:published_time" content="2026-11-24T07:45:00Z">', "", datetime(2026, 11, 24, 7, 45)),
        ('<meta name="pubdate" content="2026-11-24T07:45:00">', "", datetime(2026, 11, 24, 7, 45)),
        (
            '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2026-11-24T10:45:00+03:00"}</script>',
            "",
            datetime(2026, 11, 24, 7, 45),
        ),
        ("", '<time datetime="2026-11-24T08:45:00+01:00">24 نوفمبر</time>', datetime(2026, 11, 24, 7, 45)),
        ('<meta property="article:published_time" content="2026-11-24">', "", datetime(2026, 11, 24)),
    ],
    ids=["meta-Z", "meta-naive", "json-ld", "time-tag", "date-only"],
)
def test_published(head: str, body_extra: str, expected: datetime) -> None:
    page = extract_article(_dated_page(head, body_extra))
    assert page.published == expected.replace(tzinfo=timezone.utc)


def test_no_date() -> None:
    assert extract_article(_dated_page("")).published is None


# --- size -----------------------------------------------------------------------


def test_ten_megabyte_page() -> None:
    filler = "".join(
        f'<li><a href="/n/{i}">خبر رقم {i}</a></li>' for i in range(200_000)
    )
    page_html = synthetic_page().replace("</footer>", f"<ul>{filler}</ul></footer>")
    assert len(page_html.encode("utf-8")) > 10_000_000
    started = time.monotonic()
    page = extract_article(page_html)
    assert time.monotonic() - started < 60
    for paragraph in BODY:
        assert paragraph in page.text
    assert page.title == TITLE


def test_max_chars_cuts_the_tail() -> None:
    page_html = synthetic_page()
    cut = page_html.index("</article>")
    assert BODY[-1] in extract_article(page_html, max_chars=cut).text
    with pytest.raises(ExtractionError):
        extract_article(page_html, max_chars=page_html.index("<article"))


# --- parsing: comments are not a cut --------------------------------------------------


def _react_paragraph(paragraph: str) -> str:
    """The paragraph as React renders it: a link, then <!-- --> between text nodes."""
    words = paragraph[:-1].split(" ")
    return (
        " ".join(words[:3]) + f' <a href="/tag/{len(words)}">' + " ".join(words[3:5]) + "</a><!-- --> "
        + " ".join(words[5:]) + "<!-- -->."
    )


def test_comments_between_text_nodes_do_not_cut_the_text() -> None:
    paragraphs = "".join(f"<p>{_react_paragraph(p) if i % 2 == 0 else p}</p>" for i, p in enumerate(BODY))
    page_html = _dated_page("").replace("".join(f"<p>{p}</p>" for p in BODY), paragraphs)
    assert page_html.count("<!-- -->") == len(BODY)
    page = extract_article(page_html, "https://example.com/a/1")
    for paragraph in BODY:
        assert paragraph in page.text


def test_parse_html_drops_comments_and_processing_instructions() -> None:
    tree = parse_html("<html><body><?php echo 1 ?><p>نص<!-- تعليق -->آخر</p></body></html>")
    assert tree.xpath("//comment()") == [] and tree.xpath("//processing-instruction()") == []
    assert tree.findtext(".//p") == "نصآخر"


# --- scripts without spaces, tables ---------------------------------------------------

CHINESE = [
    "北京市政府星期二宣布，将在未来三年内投资两百亿元，用于改善城市公共交通系统。",
    "根据新公布的计划，地铁网络将新增四条线路，覆盖城市东部和南部的新居民区。",
    "市交通委员会负责人在新闻发布会上表示，新线路建成后，每天可以多运送一百万名乘客。",
    "一些市民表示欢迎这一计划，但也担心施工期间会给周边居民的出行带来不便。",
]
JAPANESE = [
    "大阪市は火曜日、市内の公園に新しい図書館を建設する計画を発表した。",
    "新しい図書館には約二十万冊の本が置かれ、子ども向けの読書室も設けられる予定だ。",
    "市の担当者によると、建設工事は来年の春に始まり、二年後の完成を目指している。",
    "地元の住民からは、静かに勉強できる場所が増えることを期待する声が上がっている。",
]


@pytest.mark.parametrize("paragraphs", [CHINESE, JAPANESE], ids=["chinese", "japanese"])
def test_pages_in_scripts_without_spaces(paragraphs: list[str]) -> None:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    page_html = (
        f"<html><head><title>{paragraphs[0][:10]}</title></head><body><nav><a href='/'>首页</a></nav>"
        f"<article><h1>{paragraphs[0][:12]}</h1>{body}</article><footer>© 2026</footer></body></html>"
    )
    page = extract_article(page_html, "https://example.jp/news/1")
    for paragraph in paragraphs:
        assert paragraph in page.text
    assert page.language == "other"


def test_a_body_laid_out_in_a_table_is_kept() -> None:
    rows = "".join(f'<tr><td class="text">{p}</td></tr>' for p in BODY)
    page_html = (
        f"<html><head><title>{TITLE}</title></head><body><table width='100%'>"
        f"<tr><td><a href='/'>الرئيسية</a> | <a href='/economy'>اقتصاد</a></td></tr>"
        f"<tr><td><h1>{TITLE}</h1></td></tr>{rows}</table></body></html>"
    )
    page = extract_article(page_html, "https://example.com/a/1")
    for paragraph in BODY:
        assert paragraph in page.text
    assert page.language == "ar"


def test_a_table_inside_the_article_is_kept() -> None:
    table = (
        "<table><tr><th>الولاية</th><th>كمية الأمطار</th></tr>"
        "<tr><td>صفاقس</td><td>42 مليمترا</td></tr><tr><td>القيروان</td><td>37 مليمترا</td></tr></table>"
    )
    page = extract_article(_dated_page("", table), "https://example.com/a/1")
    assert "صفاقس" in page.text and "42 مليمترا" in page.text and "القيروان" in page.text
    for paragraph in BODY:
        assert paragraph in page.text


def test_extract_bytes_decodes_like_fetched_pages() -> None:
    page_html = _dated_page("").replace("<head>", '<head><meta charset="windows-1256">')
    page = extract_bytes(page_html.encode("cp1256"), "https://example.com/a/1")
    for paragraph in BODY:
        assert paragraph in page.text


# --- real pages of the public benchmark where a whole body was lost -------------------


@pytest.mark.parametrize(
    "prefix,why",
    [
        ("7bb1ca9035", "<!-- --> between React text nodes"),
        ("702d1da63b", "<!-- --> between React text nodes"),
        ("f8ff621a0b", "precision mode kept only a 'personal, non-commercial use' notice"),
        ("11ea381ad9", "the article is a table"),
    ],
)
def test_benchmark_pages_that_lost_their_body(prefix: str, why: str) -> None:
    folder = shared_data("extraction_benchmark")
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    key = next(k for k in truth if k.startswith(prefix))
    body = gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes())
    page = extract_bytes(body, truth[key]["url"])
    scores = token_scores(page.text, truth[key]["articleBody"])
    assert scores.recall >= 0.95, why
    assert scores.precision >= 0.6, why
