"""An Arabic news page set for extraction: 48 pages in 8 layouts, written by this project.

Each page wraps one article of the bundled sample corpus (``akhbar/sample``,
text written by the akhbar authors) in a news site's furniture: navigation,
breadcrumbs, share bar, tags, comments, a most-read sidebar, a footer, and
related-article lines in the layout's style, with labels drawn from a pool of
wordings. Every page says what a correct extraction keeps (``body``: the
article's paragraphs, inline links included) and what it must drop
(``boilerplate``: the related headlines, their labels and the furniture).

Layouts (``LAYOUTS``):

- ``p-strong``: ``<p><strong>label</strong> <a>headline</a></p>`` lines in the body
- ``div-cards``: linked cards (image, headline, time) in and after the body
- ``ul-list``: a heading and a ``<ul>`` of linked headlines, and a one-item list
- ``label-paragraph``: a label alone in a paragraph, the linked headline next
- ``inline-links``: body sentences with links (which stay) beside related lines
- ``table``: an old-style page whose body is a table, one paragraph per cell
- ``br-lines``: one ``<div>`` of text with ``<br>`` between paragraphs
- ``aside-embed``: ``<aside>``/``<blockquote>`` embeds of another article

The pages are generated (deterministically), not stored: ``arabic_pages()``.
"""

from __future__ import annotations

import html as html_lib
import random
from dataclasses import dataclass

from akhbar.sample.corpus import SampleArticle, load_corpus

__all__ = ["LABELS", "LAYOUTS", "ArabicPage", "arabic_pages"]

LAYOUTS = (
    "p-strong",
    "div-cards",
    "ul-list",
    "label-paragraph",
    "inline-links",
    "table",
    "br-lines",
    "aside-embed",
)
PAGES_PER_LAYOUT = 6

# Labels that sites put before a link to another of their articles.
LABELS = (
    "اقرأ أيضاً:",
    "شاهد أيضا:",
    "ذات صلة:",
    "قد يهمك أيضاً",
    "اقرأ المزيد:",
    "للمزيد:",
    "إقرأ كذلك",
    "اخترنا لك:",
    "طالع أيضاً",
    "يهمك",
    "لا تفوّت:",
    "تابع أيضاً:",
    "مقال مقترح:",
    "روابط ذات صلة",
    "ننصحك بقراءة",
    "على صلة:",
    "موضوع ذو صلة:",
    "اقرأ في نفس الموضوع:",
    "الخبر السابق:",
    "قد يعجبك:",
    "المزيد من الأخبار:",
    "مواضيع مشابهة",
    "اقرأ هنا:",
    "شوف كمان:",
)
# Headings of related lists and cards.
HEADINGS = (
    "أخبار ذات صلة",
    "مواضيع قد تهمك",
    "اقرأ أيضاً",
    "المزيد في هذا القسم",
    "تغطيات متصلة",
    "قصص أخرى",
    "لمتابعة الملف",
    "من الأرشيف",
)


@dataclass(frozen=True)
class ArabicPage:
    id: str
    layout: str
    url: str
    html: str
    body: tuple[str, ...]  # paragraphs a correct extraction keeps, as the reader sees them
    boilerplate: tuple[str, ...]  # strings that must not appear in the extraction


@dataclass(frozen=True)
class _Site:
    host: str
    name: str
    section: str


_SITES = (
    _Site("www.alwasat-news.example", "الوسط نيوز", "أخبار محلية"),
    _Site("www.anba-mashreq.example", "وكالة أنباء المشرق", "سياسة"),
    _Site("www.sahil-today.example", "الساحل اليوم", "اقتصاد"),
    _Site("www.nahar-digital.example", "النهار الرقمية", "مجتمع"),
)


def _e(text: str) -> str:
    return html_lib.escape(text, quote=True)


