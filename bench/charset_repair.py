"""How often Arabic charset detection turns a non-Arabic document into Arabic, and how often it fixes Arabic ones.

    nice -n 10 .venv/bin/python -m bench.charset_repair

False repairs (the detection must leave these alone): every page of the
extraction benchmark (``../shared/data/extraction_benchmark``, 181 real pages,
mostly English, some Russian, Portuguese, Korean, Japanese, Italian, German,
Indonesian), decoded

* as served, with no HTTP charset (the page's own <meta> and detection decide);
* under a wrong ``charset=iso-8859-1`` header;
* re-encoded in windows-1252 (what the page can hold of it) with no label and
  under ``iso-8859-1``;

and news-like sentences of our own in 15 languages (Latin, Cyrillic, Greek,
Hebrew and Thai scripts) in each of their legacy encodings, with
the right label, no label and a wrong ``iso-8859-1`` label. A false repair is a
result decoded as windows-1256 or ISO-8859-6, or repaired as Arabic mojibake.

Repairs (the detection must fix these): the 74 articles of the bundled
sample as pages in ISO-8859-6, windows-1256 and UTF-8, under each of 4
<meta> x 4 Content-Type labels (missing, right and wrong). A repair succeeds
when the article's first paragraph comes back exactly.
"""
from __future__ import annotations

import argparse
import gzip
import html
import json
import platform
import time
from pathlib import Path

from akhbar.lib.web.charset import decode_bytes

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
ARABIC_CODECS = ("cp1256", "iso8859-6")
# News-like sentences of our own in languages that still meet legacy single-byte encodings.
NON_ARABIC = {
    "fr": ("Les députés ont adopté mercredi le projet de loi sur l'énergie; l'élève a réussi à Paris.", ["cp1252"]),
    "de": ("Die Straße in München ist schön, sagte der Bürgermeister. Ärger über Öl und Größe.", ["cp1252"]),
    "es": ("El Gobierno aprobó el miércoles la reforma energética; los diputados votarán el jueves en Cádiz.", ["cp1252"]),
    "pt": ("O governo aprovou na quarta-feira a reforma da energia, e os deputados votarão em São Paulo.", ["cp1252"]),
    "pl": ("Rząd przyjął w środę projekt ustawy o energii, a posłowie zagłosują w piątek.", ["iso-8859-2", "cp1250"]),
    "cs": ("Vláda ve středu schválila návrh zákona o energetice, poslanci budou hlasovat v pátek.",
           ["iso-8859-2", "cp1250"]),
    "hu": ("A kormány szerdán elfogadta az energiaügyi törvényjavaslatot, a képviselők pénteken szavaznak.",
           ["iso-8859-2", "cp1250"]),
    "ro": ("Guvernul a aprobat miercuri proiectul de lege privind energia, iar deputaţii votează vineri.", ["cp1250"]),
    "ru": ("Правительство одобрило в среду законопроект об энергетике, депутаты проголосуют в пятницу.",
           ["cp1251", "koi8-r", "iso-8859-5"]),
    "uk": ("Уряд у середу схвалив законопроєкт про енергетику, депутати голосуватимуть у п'ятницю.", ["cp1251", "koi8-u"]),
    "bg": ("Правителството одобри в сряда законопроекта за енергетиката, депутатите гласуват в петък.", ["cp1251"]),
    "el": ("Η κυβέρνηση ενέκρινε την Τετάρτη το νομοσχέδιο για την ενέργεια, οι βουλευτές ψηφίζουν την Παρασκευή.",
           ["iso-8859-7", "cp1253"]),
    "he": ("הממשלה אישרה ביום רביעי את הצעת החוק בנושא אנרגיה, והחברים יצביעו ביום שישי.", ["cp1255", "iso-8859-8"]),
    "tr": ("Hükümet çarşamba günü enerji yasa tasarısını onayladı, milletvekilleri cuma günü oylayacak.",
           ["cp1254", "iso-8859-9"]),
    "th": ("รัฐบาลอนุมัติร่างกฎหมายพลังงานเมื่อวันพุธ และสมาชิกสภาจะลงมติในวันศุกร์", ["cp874", "tis-620"]),
}


