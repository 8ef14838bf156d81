"""Arabic normalisation for matching, on real words; quoted text is never touched."""

from __future__ import annotations

import pytest

from corpus.arabic import lexical_tokens, light_stem, normalise


@pytest.mark.parametrize(("raw", "expected"), [
    ("أحمد", "احمد"), ("إسرائيل", "اسراييل"), ("آسيا", "اسيا"), ("ٱلله", "الله"),
    ("مُحَمَّدٌ", "محمد"), ("العربيّة", "العربيه"), ("الـــمـــدرســة", "المدرسه"),
    ("مستشفى", "مستشفي"), ("مدرسة", "مدرسه"), ("مسؤول", "مسوول"), ("رئيس", "رييس"),
    ("٢٠١٨", "2018"), ("۱۳۹۷", "1397"), ("«قال»: نعم!", "قال نعم"), ("COVID-19", "covid 19"),
    ("ﻻ", "لا"), ("\u200fمرحبا\u202e", "مرحبا"), ("کتاب", "كتاب"),
], ids=["hamza-above", "hamza-below", "madda", "wasla", "tashkeel", "shadda", "tatweel", "alef-maqsura",
        "taa-marbuta", "hamza-on-waw", "hamza-on-yeh", "arabic-indic-digits", "persian-digits", "punctuation",
        "latin-lowercase", "presentation-form", "bidi-controls", "persian-kaf"])
def test_normalise_folds_spelling_variants(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_spelling_variants_of_a_headline_match() -> None:
    assert normalise("الإمارات العربيّة المتّحدة تستضيف ٢٠ دولة") == normalise("الامارات العربية المتحدة تستضيف 20 دولة")


@pytest.mark.parametrize(("word", "stem"), [
    ("والمدارس", "مدارس"), ("بالسيارة", "سيار"), ("للطلاب", "طلاب"), ("المعلمون", "معلم"),
    ("الروسية", "روس"), ("كتابها", "كتاب"), ("وقال", "قال"), ("فالحكومة", "حكوم"), ("ولد", "ولد"),
], ids=["wa-al", "bi-al", "lil", "plural-un", "nisba", "pronoun", "conjunction", "fa-al", "too-short"])
def test_light_stem(word: str, stem: str) -> None:
    assert light_stem(normalise(word)) == stem


def test_lexical_tokens_drop_stopwords_and_question_words() -> None:
    assert lexical_tokens("ماذا وعد كيم جونغ أون الجيش الروسي؟") == ["وعد", "كيم", "جونغ", "اون", "جيش", "روس"]