class _Builder:
    """One page: the article, its site, and the related links it shows."""

    def __init__(self, index: int, layout: str, article: SampleArticle, others: list[SampleArticle]):
        self.rng = random.Random(f"{layout}-{index}")
        self.index = index
        self.layout = layout
        self.article = article
        self.site = _SITES[index % len(_SITES)]
        self.others = list(others)
        self.rng.shuffle(self.others)
        self.boilerplate: list[str] = []
        self.url = self.href(article, absolute=True)

    def href(self, article: SampleArticle, absolute: bool | None = None) -> str:
        """A link to another article of the site, in one of the forms sites use."""
        number = 100000 + sum(map(ord, article.id)) * 37 % 900000
        style = (number + self.index) % 4
        path = (
            f"/news/{number}/{article.slug}",
            f"/{article.outlet}/2026/11/{number % 28 + 1:02d}/{article.slug}.html",
            f"/article/{number}",
            f"/index.php?p={number}",
        )[style]
        if absolute is None:
            absolute = (number + self.index) % 3 == 0
        if absolute:
            host = self.site.host if number % 2 else self.site.host.replace("www.", "m.")
            return f"https://{host}{path}"
        return path

    def related(self) -> SampleArticle:
        article = self.others.pop()
        self.boilerplate.append(article.title)
        return article

    def label(self, offset: int = 0) -> str:
        label = LABELS[(self.index * 3 + offset) % len(LABELS)]
        self.boilerplate.append(label.rstrip(":").strip())
        return label

    def heading(self, offset: int = 0) -> str:
        heading = HEADINGS[(self.index + offset) % len(HEADINGS)]
        self.boilerplate.append(heading)
        return heading

    def link(self, article: SampleArticle) -> str:
        return f'<a href="{_e(self.href(article))}">{_e(article.title)}</a>'

    def card(self) -> str:
        other = self.related()
        return (
            f'<div class="card"><a href="{_e(self.href(other))}" class="card-link">'
            f'<img src="/img/{other.slug}.jpg" alt=""><h4 class="card-title">{_e(other.title)}</h4></a>'
            f'<span class="card-time">منذ {self.rng.randint(2, 11)} ساعات</span></div>'
        )

    # -- the furniture around the article --------------------------------------------
    def page(self, article_html: str) -> str:
        site, article = self.site, self.article
        most_read = [self.related() for _ in range(4)]
        self.boilerplate += ["الأكثر قراءة", "أضف تعليقاً", "جميع الحقوق محفوظة", f"{site.name} على فيسبوك"]
        nav = "".join(
            f'<li><a href="/{slug}">{name}</a></li>'
            for slug, name in (("", "الرئيسية"), ("politics", "سياسة"), ("economy", "اقتصاد"),
                               ("world", "العالم"), ("sport", "رياضة"), ("contact", "اتصل بنا"))
        )
        sidebar = "".join(f"<li>{self.link(a)}</li>" for a in most_read)
        return f"""<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>{_e(article.title)} | {_e(site.name)}</title>
<meta property="og:title" content="{_e(article.title)}">
<meta property="article:published_time" content="{article.published.isoformat()}">
<link rel="canonical" href="{_e(self.url)}">
</head><body>
<header><div class="logo"><a href="/">{_e(site.name)}</a></div><nav class="menu"><ul>{nav}</ul></nav></header>
<div class="breadcrumb"><a href="/">الرئيسية</a> » <a href="/section/{self.index % 5}">{_e(site.section)}</a></div>
<main class="layout">
{article_html}
<section class="comments"><h3>أضف تعليقاً</h3><form><label>الاسم</label><input name="n">
<label>التعليق</label><textarea></textarea><button>إرسال</button></form></section>
</main>
<aside class="sidebar"><h3>الأكثر قراءة</h3><ul>{sidebar}</ul></aside>
<footer><p>جميع الحقوق محفوظة © 2026 {_e(site.name)}</p>
<p><a href="https://facebook.example/{site.host}">{_e(site.name)} على فيسبوك</a></p></footer>
</body></html>
"""

    def article_open(self, tag: str = "article", cls: str = "post") -> str:
        tags = "".join(f'<a href="/tag/{k}" rel="tag">{t}</a>' for k, t in enumerate(("أخبار", self.site.section)))
        self.boilerplate += ["شارك الخبر"]
        return (
            f'<{tag} class="{cls}"><h1>{_e(self.article.title)}</h1>'
            f'<div class="meta"><span class="author">{_e(self.site.name)}</span> <time datetime="'
            f'{self.article.published.isoformat()}">{self.article.published:%Y/%m/%d}</time></div>'
            f'<div class="share">شارك الخبر: <a href="#fb">فيسبوك</a> <a href="#x">إكس</a></div>'
            f'<div class="tags">{tags}</div>'
        )