def _false_repair(used: str) -> bool:
    return used in ARABIC_CODECS or "repaired" in used


def benchmark_pages() -> list[bytes]:
    folder = (SHARED / "extraction_benchmark" / "html").resolve()
    if not folder.is_dir():
        raise SystemExit(f"{folder} not found: the shared data package sits beside the repository")
    return [gzip.open(p).read() for p in sorted(folder.glob("*.html.gz"))]


def non_arabic_trials() -> list[tuple[str, bytes, str | None]]:
    """(name, bytes, declared charset) of every non-Arabic trial."""
    trials: list[tuple[str, bytes, str | None]] = []
    for i, body in enumerate(benchmark_pages()):
        trials.append((f"page{i}:as-served", body, None))
        trials.append((f"page{i}:iso-8859-1", body, "iso-8859-1"))
        text, _ = decode_bytes(body)
        legacy = text.encode("cp1252", errors="xmlcharrefreplace")
        trials.append((f"page{i}:cp1252-unlabelled", legacy, None))
        trials.append((f"page{i}:cp1252-as-iso-8859-1", legacy, "iso-8859-1"))
    for lang, (sentence, encodings) in NON_ARABIC.items():
        for encoding in encodings:
            try:
                body = f"<html><body><p>{html.escape(sentence)}</p></body></html>".encode(encoding)
            except UnicodeEncodeError as exc:
                raise SystemExit(f"{lang} cannot be written in {encoding}: {exc}") from None
            for label in (encoding, None, "iso-8859-1"):
                trials.append((f"{lang}:{encoding}:{label}", body, label))
    return trials


def arabic_trials() -> list[tuple[str, bytes, str | None, str]]:
    """(name, bytes, declared charset, paragraph that must come back) for the sample's articles."""
    from akhbar.sample.corpus import load_corpus

    metas = [None, "utf-8", "iso-8859-6", "iso-8859-1"]
    headers = [None, "iso-8859-6", "iso-8859-1", "windows-1256"]
    trials = []
    for article in load_corpus():
        paragraph = article.body[0]
        for encoding in ("iso-8859-6", "windows-1256", "utf-8"):
            for meta in metas:
                head = f'<meta charset="{meta}">' if meta else ""
                page = (f"<html><head>{head}<title>{html.escape(article.title)}</title></head><body>"
                        + "".join(f"<p>{html.escape(p)}</p>" for p in article.body) + "</body></html>")
                try:
                    body = page.encode(encoding)
                except UnicodeEncodeError:  # ISO-8859-6 has no « » or Persian letters: that article is skipped
                    continue
                for header in headers:
                    trials.append((f"{article.id}:{encoding}:{meta}:{header}", body, header, html.escape(paragraph)))
    return trials


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    started = time.perf_counter()
    non_arabic = non_arabic_trials()
    false = [(name, used) for name, body, label in non_arabic if _false_repair(used := decode_bytes(body, label)[1])]
    total_non_arabic = len(non_arabic)
    arabic = arabic_trials()
    failed = [name for name, body, label, paragraph in arabic if paragraph not in decode_bytes(body, label)[0]]
    print(json.dumps({
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "non_arabic_documents": total_non_arabic,
        "false_repairs": len(false),
        "false_repair_rate": round(len(false) / total_non_arabic, 4),
        "false_repair_examples": false[:5],
        "arabic_documents": len(arabic),
        "not_repaired": len(failed),
        "repair_rate": round(1 - len(failed) / len(arabic), 4),
        "not_repaired_examples": failed[:5],
        "seconds": round(time.perf_counter() - started, 1),
    }, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
