"""Follow-up questions: does a question lean on the previous turn, and what to search for it then.

A reader who asked "ما قيمة صفقة الغاز التي وقعتها إسرائيل مع مصر؟" goes on with "ومتى؟" or
"وماذا قال وزير الطاقة عنها؟": alone, those find nothing useful. :func:`followup_reason` says
whether a question is such a follow-up; :func:`context_words` picks the previous turn's key words
to add to it, and :func:`make_plan` completes the search plan of :mod:`index.search.plan` (which
every front-end shares) with them. Pure functions over text, no state: :mod:`bot.memory`
remembers the turns, and :mod:`bot.answerer` runs the plan.

Choices:

- **Markers, not a model.** A question is a follow-up when it opens with و/ف before a question
  word, preposition or definite noun ("ومتى؟", "وماذا عن …", "وفي أوروبا؟", "والسعر الرسمي؟"),
  refers back with a demonstrative ("ذلك", "هناك") or a pronoun attached to a preposition
  ("عنها", "فيه"), or is very short (at most :data:`SHORT_QUESTION_WORDS` content words:
  "كم عمرها؟", "من أين جاؤوا؟"). Anything else stands on its own and is searched exactly as asked.
- **Pronouns that point inside the question are not markers.** Arabic repeats a noun as a
  pronoun inside its own sentence: after a relative ("التي غرد بها ترامب"), and in longer
  questions ("كم مقعدا حصل عليه حزب عمران خان …"). So a pronoun on a preposition counts only
  before any relative pronoun and in questions of at most :data:`REFERENCE_QUESTION_WORDS`
  content words, and a pronoun on a noun or verb ("خطيبته", "سراحه") only in questions of at
  most :data:`SUFFIX_QUESTION_WORDS`. A final ة is no pronoun ("بلدية"), ولي is no و + لي.
- **Content words** are the question's words that are not stopwords (``corpus.arabic.stopwords``),
  also once a conjunction (و/ف), a preposition (ب/ل/ك) or an attached pronoun is taken off:
  "ومتى", "بكم" and "بعدها" are not content words, "الغاز" and "عمرها" are.
- **Search with the original words.** The words added are the previous turn's content words as
  the reader (or the article) spelt them, so the model and BM25 see real words; matching and
  de-duplication use the normalised, stemmed form only.
- **Most recent first, bounded.** The previous turn's own words come before what it inherited
  itself, and at most :data:`MAX_CONTEXT_WORDS` are added, so a chain of follow-ups keeps its
  latest subject without drifting.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

from corpus.arabic import lexical_tokens, light_stem, normalise, stopwords
from index.search.plan import SearchPlan, plan_question
from index.search.timeexpr import parse_time

if TYPE_CHECKING:
    from bot.memory import Turn

__all__ = ["MAX_CONTEXT_WORDS", "augment", "content_words", "context_words", "followup_reason"]

#: A question with at most this many content words cannot stand alone ("ومتى؟", "كم عمرها؟").
SHORT_QUESTION_WORDS = 2
#: Pronoun suffixes on nouns and verbs mark a follow-up only up to this many content words.
SUFFIX_QUESTION_WORDS = 4
#: A preposition with a pronoun ("عنها") marks a follow-up only up to this many content words:
#: longer questions use them for their own nouns ("كم مقعدا حصل عليه حزب عمران خان …").
REFERENCE_QUESTION_WORDS = 6
#: Words taken from the previous turn, at most (6 did best of 4-12 on ``tests/data/dialogues_ar.jsonl``).
MAX_CONTEXT_WORDS = 6

#: Demonstratives and place words that point back ("ذلك", "هناك"), normalised.
_DEMONSTRATIVES = frozenset(normalise(w) for w in (
    "ذلك", "تلك", "ذاك", "هذا", "هذه", "هذان", "هاتان", "هؤلاء", "أولئك", "هناك", "هنالك"))
#: Prepositions that take an attached pronoun ("عنها", "فيه", "لديهم").
_PREPOSITIONS = tuple(normalise(w) for w in (
    "عن", "في", "من", "على", "إلى", "ل", "ب", "مع", "لدى", "عند", "بعد", "قبل", "بين", "ضد", "حول", "منذ",
    "خلال", "تجاه", "بحق", "وراء", "دون", "لدي", "علي", "الي"))
#: Pronoun suffixes, longest first (normalised: ة never occurs in them).
_PRONOUNS = ("هما", "هم", "هن", "ها", "ه")
#: Words ending in ه that carry no pronoun (normalised, without conjunction).
_NOT_SUFFIXED = frozenset(normalise(w) for w in (
    "الله", "وجه", "اتجاه", "مياه", "شبه", "انتباه", "اشتباه", "رفاه", "فقه", "نزيه", "تنبيه", "تشابه",
    "كره", "فواكه", "جباه", "مشابه", "متجه", "موجه", "نبيه", "تافه"))
#: Words that open with و but are not و + a word ("ولي العهد", "والد").
_NOT_CONJUNCTION = frozenset(normalise(w) for w in (
    "ولي", "والد", "والدة", "والده", "وال", "وادي", "واحد", "واحدة", "وحدة", "وفد", "ورد", "وقت",
    "وسط", "وضع", "وكيل", "ولد", "وطن", "وزن", "وفق", "وقع", "وعد", "وصل", "ولاية", "واقع", "وكالة"))
_CONJUNCTIONS = ("و", "ف")
_ATTACHED_PREPOSITIONS = ("ب", "ل", "ك")
_DEFINITE = ("ال", "بال", "لل", "كال")
#: Relative pronouns: a pronoun after one of them refers inside the question ("التي غرد بها").
_RELATIVES = frozenset(normalise(w) for w in (
    "الذي", "التي", "الذين", "اللذان", "اللتان", "اللذين", "اللتين", "اللواتي", "اللاتي", "اللائي"))
#: Function words missing from the stopword list (normalised).
_MORE_FUNCTION_WORDS = frozenset(normalise(w) for w in (
    "مم", "عم", "ممن", "عمن", "فيم", "بم", "لم", "لاحقا", "سابقا", "بعدئذ", "حينها", "وقتها", "عندئذ"))
_DIACRITICS = re.compile("[\u064b-\u065f\u0670\u0640]")


def _words(text: str) -> list[str]:
    """The words of ``text`` as written: split at spaces and punctuation, diacritics kept."""
    spaced = "".join(" " if unicodedata.category(char)[0] in "PSZC" and char not in "-'" else char
                     for char in text)
    return [word.strip("-'") for word in spaced.split() if word.strip("-'")]


def _forms(word: str) -> set[str]:
    """A normalised word and what remains once a conjunction, a preposition or a pronoun is taken off."""
    forms = {word}
    for conjunction in _CONJUNCTIONS:
        if word.startswith(conjunction) and len(word) > len(conjunction) + 1 and word not in _NOT_CONJUNCTION:
            forms.add(word[len(conjunction):])
    for form in list(forms):
        for preposition in _ATTACHED_PREPOSITIONS:
            if form.startswith(preposition) and len(form) > len(preposition) + 1:
                forms.add(form[len(preposition):])
    for form in list(forms):
        for pronoun in _PRONOUNS:
            if form.endswith(pronoun) and len(form) > len(pronoun) + 1:
                forms.add(form[:-len(pronoun)])
                break
    return forms


def _is_function_word(normalised: str) -> bool:
    stop = stopwords()
    return any(form in stop or form in _MORE_FUNCTION_WORDS for form in _forms(normalised))


def content_words(text: str) -> list[str]:
    """The words of ``text`` that carry its subject, as written, in order.

    >>> content_words("وبكم أُطلق سراحه بعدها؟")
    ['أُطلق', 'سراحه']
    """
    kept = []
    for word in _words(text):
        folded = normalise(word)
        if folded and not all(_is_function_word(part) for part in folded.split()):
            kept.append(word)
    return kept


def _key(word: str) -> str:
    """Matching form of a word: normalised and light-stemmed."""
    return " ".join(light_stem(part) for part in normalise(word).split())


def _opens_with_conjunction(words: list[str]) -> bool:
    """"ومتى؟", "وماذا عن …", "وفي أوروبا؟", "والسعر الرسمي؟", "فمن قال ذلك؟"."""
    if not words:
        return False
    first = normalise(words[0])
    if first in _NOT_CONJUNCTION or first[:1] not in _CONJUNCTIONS or len(first) < 2:
        return False
    rest = first[1:]
    return _is_function_word(rest) or (rest.startswith(_DEFINITE) and len(rest) > 3)


def _demonstrative(word: str) -> bool:
    """"ذلك", "هناك", "بهذا", "وتلك"."""
    folded = normalise(word)
    forms = {folded} | {folded[len(c):] for c in _CONJUNCTIONS + _ATTACHED_PREPOSITIONS if folded.startswith(c)}
    return bool(forms & _DEMONSTRATIVES)


def _pronoun(word: str) -> str | None:
    """The attached pronoun a word ends with, judged on the written ه (a final ة is no pronoun)."""
    bare = _DIACRITICS.sub("", word)
    return next((pronoun for pronoun in _PRONOUNS if bare.endswith(pronoun)), None)


def _preposition_with_pronoun(word: str) -> bool:
    """"عنها", "فيه", "وعليه", "لديهم", "بها"."""
    pronoun = _pronoun(word)
    if pronoun is None:
        return False
    base = normalise(_DIACRITICS.sub("", word)[:-len(pronoun)])
    return base in _PREPOSITIONS or (base[:1] in _CONJUNCTIONS and base[1:] in _PREPOSITIONS)


def _suffixed(word: str) -> bool:
    """A noun or verb with an attached pronoun ("خطيبته", "عمرها", "رده")."""
    pronoun = _pronoun(word)
    if pronoun is None:
        return False
    folded = normalise(_DIACRITICS.sub("", word))
    if folded[:1] in _CONJUNCTIONS and len(folded) > 3 and folded not in _NOT_CONJUNCTION:
        folded = folded[1:]
    if folded in _NOT_SUFFIXED or folded.removeprefix("ال") in _NOT_SUFFIXED:
        return False
    return len(folded) - len(pronoun) >= 3


def _before_relative(words: list[str]) -> list[str]:
    """The words before the first relative pronoun (a pronoun after it refers inside the question)."""
    for index, word in enumerate(words):
        if normalise(word) in _RELATIVES:
            return words[:index]
    return words


def followup_reason(question: str, without_time: str | None = None) -> str | None:
    """Why ``question`` leans on the previous turn, or None when it stands on its own.

    Args:
        question: The question as asked.
        without_time: The question with its time expressions removed (:mod:`index.search.timeexpr`), where
            markers are looked for, so "هذا" of "هذا الأسبوع" is no demonstrative; default ``question``.
            A question that names a period is short only by its markers: "ماذا حدث أمس؟" asks
            about yesterday, "وماذا حدث أمس؟" follows the previous turn.

    Returns:
        ``"conjunction"``, ``"reference"``, ``"short"`` or ``"suffix"``; None for a standalone question.
    """
    if not _words(question):
        return None  # "؟؟؟" is no question at all, and no context makes it one
    words = _words(question if without_time is None else without_time)
    if _opens_with_conjunction(words):
        return "conjunction"
    count = len(content_words(question))
    leading = _before_relative(words)
    if any(_demonstrative(word) for word in words) or (
            count <= REFERENCE_QUESTION_WORDS and any(_preposition_with_pronoun(word) for word in leading)):
        return "reference"
    if without_time is not None and without_time.strip() != question.strip():
        return None  # a short question naming its own period ("ماذا حدث أمس؟") asks about that period
    if count <= SHORT_QUESTION_WORDS:
        return "short"
    if count <= SUFFIX_QUESTION_WORDS and any(_suffixed(word) for word in content_words(" ".join(leading))):
        return "suffix"
    return None


def context_words(question: str, previous: str, limit: int = MAX_CONTEXT_WORDS) -> list[str]:
    """The previous turn's content words the follow-up ``question`` lacks, as written, at most ``limit``.

    Args:
        question: The follow-up.
        previous: What the previous turn searched (its own words first, then what it inherited).
        limit: Words kept, at most.
    """
    seen = {_key(word) for word in content_words(question)}
    added: list[str] = []
    for word in content_words(previous):
        key = _key(word)
        if key in seen or _demonstrative(word) or _preposition_with_pronoun(word):
            continue
        seen.add(key)
        added.append(word)
        if len(added) == limit:
            break
    return added


def augment(question: str, words: Iterable[str]) -> str:
    """The question followed by the context words (the question keeps its own punctuation)."""
    extra = " ".join(words)
    return f"{question.strip()} {extra}" if extra else question.strip()


# -- the plan of a follow-up ------------------------------------------------------------------------
#
# The constants were set with ``bench/conversation_eval.py`` on ``tests/data/dialogues_ar.jsonl``
# (85 follow-ups, 15 answered by another article than the turn before); ``--ablations`` there shows
# each alternative. They were chosen on that set, with no held-out part: neighbouring values differ
# by a turn or two.

#: A follow-up with at least this many content words of its own names its own subject
#: ("وماذا قال وزير الطاقة الإسرائيلي عنها؟"): it is also searched alone and both rankings are fused.
OWN_SUBJECT_WORDS = 3
#: A passage from the article the previous turn quoted first counts this much more, for follow-ups
#: that lean on the previous turn entirely ("ومتى؟"). Off: on the dialogue set the words added
#: already bring that article first, and 0.25 only cost two follow-ups answered by another article.
PREFER_BONUS = 0.0
#: Articles of the previous turn that get the bonus: the first one shown.
PREFERRED_ARTICLES = 1
#: Choose a follow-up's quotes for its own words rather than for the completed query.
QUOTE_OWN_WORDS = True


def make_plan(question: str, reference: date | None, previous: Turn | None = None, *,
              dialect_rewrite: bool = True) -> SearchPlan:
    """Decide what to search for ``question``: its own plan, completed from ``previous`` if it leans on it.

    Args:
        question: The question as asked.
        reference: "Today" for time words: the archive's newest day (None: no time filtering).
        previous: The turn the question follows (the conversation's last, or the answer it replies
            to); None for a question asked alone.
        dialect_rewrite: Search dialect words as their MSA equivalents.
    """
    alone = plan_question(question, reference, dialect_rewrite=dialect_rewrite)
    reason = followup_reason(alone.question, _without_time(alone.question, reference)) if previous else None
    if previous is None or reason is None:
        return alone
    added = tuple(context_words(alone.query, previous.query, MAX_CONTEXT_WORDS))
    own = own_words(alone.query)
    named = len(content_words(own)) >= OWN_SUBJECT_WORDS
    period = alone.period or (None if alone.latest else previous.period)
    return replace(alone, query=augment(alone.query, added), period=period, followup=reason, context_words=added,
                   prefer=() if named else previous.article_ids[:PREFERRED_ARTICLES], prefer_bonus=PREFER_BONUS,
                   own_words=own if QUOTE_OWN_WORDS or named else "", also_alone=named)


def _without_time(question: str, reference: date | None) -> str:
    """The question with its time words cut, even to nothing (what :func:`followup_reason` judges)."""
    return parse_time(question, reference).question if reference else question


def own_words(question: str) -> str:
    """A follow-up as its quotes should answer it: without an opening و/ف before a function word.

    >>> own_words("ومتى؟")
    'متى؟'
    """
    words = question.split(maxsplit=1)
    if words:
        head = words[0]
        if normalise(head)[:1] in ("و", "ف") and len(normalise(head)) > 2 and not lexical_tokens(head[1:]):
            words[0] = head[1:]
    return " ".join(words)
