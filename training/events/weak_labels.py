"""Keyword/regex weak labels for the event taxonomy, over real ANT articles.

No public Arabic corpus uses our taxonomy, so the classifier's real-text training
signal comes from rules: CAMEO-style cue lists per type, matched on
``normalize_arabic`` text, with the title weighted above the body (the primary type
is what the headline is about) and negative contexts (sport, culture, technology,
weather) that stop words like "هجوم" or "لقاء" from reading as conflict or diplomacy.
The output is ids + labels only; the text is re-read from the shared data at
training time, so nothing from the corpus is committed.

    python -m training.events.weak_labels --out weak.jsonl
    python -m training.events.weak_labels --eval training/events/data/dev_labels.jsonl
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from akhbar.core.metrics import prf
from akhbar.core.text import normalize_arabic, text_hash
from akhbar.lib.events.decision import EVENT_TYPES
from training.events.dev_sample import ANT_PATH, MULTISOURCE_PATH, read_jsonl_gz, title_key

TYPES: tuple[str, ...] = EVENT_TYPES  # the taxonomy, defined once in transforms/events.py
# Tie-break for the primary type: concrete material events before talk.
PRIORITY: tuple[str, ...] = (
    "ARMED_CONFLICT",
    "DISASTER_ACCIDENT",
    "ARREST_LEGAL",
    "PROTEST",
    "SANCTIONS",
    "MILITARY_POSTURE",
    "AID_COOPERATION",
    "DIPLOMACY",
    "POLITICS_GOVERNANCE",
    "ECONOMY",
    "STATEMENT",
)
TITLE_WEIGHT = 3.0
LABEL_THRESHOLD = 3.0
BODY_CHARS = 1500
LEAD_CHARS = 400
MAX_HITS_PER_CUE = 2

# Cue lists: (pattern, weight). 2 = a cue that alone names the event, 1 = supporting.
# Patterns are written in plain Arabic and normalized like the text before compiling.
CUES: dict[str, list[tuple[str, float]]] = {
    "DIPLOMACY": [
        (r"التقى|يلتقي|تلتقي|التقت|يستقبل|استقبل", 1),
        (r"مباحثات|محادثات|مفاوضات|تفاوض|المشاورات الثنائيه", 2),
        (r"قمه (ثنائيه|عربيه|افريقيه|اوروبيه|خليجيه|الحلف|العشرين|مجموعه)|القمه (بين|العربيه|الثنائيه)|قمه \w+ ?- ?\w+", 2),
        (r"زياره (رسميه|عمل|دوله|الى)|يزور|يؤدي زياره|تؤدي زياره|زار", 2),
        (r"وزير (الشؤون )?الخارجيه|وزاره الخارجيه|الخارجيه (الامريكيه|الروسيه|التونسيه|الفرنسيه)", 1),
        (r"اتصال هاتفي|مكالمه هاتفيه|رساله (من|الى) (الرئيس|الملك|الامير)", 2),
        (r"سفير|السفاره|دبلوماسي|الدبلوماسيه", 1),
        (r"وقع (على )?اتفاق|توقيع (اتفاق|اتفاقيه|معاهده|مذكره تفاهم)|مذكره تفاهم|معاهده", 2),
        (r"اتفاق (سلام|وقف)|وقف اطلاق النار|هدنه|وساطه|الوسيط", 2),
        (r"مجلس الامن|الامم المتحده|الجامعه العربيه|الاتحاد الافريقي|مجلس التعاون", 1),
        (r"وفد (برلماني|رسمي|حكومي|وزاري)|بعثه دبلوماسيه", 1),
    ],
    "STATEMENT": [
        (r"صرح|تصريح|تصريحات", 1),
        (r"اكد|يؤكد|تؤكد|اكدت", 1),
        (r"دعا|يدعو|تدعو|دعت|طالب|يطالب|تطالب|طالبت|ناشد|يناشد", 2),
        (r"انتقد|ينتقد|تنتقد|انتقدت|ندد|يندد|تندد|استنكر|يستنكر|تستنكر|شجب|ادان|يدين|تدين|ادانه", 2),
        (r"نفى|ينفي|تنفي|نفت|اتهم|يتهم|تتهم|اتهمت|اتهامات", 2),
        (r"حذر|يحذر|تحذر|حذرت|تحذير", 2),
        (r"اعتبر|يعتبر|اعتبرت|قال|يقول|تقول|قالت|اضاف|اوضح|اشار", 1),
        (r"بيان|بلاغ", 1),
        (r"يرفض|رفض|ترفض|رفضت", 1),
    ],
    "AID_COOPERATION": [
        (r"مساعدات(?! الاجتماعيه| اجتماعيه)(?: (انسانيه|عسكريه|غذائيه|ماليه|اغاثيه|طبيه))?|قافله (مساعدات|اغاثه)|اغاثه|اغاثيه", 2),
        (r"قرض|قروض|هبه|منحه (ماليه|من)|تبرع|تبرعات", 1),
        (r"دعم مالي|تمويل (مشروع|مشاريع|اوروبي|من)|خط تمويل", 1),
        (r"صفقه اسلحه|شحنه اسلحه|صفقه (طائرات|صواريخ|دبابات)|تعاون عسكري|ارسال (قوات|جنود)|جسر (جوي|بحري)", 2),
        (r"صندوق النقد|البنك الدولي|البنك الافريقي للتنميه|الاتحاد الاوروبي", 1),
        (r"تعاون (ثنائي|مشترك)|مشروع مشترك|شراكه", 1),
    ],
    "MILITARY_POSTURE": [
        (r"مناورات|تدريبات عسكريه|تمرين عسكري|تمارين عسكريه", 2),
        (r"عرض عسكري|استعراض عسكري|استعراض (القوه|عسكري)", 2),
        (r"تجربه (صاروخيه|نوويه)|تجربه (صاروخ|لصاروخ)|اختبار صاروخ|صاروخ باليستي|صواريخ باليستيه|صاروخ بالستي|بالستي", 2),
        (r"حشد (قوات|عسكري)|حشود عسكريه|تعزيزات عسكريه|نشر (قوات|صواريخ|منظومه)|حامله (ال)?طائرات", 2),
        (r"تخصيب|الترسانه النوويه|السلاح النووي|الاسلحه النوويه|القوه الصاروخيه|الردع", 1),
        (r"حاله (ال)?تاهب|رفع (درجه )?التاهب|استنفار|انذار", 1),
        (r"هدد|يهدد|تهدد|هددت|تهديد|تهديدات|انذار نهائي|مهله", 1),
    ],
    "SANCTIONS": [
        (r"عقوبات|العقوبات", 2),
        (r"(ي|ت)?طرد\w* (السفير|سفير|دبلوماسي|الدبلوماسيين)|(ي|ت)?سحب\w* (ال)?سفير|استدعاء (ال)?سفير|اغلاق (ال)?سفاره", 2),
        (r"(ي|ت)?قطع\w* (ال)?علاقات|تعليق (ال)?علاقات|خفض (ال)?تمثيل", 2),
        (r"حظر (تصدير|استيراد|السفر|الطيران|الاسلحه|على)|حظرا|فرض حظر", 1),
        (r"مقاطعه|المقاطعه|الدول المقاطعه|يقاطع|تقاطع", 1),
        (r"تجميد (ال)?(اصول|ارصده|حسابات)|الحصار|حصار", 1),
        (r"الانسحاب من الاتفاق|انسحاب (الولايات المتحده|واشنطن|امريكا) من", 2),
    ],
    "PROTEST": [
        (r"مظاهره|مظاهرات|تظاهر|تظاهره|متظاهر|المتظاهرين", 2),
        (r"احتجاج|احتجاجات|احتجاجيه|محتج|المحتجين|المحتجون", 2),
        (r"اضراب|الاضراب|مضرب|اضرابا", 2),
        (r"اعتصام|معتصم|المعتصمين", 2),
        (r"وقفه احتجاجيه|مسيره (سلميه|احتجاجيه|شعبيه)|مسيرات", 2),
        (r"غلق الطريق|اغلاق الطريق|قطع الطريق|اشعال العجلات|العجلات المطاطيه|اعمال شغب|شغب|ديقاج", 2),
        (r"تحركات (احتجاجيه|تصعيديه)|التصعيد|الشارات الحمراء|غضب", 1),
    ],
    "ARREST_LEGAL": [
        (r"القبض على|القاء القبض|اعتقال|اعتقل|اعتقلت|معتقل|توقيف|اوقف|ايقاف (\w+ )?(شخص|عنصر|شاب|متهم|\d)", 2),
        (r"الاحتفاظ (به|بها|بهم)|بطاقه ايداع|موقوف|الموقوف|مفتش عنه|مفتش عنهم|محتجز", 2),
        (r"محاكمه|المحكمه|حكم (ب|علي)السجن|حكما بالسجن|بالسجن|السجن (لمده|مدي)|قضت|القضاء", 2),
        (r"قاضي التحقيق|النيابه العموميه|النيابه|دائره الاتهام|تهمه|بتهمه|متهم|المتهمين|شكايه|شكوي|قضيه", 1),
        (r"تحقيق|التحقيقات|الابحاث|الحرس الوطني|الوحدات الامنيه|اعوان (الامن|الحرس|الشرطه)|فرقه", 1),
        (r"حجز|مداهمه|مصادره", 2),
        (r"اطلاق سراح|الافراج عن|عفو|ترحيل", 2),
        (r"مخدرات|مخدر|الزطله|تهريب|المهربه|مهرب|سرقه|سارق|سطو|اختلاس|اختطاف|اغتصاب|جريمه|احتيال|تحيل|رشوه|فساد", 1),
    ],
    "ARMED_CONFLICT": [
        (r"قصف|غاره|غارات|ضربات جويه|ضربه جويه|قذائف|قذيفه", 2),
        (r"اشتباكات|اشتباك|معارك|المعارك|مواجهات مسلحه|القتال", 2),
        (r"هجوم (مسلح|ارهابي|انتحاري|صاروخي)|هجمات(?! الكترونيه| سيبرانيه)|هجوم(?! الكتروني| سيبراني)", 1),
        (r"تفجير|انتحاري|مفخخه|عبوه ناسفه|لغم|حزام ناسف", 2),
        (r"قتلي|قتيلا|مقتل|قتل|اغتيال|مجزره|جثث|جرحي", 1),
        (r"مسلح|مسلحين|ارهابي|الارهابيين|داعش|القاعده|الحوثي|ميليشيا|مليشيا|طالبان", 1),
        (r"توغل|اقتحام|اقتحمت قوات|قوات الاحتلال|الجيش (ال)?\w+ (يسيطر|يستعيد|يحرر)|تحرير (مدينه|مواقع)|جبهه", 1),
        (r"دهس (ال)?ماره|عمليه دهس|عمليه ارهابيه", 2),
    ],
    "POLITICS_GOVERNANCE": [
        (r"انتخابات|الانتخابات|انتخابيه|الاقتراع|استفتاء|الناخبين|مترشح|الترشح", 2),
        (r"تعيين|عين|يعين|استقاله|استقال|اقاله|اعفاء|تحوير (وزاري|حكومي)|حكومه (جديده|الوحده)|تشكيل الحكومه|منح الثقه", 2),
        (r"مجلس الوزراء|مجلس وزاري|مشروع قانون|مشروع (ال)?نظام|قانون (جديد|المصالحه|الماليه)|امر حكومي|مرسوم|منشور", 2),
        (r"البرلمان|مجلس نواب الشعب|مجلس الشوري|الكونغرس|مجلس الشيوخ|صادق|المصادقه|يصادق|تصويت|الجلسه العامه", 1),
        (r"حزب|الحزب|حركه النهضه|نداء تونس|الكتله|كتله|الائتلاف|تحالف", 1),
        (r"الدستور|حاله الطوارئ|الهيئه العليا|هيئه الحقيقه|الحكم المحلي|البلديه|البلديات|اصلاح|اجراءات جديده|قرار", 1),
        (r"الحكومه|رئيس الحكومه|وزاره|الوزاره|رئاسه الحكومه|رئيس الجمهوريه", 1),
    ],
    "DISASTER_ACCIDENT": [
        (r"فيضان|فيضانات|سيول|زلزال|هزه ارضيه|اعصار|عاصفه|امطار (غزيره|طوفانيه)|ثلوج", 2),
        (r"حريق|حرائق|النيران|اندلاع", 2),
        (r"حادث (مرور|سير|اليم|قطار)|حوادث المرور|انقلاب (سياره|شاحنه|حافله)|اصطدام|تحطم|غرق|انهيار|انزلاق", 2),
        (r"وباء|الكوليرا|تفشي|الحصبه|انفلونزا|الايبولا", 2),
        (r"الحمايه المدنيه|اجلاء|مصرع|لقي حتفه|حتفهم|وفاه|انفجار", 1),
    ],
    "ECONOMY": [
        (r"اسعار|الاسعار|سعر|التضخم|المقدره الشرائيه|غلاء", 1),
        (r"ميزانيه|الميزانيه|الميزان التجاري|العجز|الدين (العمومي|الخارجي)|المديونيه|الجبائيه|الضرائب|ضريبه|معاليم|الديوانه", 2),
        (r"تصدير|صادرات|الصادرات|توريد|واردات|التجاره الخارجيه|المبادلات التجاريه", 2),
        (r"انقطاع (التيار|الكهرباء|الماء|المياه)|اضطراب (في )?(توزيع|التزود)|قطع (التيار|الماء)", 2),
        (r"البورصه|الدينار|الدولار|الاورو|سعر الصرف|العمله الصعبه|البنك المركزي|نسبه الفائده|البنوك|بنك", 1),
        (r"نسبه النمو|النمو الاقتصادي|البطاله|التشغيل|الاستثمار|مستثمر|الاقتصاد|اقتصادي|اقتصاديه", 1),
        (r"النفط|البترول|المحروقات|الطاقه|الفسفاط|السياحه|الفلاحه|الصناعه|الانتاج|شركه|الشركه|مليون دينار|مليار", 1),
    ],
}

# Negative contexts: when one dominates, conflict/diplomacy words are read as sport or
# culture vocabulary ("هجوم" = attack on goal, "لقاء" = match, "القمه" = top of the table).
CONTEXTS: dict[str, list[tuple[str, float]]] = {
    "sport": [
        (r"مباراه|مقابله (ال)?\w+ (و|ضد)|الدوري|البطوله|كره (القدم|اليد|السله|الطائره)|المنتخب|منتخب", 2),
        (r"لاعب|اللاعب|لاعبي|مدرب|المدرب|الفريق|النادي|نادي|الرابطه|ملعب|الملعب|الجوله|تصفيات|كاس|الكاس|هدف|اهداف|الحكم|ميركاتو|تعاقد|الانتقالات", 1),
    ],
    "culture": [
        (r"مهرجان|المهرجان|فيلم|الفيلم|مسرحيه|مسرح|سينما|السينمائي|روايه|معرض (الكتاب|فني)|حفل|اغنيه|الفنان|الفنانه|فنان", 2),
        (r"عرض|الدوره|جائزه|تكريم|ثقافي|الثقافه|موسيقي|موسيقى|تظاهره", 1),
    ],
    "tech_science": [
        (r"دراسه|باحثون|الباحثين|علماء|تطبيق|هاتف|الهواتف|فيسبوك|فايسبوك|غوغل|جوجل|ابل|ايفون|سامسونغ|واتساب|تويتر|الانترنت|الكتروني|قرصنه|اختراق", 1),
    ],
    "weather": [(r"حاله الطقس|الطقس|الرصد الجوي|درجات الحراره", 2)],
}
# Types a dominant sport/culture/tech context switches off unless the title itself is explicit.
CONTEXT_SUPPRESSES = {
    "sport": {"ARMED_CONFLICT", "MILITARY_POSTURE", "DIPLOMACY", "STATEMENT", "ECONOMY", "POLITICS_GOVERNANCE", "AID_COOPERATION"},
    "culture": {"ARMED_CONFLICT", "MILITARY_POSTURE", "DIPLOMACY", "STATEMENT", "ECONOMY", "POLITICS_GOVERNANCE"},
    "tech_science": {"ARMED_CONFLICT", "MILITARY_POSTURE", "STATEMENT", "ECONOMY"},
    "weather": {"DISASTER_ACCIDENT", "ECONOMY", "STATEMENT"},
}
# Types whose cue words are everyday vocabulary: a negative context removes them outright.
SOFT_TYPES = {"STATEMENT", "ECONOMY", "DIPLOMACY"}
# MILITARY_POSTURE's threat words only count next to military vocabulary; union and
# criminal threats ("تهدد بالاضراب", "تهديد بالقتل") are something else.
MILITARY_CONTEXT = r"عسكري|الجيش|جيش|قوات|صاروخ|صواريخ|نووي|حرب|الحرب|ضربه|القوه|البحريه|الطيران الحربي"
# Lead words before a headline colon that are places or rubrics, not speakers.
NOT_SPEAKERS = (
    r"تونس|العاصمه|سوسه|صفاقس|المنستير|المهديه|نابل|بنزرت|القيروان|قابس|مدنين|تطاوين|قفصه|توزر|قبلي|الكاف|"
    r"جندوبه|باجه|سليانه|زغوان|القصرين|سيدي بوزيد|اريانه|بن عروس|منوبه|جربه|جرجيس|بن قردان|الحمامات|"
    r"الجزائر|ليبيا|مصر|المغرب|فرنسا|المانيا|ايطاليا|اسبانيا|بلجيكا|بريطانيا|لندن|باريس|السعوديه|قطر|الامارات|"
    r"الكويت|البحرين|عمان|اليمن|العراق|سوريا|لبنان|الاردن|فلسطين|غزه|اسرائيل|ايران|تركيا|روسيا|الصين|اليابان|"
    r"الهند|باكستان|افغانستان|امريكا|الولايات المتحده|واشنطن|كندا|السودان|مالي|نيجيريا|"
    r"عاجل|فيديو|شاهد|بالفيديو|بالصور|صور|رسمي|حصري|الرادار|دراسه|تقرير|بلاغ|متابعه|تحديث|هام|للتذكير"
)

_WORD_START = r"(?<![\w])(?:و|ف|ب|ل|ك)?(?:ال|لل)?"


def _compile(cues: list[tuple[str, float]]) -> list[tuple[re.Pattern[str], float]]:
    return [(re.compile(_WORD_START + "(?:" + normalize_arabic(p) + ")"), w) for p, w in cues]


_CUES = {t: _compile(c) for t, c in CUES.items()}
_CONTEXTS = {c: _compile(v) for c, v in CONTEXTS.items()}
_MILITARY_CONTEXT = re.compile(normalize_arabic(MILITARY_CONTEXT))
_THREAT = re.compile(normalize_arabic(r"هدد|يهدد|تهدد|هددت|تهديد|تهديدات|انذار نهائي|مهله"))
_NOT_SPEAKER = re.compile(r"^(?:" + normalize_arabic(NOT_SPEAKERS) + r")$")
_SPEAKER_COLON = re.compile(r"^\s*([^:،,\-\"«»]{2,45}?)\s*:\s*\S")
_ATTRIBUTION = re.compile(normalize_arabic(r"مصدر امني|مصادر امنيه|وفق ما (اكده|افاد)|حسب ما|بحسب|مراسل"))


@dataclass(frozen=True)
class Evidence:
    """Weighted cue score of one type, split so the headline can decide the primary."""

    title: float
    body: float

    @property
    def total(self) -> float:
        return self.title + self.body


def _score(patterns: list[tuple[re.Pattern[str], float]], text: str) -> float:
    return sum(w * min(len(p.findall(text)), MAX_HITS_PER_CUE) for p, w in patterns)


def _strong_event_cue(text: str) -> bool:
    """Whether a weight-2 cue of a type other than STATEMENT occurs in ``text``."""
    return any(w >= 2 and p.search(text) for t, ps in _CUES.items() if t != "STATEMENT" for p, w in ps)


def _speaker_headline(title: str) -> float:
    """Weight of a 'Speaker : quote' headline; a place or rubric before the colon is a dateline.

    A police or ministry source announcing an arrest ("الشرطة التركية: اعتقال ...") is a
    report of that event, so a strong event cue after the colon lowers the weight.
    """
    match = _SPEAKER_COLON.match(title)
    if not match:
        return 0.0
    lead = match.group(1).strip()
    if _NOT_SPEAKER.match(lead) or re.search(r"\d", lead) or _strong_event_cue(lead):
        return 0.0
    if len(lead.split()) < 2:
        return 0.5
    return 1.0 if _strong_event_cue(title[match.end(1):]) else 2.5


def evidence(title: str, text: str) -> dict[str, Evidence]:
    """Cue scores per type for one article (normalized title, body head)."""
    head = normalize_arabic(title or "")
    body = normalize_arabic((text or "")[:BODY_CHARS])
    scores: dict[str, Evidence] = {}
    for type_, patterns in _CUES.items():
        t, b = _score(patterns, head), _score(patterns, body)
        if type_ == "STATEMENT":
            # Reporting verbs are in every article: only the headline and the lead count,
            # and a lead that merely cites a security source is attribution, not a statement.
            t += _speaker_headline(head)
            lead = body[:LEAD_CHARS]
            b = 0.0 if _ATTRIBUTION.search(lead) else min(_score(patterns, lead), 2.0)
        if type_ == "MILITARY_POSTURE" and not _MILITARY_CONTEXT.search(head + " " + body[:LEAD_CHARS]):
            threat = [(p, w) for p, w in patterns if _THREAT.search(p.pattern)]
            t -= _score(threat, head)
            b -= _score(threat, body)
        scores[type_] = Evidence(TITLE_WEIGHT * t, b)
    return scores


def _context(title: str, text: str) -> tuple[str | None, float]:
    """The dominant negative context and its strength (title counts triple)."""
    head = normalize_arabic(title or "")
    body = normalize_arabic((text or "")[:BODY_CHARS])
    best, best_score = None, 0.0
    for name, patterns in _CONTEXTS.items():
        s = TITLE_WEIGHT * _score(patterns, head) + _score(patterns, body)
        if s > best_score:
            best, best_score = name, s
    return best, best_score


def weak_label(title: str, text: str) -> tuple[list[str], str | None, float]:
    """Labels, primary type and a confidence in [0, 1] from cue rules; OTHER never combines."""
    scores = evidence(title, text)
    context, context_score = _context(title, text)
    labels = {t for t, e in scores.items() if e.total >= LABEL_THRESHOLD}
    if context is not None and context_score >= 6.0:
        suppressed = CONTEXT_SUPPRESSES[context]
        # In sport or culture copy only an explicit headline cue survives (a bombing at a match).
        labels = {t for t in labels if t not in suppressed or (scores[t].title >= 2 * TITLE_WEIGHT and t not in SOFT_TYPES)}
    if not labels:
        confidence = 0.7 if context_score >= 6.0 else 0.35
        return ["OTHER"], "OTHER", confidence
    ordered = sorted(labels, key=lambda t: (-scores[t].title, -scores[t].total, PRIORITY.index(t)))
    primary = ordered[0]
    top = scores[primary].total
    runner_up = max((scores[t].total for t in labels if t != primary), default=0.0)
    confidence = min(0.95, 0.3 + 0.05 * top + (0.15 if scores[primary].title > 0 else 0.0))
    if runner_up and scores[primary].title == 0:
        confidence = min(confidence, 0.5)
    return [t for t in TYPES if t in labels], primary, round(confidence, 3)


# ---------------------------------------------------------------- corpus and evaluation


def corpus(paths: Iterable[tuple[str, Path]] = (("ant", ANT_PATH), ("ant_multisource", MULTISOURCE_PATH))) -> Iterator[dict]:
    """Every article of the shared corpora, tagged with its source name."""
    for source, path in paths:
        for record in read_jsonl_gz(path):
            record["source"] = source
            yield record


def read_dev(path: Path) -> list[dict]:
    """The hand-labeled dev lines (docno, labels, primary, source)."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def weak_examples(records: Iterable[dict], dev: list[dict], min_chars: int = 150) -> Iterator[dict]:
    """Weak-labeled examples (ids only) for every article that is not a dev article or its copy."""
    dev_ids = {d["docno"] for d in dev}
    dev_titles: set[str] = set()
    dev_bodies: set[str] = set()
    kept: list[dict] = []
    for record in records:
        if record["docno"] in dev_ids:
            dev_titles.add(title_key(record.get("title") or ""))
            dev_bodies.add(text_hash(record.get("text") or ""))
        else:
            kept.append(record)
    dev_titles.discard("")
    seen_bodies: set[str] = set()
    for record in kept:
        text = (record.get("text") or "").strip()
        if len(text) < min_chars:
            continue
        body = text_hash(text)
        if title_key(record.get("title") or "") in dev_titles or body in dev_bodies or body in seen_bodies:
            continue
        seen_bodies.add(body)
        labels, primary, confidence = weak_label(record.get("title") or "", text)
        yield {
            "docno": record["docno"],
            "source": record["source"],
            "labels": labels,
            "primary": primary,
            "confidence": confidence,
        }