def _paragraphs(builder: _Builder) -> tuple[list[str], list[str]]:
    """(HTML paragraphs, their text) of the article."""
    body = list(builder.article.body)
    return [f"<p>{_e(p)}</p>" for p in body], body


def _p_strong(b: _Builder) -> tuple[str, list[str]]:
    paras, body = _paragraphs(b)
    first, second = b.related(), b.related()
    paras.insert(2, f"<p><strong>{_e(b.label())}</strong> {b.link(first)}</p>")
    paras.insert(len(paras) - 1, f"<p><b>{_e(b.label(1))}</b>{b.link(second)}</p>")
    content = b.article_open() + '<div class="entry-content">' + "".join(paras) + "</div></article>"
    return content, body


def _div_cards(b: _Builder) -> tuple[str, list[str]]:
    paras, body = _paragraphs(b)
    inline = '<div class="inline-related">' + b.card() + b.card() + "</div>"
    paras.insert(3, inline)
    after = (
        f'<section class="more-news"><h2>{_e(b.heading())}</h2><div class="grid">'
        + "".join(b.card() for _ in range(4))
        + "</div></section>"
    )
    content = b.article_open("div", "article-page") + '<div class="body">' + "".join(paras) + "</div>" + after + "</div>"
    return content, body


def _ul_list(b: _Builder) -> tuple[str, list[str]]:
    paras, body = _paragraphs(b)
    paras.insert(2, f'<ul class="read-also"><li>{b.link(b.related())}</li></ul>')
    items = "".join(f"<li>{b.link(b.related())}</li>" for _ in range(3))
    paras.append(f"<h3>{_e(b.heading())}</h3><ul>{items}</ul>")
    content = b.article_open() + '<div class="article-body">' + "".join(paras) + "</div></article>"
    return content, body


def _label_paragraph(b: _Builder) -> tuple[str, list[str]]:
    paras, body = _paragraphs(b)
    paras.insert(2, f"<p>{_e(b.label())}</p><p>{b.link(b.related())}</p>")
    paras.insert(len(paras) - 1, f"<p><em>{_e(b.label(1))}</em></p><h4>{b.link(b.related())}</h4>")
    content = b.article_open() + '<div class="text">' + "".join(paras) + "</div></article>"
    return content, body


# Sentences of our own, each with an inline link that belongs to the body.
_INLINE = (
    ("وكانت ", "الحكومة قد أعلنت الأسبوع الماضي عن خطة لدعم الفلاحين", " في المناطق الداخلية، على أن تنطلق في الربيع."),
    ("وللاطلاع على نص القرار كاملاً يمكن العودة إلى ", "الجريدة الرسمية", " في عددها الصادر صباح اليوم."),
    ("وأكد ", "وزير الصحة", " أن الحملة ستشمل كل المحافظات دون استثناء، وأن الجرعات متوفرة بالكميات المطلوبة."),
    ("وسبق أن ", "تناولنا هذا الملف بالتفصيل", " في تقرير نشر مطلع الشهر الجاري."),
)


