"""Everyday dialect words whose MSA equivalent the news uses instead, for *matching* only.

:mod:`corpus.dialect` turns dialect question and function words into MSA, but a reader's content
words are dialect too: «سبيطار» for «مستشفى», «طيارة» for «طائرة», «بوليس» for «شرطة», «فلوس» for
«أموال», «شاف» for «رأى». The archive never spells them that way, so BM25 finds nothing for them
and the embedder (trained mostly on MSA) places the question away from its article.

The table is general vocabulary, grouped by meaning, written from how the dialects are spoken,
not from the misses of one evaluation set (``bench/data/reader_questions.jsonl`` shares some of
these words; README says how much they changed there). Two kinds of entries:

* **replaced**: a word only the dialects use («سبيطار», «طيارة»): the MSA word stands in for it;
* **added** (``keep``): a word that is also MSA with another sense («حكى» "narrated", «نزل»
  "descended", «شد» "pulled"): the MSA word is added next to it, so a wrong guess costs one extra
  query term and a right one matches the article.

An entry applies only to a question that carries an unambiguous dialect word of one of the
entry's dialects (the gate of :func:`corpus.dialect.rewrite_question`; a replaced word of one or
two dialects, «سبيطار», «كويس», is such a word itself): an MSA question, and any quote, are never
touched. Keys are :func:`corpus.arabic.normalise`-d; a form may carry «ال» and
one attached «و/ف/ب/ل/ك».
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from corpus.arabic import normalise

#: The dialect families (:mod:`corpus.dialect` uses the same names; it imports this module).
Dialect = Literal["gulf", "egyptian", "levantine", "maghrebi"]
G: Dialect = "gulf"
E: Dialect = "egyptian"
L: Dialect = "levantine"
M: Dialect = "maghrebi"
ALL: tuple[Dialect, ...] = (G, E, L, M)


@dataclass(frozen=True, slots=True)
class VocabularyEntry:
    """The MSA word(s) for a dialect word, who says it, and whether the dialect form is kept beside."""

    msa: str
    dialects: tuple[str, ...]
    keep: bool = False


def _table(rows: list[tuple[str, str, tuple[str, ...], bool]]) -> dict[str, VocabularyEntry]:
    table: dict[str, VocabularyEntry] = {}
    for forms, msa, dialects, keep in rows:
        for form in forms.split():
            table[normalise(form)] = VocabularyEntry(msa, dialects, keep)
    return table


#: (forms, MSA, dialects, keep the dialect form beside the MSA one).
VOCABULARY: dict[str, VocabularyEntry] = _table([
    # people
    ("بوليس بوليسي بوليسية بوليسيين", "شرطة", (M, E), False),
    ("ظابط ظباط", "ضابط", (E, L), False),
    ("عيال", "أطفال", (G,), True),
    ("ولاد", "أولاد", (E, L, M), False),
    ("راجل رجالة", "رجل", (E, M), False),
    ("مراته مراتو", "زوجته", (E, L), False),
    ("حرمة", "امرأة", (G,), True),
    ("دكتور دكاترة", "طبيب", ALL, True),
    ("لعيب لعيبة لعيبه", "لاعب", (E, G), False),
    # things and places
    ("طيارة طيارات", "طائرة", ALL, False),
    ("طوموبيل طونوبيل طوموبيلات", "سيارة", (M,), False),
    ("طوبيس", "حافلة", (M,), False),
    ("موبايل موبايلات تلفون تليفون تلفونات", "هاتف", ALL, True),
    ("بورطابل", "هاتف", (M,), False),
    ("فلوس مصاري", "أموال", ALL, False),
    ("سبيطار صبيطار سبيطارات", "مستشفى", (M,), False),
    ("اسبتالية مستشفيه", "مستشفى", (E,), False),
    ("دوا", "دواء", ALL, False),
    ("ماتش ماتشات", "مباراة", ALL, False),
    ("كورة", "كرة", (E, L, G), False),
    ("حريقة", "حريق", (M, L), False),
    ("كهربا", "كهرباء", ALL, False),
    ("شغل شغلة", "عمل", (E, L), True),
    # doing, seeing, saying, moving
    ("شاف شافت شافو شافوا يشوف تشوف نشوف يشوفو", "رأى", ALL, False),
    ("جاب جابت جابو جابوا يجيب تجيب", "جلب", ALL, True),
    ("سوى سوت سوو سووا يسوي تسوي", "فعل", (G, L), True),
    ("حكى حكت حكو حكوا يحكي تحكي", "قال", (L,), True),
    ("طاح طاحت طاحو طاحوا طيح طيحو طيحوا يطيح تطيح", "سقط أسقط", (M, G), False),
    ("شد شدو شدوا شدات", "اعتقل", (M,), True),
    ("خلص خلصو خلصوا يخلص تخلص", "دفع", (M,), True),
    ("مشى مشات مشاو", "ذهب", (M,), True),
    ("نزل نزلت", "انخفض", (E, L, G), True),
    ("اتجوز اتجوزت اتجوزو اتجوزوا", "تزوج", (E,), False),
    ("اتقتل اتقتلو اتقتلوا", "قتل", (E, L), False),
    ("اتسرق اتسرقت", "سرق", (E, L), False),
    ("زعلان زعلانة", "غاضب", (E, L, G), False),
    # amounts and numbers spelt with ت for ث
    ("اتنين تنين", "اثنين", (E, L), False),
    ("جوج", "اثنين", (M,), False),
    ("تلات تلاتة تلاته", "ثلاثة", (E, L), False),
    ("تلاتين", "ثلاثين", (E, L), False),
    ("تمن تمانية", "ثمانية", (E, L), False),
    ("تلت", "ثلث", (E, L), True),
    ("اكتر", "أكثر", (E, L), False),
    ("شوية شوي شويا", "قليل", ALL, False),
    # good, bad
    ("كويس كويسة", "جيد", (E,), False),
    ("مزيان مزيانة", "جيد", (M,), False),
    ("منيح منيحة", "جيد", (L,), False),
])

#: One-letter prefixes a dialect word may carry (and, so, with/in, to, like), before «ال» or not.
_PREFIXES = "وفبلك"


def vocabulary_entry(key: str) -> VocabularyEntry | None:
    """The entry of a normalised token: as is, or without «ال» and one attached one-letter prefix."""
    for candidate in (key, key[1:] if len(key) > 3 and key[0] in _PREFIXES else ""):
        if not candidate:
            continue
        if candidate in VOCABULARY:
            return VOCABULARY[candidate]
        if candidate.startswith("ال") and candidate[2:] in VOCABULARY:
            return VOCABULARY[candidate[2:]]
    return None