def scores(gold: list[tuple[list[str], str | None]], pred: list[tuple[list[str], str | None]]) -> dict:
    """Micro/macro F1 over the taxonomy's types (OTHER included), per-type P/R/F1, primary accuracy."""
    tp, fp, fn = Counter(), Counter(), Counter()
    primary_hits = primary_total = 0
    for (g_labels, g_primary), (p_labels, p_primary) in zip(gold, pred, strict=True):
        g, p = set(g_labels), set(p_labels)
        for t in TYPES:
            tp[t] += t in g and t in p
            fp[t] += t not in g and t in p
            fn[t] += t in g and t not in p
        if g_primary:
            primary_total += 1
            primary_hits += g_primary == p_primary

    def f1(a: int, b: int, c: int) -> tuple[float, float, float]:
        s = prf(a, b, c)
        return s.precision, s.recall, s.f1

    per_type = {}
    for t in TYPES:
        p, r, f = f1(tp[t], fp[t], fn[t])
        per_type[t] = {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3), "support": tp[t] + fn[t]}
    micro = f1(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    supported = [t for t in TYPES if per_type[t]["support"]]
    return {
        "n": len(gold),
        "micro_f1": round(micro[2], 3),
        "macro_f1": round(sum(per_type[t]["f1"] for t in supported) / len(supported), 3) if supported else 0.0,
        "primary_accuracy": round(primary_hits / primary_total, 3) if primary_total else 0.0,
        "per_type": per_type,
    }


def evaluate(dev_path: Path) -> dict:
    """Rules against the hand labels; also on the random strata alone (the top-ups were cue-retrieved)."""
    from training.events.dev_sample import dev_sample

    dev = read_dev(dev_path)
    by_id = {r["docno"]: r for r in dev_sample()}
    missing = [d["docno"] for d in dev if d["docno"] not in by_id]
    if missing:
        raise SystemExit(f"dev docnos not in the sample: {missing[:5]}")
    result: dict = {}
    for name, keep in (("all", lambda s: True), ("random_strata", lambda s: s == "random")):
        rows = [d for d in dev if keep(by_id[d["docno"]]["stratum"])]
        gold = [(d["labels"], d.get("primary")) for d in rows]
        pred = [weak_label(by_id[d["docno"]].get("title") or "", by_id[d["docno"]].get("text") or "")[:2] for d in rows]
        result[name] = scores(gold, pred)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="write weakly labeled examples (JSONL, ids only)")
    parser.add_argument("--dev", type=Path, default=Path(__file__).parent / "data" / "dev_labels.jsonl",
                        help="dev labels whose docnos (and same-title/body copies) are excluded")
    parser.add_argument("--eval", type=Path, help="score the rules against a dev label file")
    args = parser.parse_args(argv)
    if not args.out and not args.eval:
        parser.error("give --out PATH and/or --eval DEV_FILE")
    if args.eval:
        print(json.dumps(evaluate(args.eval), ensure_ascii=False, indent=1))
    if args.out:
        dev = read_dev(args.dev)
        counts: Counter[str] = Counter()
        with args.out.open("w", encoding="utf-8") as handle:
            for example in weak_examples(corpus(), dev):
                handle.write(json.dumps(example, ensure_ascii=False) + "\n")
                counts[example["source"]] += 1
                counts["primary:" + example["primary"]] += 1
                for label in example["labels"]:
                    counts["label:" + label] += 1
        print(json.dumps({"out": str(args.out), "counts": dict(sorted(counts.items()))}, ensure_ascii=False), file=sys.stderr)


if __name__ == "__main__":
    main()