def _inline_links(b: _Builder) -> tuple[str, list[str]]:
    paras, body = _paragraphs(b)
    start, linked, end = _INLINE[b.index % len(_INLINE)]
    other = b.related()
    b.boilerplate.remove(other.title)  # its link sits inside a body sentence: it stays
    sentence = f"<p>{_e(start)}<a href=\"{_e(b.href(other))}\">{_e(linked)}</a>{_e(end)}</p>"
    paras.insert(1, sentence)
    body.insert(1, start + linked + end)
    # Three words of a body paragraph linked to a tag page: the paragraph reads the same.
    words = body[2].split(" ")
    linked_words = f'<a href="/tag/{b.index}">{_e(" ".join(words[3:6]))}</a>'
    paras[2] = f"<p>{_e(' '.join(words[:3]))} {linked_words} {_e(' '.join(words[6:]))}</p>"
    paras.insert(4, f"<p>{_e(b.label())} {b.link(b.related())}</p>")
    paras.append(f"<p>{b.link(b.related())} (فيديو)</p>")
    content = b.article_open() + '<div class="story">' + "".join(paras) + "</div></article>"
    return content, body


def _table(b: _Builder) -> tuple[str, list[str]]:
    _, body = _paragraphs(b)
    rows = [f'<tr><td class="txt">{_e(p)}</td></tr>' for p in body]
    rows.insert(2, f'<tr><td class="txt"><span class="lbl">{_e(b.label())}</span> {b.link(b.related())}</td></tr>')
    related = "".join(f"<tr><td>{b.link(b.related())}</td></tr>" for _ in range(3))
    content = (
        f'<table class="main" width="100%"><tr><td><h1>{_e(b.article.title)}</h1></td></tr>'
        + "".join(rows)
        + f'<tr><td><b>{_e(b.heading())}</b></td></tr>{related}</table>'
    )
    return content, body


def _br_lines(b: _Builder) -> tuple[str, list[str]]:
    _, body = _paragraphs(b)
    pieces = [_e(p) for p in body]
    pieces.insert(2, f"<b>{_e(b.label())}</b> {b.link(b.related())}")
    pieces.insert(len(pieces) - 1, f"{_e(b.label(1))} {b.link(b.related())}")
    content = b.article_open() + '<div class="news-text">' + "<br><br>".join(pieces) + "</div></article>"
    return content, body


def _aside_embed(b: _Builder) -> tuple[str, list[str]]:
    paras, body = _paragraphs(b)
    other = b.related()
    paras.insert(
        2,
        f'<aside class="embedded-post"><span class="kicker">{_e(b.label())}</span>'
        f'<a href="{_e(b.href(other))}"><strong>{_e(other.title)}</strong></a></aside>',
    )
    paras.insert(4, f'<blockquote class="related-quote"><p>{b.link(b.related())}</p></blockquote>')
    content = b.article_open() + '<section class="article-content">' + "".join(paras) + "</section></article>"
    return content, body


_BUILD = {
    "p-strong": _p_strong,
    "div-cards": _div_cards,
    "ul-list": _ul_list,
    "label-paragraph": _label_paragraph,
    "inline-links": _inline_links,
    "table": _table,
    "br-lines": _br_lines,
    "aside-embed": _aside_embed,
}


def arabic_pages() -> list[ArabicPage]:
    """The page set: ``PAGES_PER_LAYOUT`` pages per layout, each around another article."""
    corpus = [a for a in load_corpus() if not a.republished_from and len(a.body) >= 4]
    pages = []
    for k, layout in enumerate(LAYOUTS):
        for j in range(PAGES_PER_LAYOUT):
            index = k * PAGES_PER_LAYOUT + j
            article = corpus[index % len(corpus)]
            others = [a for a in corpus if a.id != article.id]
            builder = _Builder(index, layout, article, others)
            content, body = _BUILD[layout](builder)
            pages.append(
                ArabicPage(
                    id=f"{index:02d}-{layout}",
                    layout=layout,
                    url=builder.url,
                    html=builder.page(content),
                    body=tuple(body),
                    boilerplate=tuple(dict.fromkeys(builder.boilerplate)),
                )
            )
    return pages
