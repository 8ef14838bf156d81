"""Dialect-aware question rewriting for *matching* only (never applied to what is quoted).

Readers ask in Gulf, Egyptian, Levantine and Maghrebi Arabic, while the archive is written in MSA.
On the lexical side the dialect question words («وش»، «شو»، «إيه»، «شنو»، «ليش»، «فين»…) and function
words («اللي»، «ديال»، «بدو»، «عايز»…) are not stopwords, so they weigh on BM25 while the content words
are the only ones the article shares; verb prefixes («بيفتحون»، «هتفتح»، «عم تبحث»، «رح يسكروا»،
«كتدوم») hide a verb that the article spells without them. :func:`rewrite_question` therefore

1. maps dialect question and function words to their MSA equivalents (table-driven, on the
   :func:`corpus.arabic.normalise`-d form, so «إمتى», «امتى» and «امتي» are one key);
2. strips dialect verb prefixes («ب»/«ه»/«ح»/«ك» + an imperfect ي/ت/ن) and drops the separate
   particles «عم»، «رح»، «غادي»… when they stand before a verb;
3. reports the question type (what/why/where/when/how_much/who/how/yes_no) for the query planner.

The choices that keep real words safe: prefix stripping runs only when the question carries an
unambiguous dialect word (so an MSA question is never touched), only when what is left still looks
like an imperfect verb (ي/ت/ن + ≥ 2 letters), and never on a list of words whose first letter is a
root letter («بيروت»، «هيئة»، «بيانات»، «هناك»، «كتاب»…). Words that are also MSA («يلي» "follows",
«عم» "uncle", «راح» "went", «ايه» from «أية») are *weak*: rewritten only when a strong dialect word is
present. Attached «ب»/«ف» meaning «في» cannot be told from a root letter without a lexicon, so the
bare word is *added* next to the original («بعفرين» → «بعفرين عفرين»): the lexical side ignores a
form the index never saw, and the right one now matches.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

from corpus.arabic import normalise
from corpus.dialect_vocabulary import ALL as _ALL
from corpus.dialect_vocabulary import Dialect, E, G, L, M, vocabulary_entry

QuestionType = Literal["what", "why", "where", "when", "how_much", "who", "how", "yes_no"]

#: Order that breaks ties when guessing the dialect; Maghrebi last, as its own words rarely tie.
_DIALECT_ORDER: tuple[Dialect, ...] = (E, L, G, M)


@dataclass(frozen=True)
class _Entry:
    msa: str  # replacement surface ("" drops the word)
    kind: str  # question | relative | genitive | negation | want | particle | function | verb
    dialects: tuple[str, ...]
    qtype: QuestionType | None = None
    weak: bool = False  # also an MSA word: rewritten only when a strong dialect word is present


def _table(rows: list[tuple[str, str, str, tuple[str, ...], QuestionType | None, bool]]) -> dict[str, _Entry]:
    table: dict[str, _Entry] = {}
    for words, msa, kind, dialects, qtype, weak in rows:
        for word in words.split():
            table[normalise(word)] = _Entry(msa, kind, dialects, qtype, weak)
    return table


def _normalised_set(words: str) -> frozenset[str]:
    return frozenset(normalise(word) for word in words.split())


#: Single dialect words, keyed by their normalised form.
WORDS: dict[str, _Entry] = _table([
    # question words
    ("وش ويش", "ماذا", "question", (G,), "what", False),
    ("ايش إيش", "ماذا", "question", (G, L), "what", False),
    ("شو شنو", "ماذا", "question", (L, G, M), "what", False),
    ("شنهو اشنو آش أش اش", "ماذا", "question", (M,), "what", False),
    ("إيه", "ماذا", "question", (E,), "what", True),  # also MSA «أية»/«آية» after folding
    ("ليش لويش لشو", "لماذا", "question", (G, L), "why", False),
    ("ليه", "لماذا", "question", (E,), "why", False),
    ("علاش لاش علياش", "لماذا", "question", (M,), "why", False),
    ("وين وينه وينها", "أين", "question", (G, L), "where", False),
    ("فين فينه فينها", "أين", "question", (E, M), "where", False),
    ("منين", "من أين", "question", (L, E, M), "where", False),
    ("امتى إمتى امتا", "متى", "question", (E, M, L), "when", False),
    ("أيمتى ايمتى إيمتى", "متى", "question", (L,), "when", False),
    ("وقتاش", "متى", "question", (M,), "when", False),
    ("قديش قداش بقديش", "كم", "question", (L,), "how_much", False),
    ("شحال", "كم", "question", (M,), "how_much", False),
    ("كام بكام", "كم", "question", (E,), "how_much", False),
    ("مين", "من", "question", (E, L), "who", False),
    ("منو", "من", "question", (G,), "who", False),
    ("شكون اشكون", "من", "question", (M,), "who", False),
    ("شلون اشلون", "كيف", "question", (G,), "how", False),
    ("ازاي إزاي", "كيف", "question", (E,), "how", False),
    ("كيفاش كيفش", "كيف", "question", (M,), "how", False),
    ("اشمن أشمن", "أي", "question", (M,), "what", False),
    ("انهي إنهي", "أي", "question", (E,), "what", False),
    ("واش", "هل", "question", (M,), "yes_no", False),
    # relatives, genitives, negation, wanting
    ("اللي إللي", "الذي", "relative", _ALL, None, False),
    ("يلي", "الذي", "relative", (L,), None, True),  # MSA «يلي» "follows"
    ("ديال ديالو ديالها ديالهم ديالك ديالنا متاع متاعو", "", "genitive", (M,), None, False),  # not ديالي: Diyala
    ("بتاع بتاعت بتوع", "", "genitive", (E,), None, False),
    ("تبعو تبعها تبعهم", "", "genitive", (L,), None, False),
    ("تبع", "", "genitive", (L,), None, True),  # MSA «تبع» "followed"
    ("مش موش", "ليس", "negation", (E, L), None, False),
    ("مب مهب", "ليس", "negation", (G,), None, False),
    ("مو", "ليس", "negation", (G, L), None, True),
    ("ماشي", "ليس", "negation", (M,), None, True),  # Egyptian "okay", MSA "walking"
    ("مافي مافيش مفيش ماكاينش", "لا يوجد", "negation", _ALL, None, False),
    ("كاين كاينة كاينين", "يوجد", "function", (M,), None, False),
    ("بدو بدها بدي بدهم بدك بدنا", "يريد", "want", (L,), None, False),
    ("يبي تبي يبون تبون يبغى تبغى ابغى", "يريد", "want", (G,), None, False),
    ("عايز عايزة عايزين عاوز عاوزة عاوزين", "يريد", "want", (E,), None, False),
    ("بغا بغات بغيت بغينا بغاو", "يريد", "want", (M,), None, False),
    # other function words
    ("عشان علشان", "لأن", "function", (G, E), None, False),
    ("لانو لأنو", "لأن", "function", (L,), None, False),
    ("حيت", "لأن", "function", (M,), None, False),
    ("مشان منشان", "لكي", "function", (L,), None, False),
    ("باش", "لكي", "function", (M,), None, False),
    ("هلق هلأ هسه هسا", "الآن", "function", (L, G), None, False),
    ("الحين", "الآن", "function", (G,), None, False),
    ("دلوقتي دلوقت", "الآن", "function", (E,), None, False),
    ("دابا", "الآن", "function", (M,), None, False),
    ("كتير", "كثير", "function", (L, E), None, False),
    ("وايد واجد", "كثير", "function", (G,), None, False),
    ("بزاف برشا", "كثير", "function", (M,), None, False),
    ("كمان برضه برضو", "أيضا", "function", (L, E), None, False),
    ("هاد هادا هادي", "هذا", "function", (M,), None, False),
    ("هيدا هيدي", "هذا", "function", (L,), None, False),
    ("هذي", "هذه", "function", (G,), None, False),
    ("ده", "هذا", "function", (E,), None, True),
    ("زي", "مثل", "function", (E, L), None, True),
    ("ملي", "عندما", "function", (M,), None, True),
    ("لازم", "يجب", "function", (L, E, G), None, True),
    ("ع", "على", "function", (L, G), None, True),
    ("ف", "في", "function", (M,), None, False),
    # a few very common verbs whose dialect spelling differs from MSA
    ("خد اخد خدا", "أخذ", "verb", (E, L, M), None, False),
    ("عطى عطا", "أعطى", "verb", (G, L, M), None, False),
])

#: Two-word phrases (normalised) rewritten as a unit.
PHRASES: dict[tuple[str, str], _Entry] = {
    ("قد", "ايه"): _Entry("كم", "question", (E,), "how_much"),
    ("شحال", "من"): _Entry("كم", "question", (M,), "how_much"),
    ("من", "امتي"): _Entry("منذ متى", "question", (E, M, L), "when"),
    ("من", "ايمتي"): _Entry("منذ متى", "question", (L,), "when"),
    ("من", "متي"): _Entry("منذ متى", "question", (G,), "when"),
    ("عشان", "ايه"): _Entry("لماذا", "question", (E,), "why"),
}

#: Separate particles dropped before a verb: progressive and future markers, and Maghrebi «خاص».
PARTICLES: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "عم": ("", (L,), True), "رح": ("", (L,), False), "راح": ("", (L, G), True), "ح": ("", (E,), False),
    "حا": ("", (E,), False), "ه": ("", (E,), False), "غادي": ("", (M,), False), "غاديه": ("", (M,), False),
    "غا": ("", (M,), False), "قاعد": ("", (G,), True), "قاعده": ("", (G,), True), "خاص": ("يجب", (M,), True),
}

#: Attached verb prefixes: letter → (dialects that use it, Maghrebi-only?).
_VERB_PREFIXES = {"ب": ((G, E, L), False), "ه": ((E,), False), "ح": ((E, L), False), "ك": ((M,), True)}
_IMPERFECT = "يتن"

#: Words whose first letter is a root letter although the rest looks like an imperfect verb.
NOT_PREFIXED = _normalised_set("""
    بيروت بيان بيانات بينما بيونغ بيونغيانغ بنغازي بنزين بترول بتروكيماويات بتروناس بتكوين بيتكوين
    بنتاغون بيلاروسيا بيرو بيتزي بيكيه بيير بيتر بينالي بنيامين بنجامين بيزنس بيتزا بيكاسو بيرلو بيليه
    بيلي بيريز بيرنلي بيتيس بنفيكا بنين بنما بنغلاديش بنسلفانيا بيانكونيري بيانيتش بيونغتشانغ بيئة
    بيئية بيئات بنات بنود بيوت بيعه بنوك بنيان بناية بنايات بيطري بيولوجي بيولوجية بيزنطي بتاتا
    بيجامة بنطلون بنفسج بندقية بنادق بيانو بيضاء بيكهام بيلوسي بيوغرافيا بنى بنت بتعاون
    هيئة هيئات هيكل هيكلة هيمنة هيلاري هيلاس هيوستن هيروين هيونداي هيثم هتاف هتافات هناك هنود هندسة
    هندي هندية هنري هنغاريا هيام هيبة هينة هيرو هيتشكوك هيرناندز هيغواين هيمنت
    حيوان حيوانات حيوية حيثيات حينها حينما حياتي حياته حياتها حياتهم حيازة حيازته حيادي حيادية
    حتمية حيدر حنين حنان حيفا حيال حيتان حيرة حينئذ
    كتاب كتابة كتابه كتيبة كتائب كتيبات كنيسة كنائس كينيا كيني كتالونيا كتالوني كيلو كيلومتر
    كيلومترات كيلوغرام كيلوغرامات كيماوي كيماوية كيميائي كيميائية كيان كيانات كنيست كنتاكي كينشاسا
    كيوتو كتلة كتل كنوز كيبيك كيم كيف كيفية كتف كينغ كيسنجر كيري كيليان كيروش كتارا
    هتلر هنية هناء هيفاء هيلين حياة حتما حتمي كندا كندي كندية
""")


def _not_prefixed(key: str) -> bool:
    """Whether a word's first letter is a root letter (a listed word, or one of ≥ 4 letters plus a suffix)."""
    return key in NOT_PREFIXED or any(key.startswith(word) for word in _LONG_NOT_PREFIXED)


_LONG_NOT_PREFIXED = tuple(word for word in NOT_PREFIXED if len(word) >= 4)

#: Words that open with «عال» but are not «ع» + «ال».
_NOT_ALA = _normalised_set("عالم عالمي عالمية عالميا عالمين عالمه عالمها عالمنا")

_PLACE_NOUNS = _normalised_set("مدينة بلد دولة مكان منطقة مدينه بلاد ولاية جزيرة")
_TIME_NOUNS = _normalised_set("يوم تاريخ سنة عام شهر وقت ساعة")
_MSA_QUESTIONS: dict[str, QuestionType] = {
    "ماذا": "what", "لماذا": "why", "اين": "where", "متي": "when", "كم": "how_much", "كيف": "how", "هل": "yes_no",
    # with an attached preposition or conjunction: «بكم بيعت…» asks a price, «ومتى؟», «فأين؟», «منذ متى»
    "بكم": "how_much", "وكم": "how_much", "فكم": "how_much", "ومتي": "when", "فمتي": "when",
    "واين": "where", "فاين": "where", "ولماذا": "why", "فلماذا": "why", "وكيف": "how", "فكيف": "how",
    "وماذا": "what", "فماذا": "what", "وهل": "yes_no", "فهل": "yes_no",
}


@dataclass(frozen=True)
class DialectWord:
    """One dialect form found in a question.

    Attributes:
        surface: the form as seen, normalised (two words for a phrase).
        msa: what it was rewritten to ("" when dropped; the bare word for an added variant).
        kind: question, relative, genitive, negation, want, particle, function, verb, verb_prefix,
            preposition, vocabulary (a content word, :mod:`corpus.dialect_vocabulary`).
        dialects: the dialect families that use this form.
    """

    surface: str
    msa: str
    kind: str
    dialects: tuple[str, ...]


@dataclass(frozen=True)
class RewrittenQuestion:
    """A question rewritten for matching, with what the query planner needs.

    Attributes:
        original: the question as the reader typed it (what is shown and quoted against).
        text: the rewritten question: MSA function words, bare verbs, unchanged words kept as typed.
        question_type: what/why/where/when/how_much/who/how/yes_no.
        dialect: the most likely dialect family, or "msa" when no dialect word was seen.
        words: every dialect form seen, in order.
    """

    original: str
    text: str
    question_type: QuestionType
    dialect: str
    words: tuple[DialectWord, ...]

    @property
    def normalised(self) -> str:
        """The rewritten text in :func:`corpus.arabic.normalise` form."""
        return normalise(self.text)


def _tokens(text: str) -> list[str]:
    """Whitespace/punctuation tokens of ``text`` as typed (diacritics stay inside their word)."""
    cleaned = "".join(" " if unicodedata.category(c)[0] in "PSZ" or unicodedata.category(c) in ("Cc", "Cf")
                      else c for c in unicodedata.normalize("NFKC", text))
    return cleaned.split()


def _lookup(key: str) -> tuple[str, _Entry] | None:
    """The dialect entry for a normalised token, allowing one attached و/ف/ل/ب before a question word."""
    if key in WORDS:
        return "", WORDS[key]
    if len(key) > 2 and key[0] in "وفلب" and key[1:] in WORDS and WORDS[key[1:]].kind == "question":
        return key[0], WORDS[key[1:]]
    return None


def _strong_dialects(keys: list[str]) -> dict[str, float]:
    """Votes per dialect family from the unambiguous dialect words of a question.

    A word shared by n families gives each 1/n, so «اللي» (all four) weighs less than «شحال».
    """
    votes: dict[str, float] = {}

    def vote(dialects: tuple[str, ...]) -> None:
        for dialect in dialects:
            votes[dialect] = votes.get(dialect, 0.0) + 1 / len(dialects)

    for index, key in enumerate(keys):
        pair = (key, keys[index + 1]) if index + 1 < len(keys) else None
        if pair in PHRASES:
            vote(PHRASES[pair].dialects)
        found = _lookup(key)
        if found and (not found[1].weak or _weak_counts(keys, index)):
            vote(found[1].dialects)
        elif key in PARTICLES and not PARTICLES[key][2] and _verb_like(keys, index + 1):
            vote(PARTICLES[key][1])
        elif _dialect_verb(key):
            vote(_VERB_PREFIXES[key[0]][0])
        elif (entry := vocabulary_entry(key)) is not None and not entry.keep and entry.dialects != _ALL:
            vote(entry.dialects)  # «سبيطار», «كويس»: a word of one or two dialects only
    return votes


def _dialect_verb(key: str) -> bool:
    """A prefixed verb with a dialect plural ending («بيفتحون»، «هيعملوا»): a dialect word by itself."""
    return (len(key) >= 6 and key[0] in "به" and key.endswith(("ون", "وا"))
            and _strip_verb_prefix(key, maghrebi=False) is not None)


def _weak_counts(keys: list[str], index: int) -> bool:
    """Whether a word that is also MSA is used the dialect way here.

    Egyptian «ايه» ends the question or comes before «اللي»/«ده» (MSA «أية» comes before a noun);
    Levantine «يلي» follows a noun (MSA «يلي» follows «كما»/«ما»/«فيما»).
    """
    key = keys[index]
    if key == "ايه":
        return index + 1 == len(keys) or keys[index + 1] in ("اللي", "ده", "دي", "هو", "هي")
    if key == "يلي":
        return index > 0 and keys[index - 1] not in ("كما", "ما", "فيما", "مما", "بما", "وفيما")
    return False


def _verb_like(keys: list[str], index: int) -> bool:
    """Whether the token at ``index`` looks like an imperfect verb (ي/ت/ن/ا + ≥ 2 letters)."""
    return index < len(keys) and len(keys[index]) >= 3 and keys[index][0] in _IMPERFECT + "ا"


def _strip_verb_prefix(key: str, maghrebi: bool) -> str | None:
    """The verb under a dialect prefix («بيفتحون» → «يفتحون»), or None when the word is not prefixed."""
    if len(key) < 4 or key[0] not in _VERB_PREFIXES or _not_prefixed(key):
        return None
    _, maghrebi_only = _VERB_PREFIXES[key[0]]
    if maghrebi_only and not maghrebi:
        return None
    rest = key[1:]
    return rest if rest[0] in _IMPERFECT and len(rest) >= 3 else None


def _negated_verb(key: str) -> str | None:
    """The verb inside the «ما…ش» negation («ماقدراش» → «قدرا»)."""
    if len(key) >= 6 and key.startswith("ما") and key.endswith("ش"):
        return key[2:-1]
    return None


def guess_dialect(question: str) -> str:
    """The most likely dialect family of a question, or "msa" when it has no strong dialect word.

    Args:
        question: the question as typed, or already normalised.

    Returns:
        "gulf", "egyptian", "levantine", "maghrebi" or "msa".
    """
    return _best(_strong_dialects([normalise(t) for t in _tokens(question) if normalise(t)]))


def rewrite_question(question: str) -> RewrittenQuestion:
    """Rewrite a question for matching: dialect words to MSA, verb prefixes off, question type found.

    Never use the result for quoting: it changes the reader's words. A question without dialect
    words comes back exactly as typed; a rewritten one loses its punctuation but its final «؟».

    Args:
        question: the question as typed, or already normalised.

    Returns:
        The rewritten text, the question type, the dialect guess and the dialect forms seen.
    """
    surfaces = [t for t in _tokens(question) if normalise(t)]
    keys = [normalise(t) for t in surfaces]
    votes = _strong_dialects(keys)
    dialect = _best(votes)
    gated, maghrebi = bool(votes), dialect == M
    out: list[str] = []
    seen: list[DialectWord] = []
    qtype: QuestionType | None = None
    index = 0
    while index < len(keys):
        key, surface = keys[index], surfaces[index]
        pair = (key, keys[index + 1]) if index + 1 < len(keys) else None
        if pair in PHRASES:
            entry = PHRASES[pair]
            out.append(entry.msa)
            seen.append(DialectWord(" ".join(pair), entry.msa, entry.kind, entry.dialects))
            qtype = qtype or entry.qtype
            index += 2
            continue
        found = _lookup(key)
        if found and (gated or not found[1].weak) and not (key == "ف" and not maghrebi):
            entry = found[1]  # an attached و/ف/ل/ب before a question word goes with it
            out.append(entry.msa)
            seen.append(DialectWord(key, entry.msa, entry.kind, entry.dialects))
            qtype = qtype or _type_of(entry.qtype, keys, index)
        elif gated and key in PARTICLES and _verb_like(keys, index + 1):
            msa, dialects, _ = PARTICLES[key]
            out.append(msa)
            seen.append(DialectWord(key, msa, "particle", dialects))
        elif maghrebi and key == "لي" and index + 1 < len(keys):
            out.append("الذي")
            seen.append(DialectWord(key, "الذي", "relative", (M,)))
        else:
            # a weak question word («ايه») still tells the type when it was not rewritten
            qtype = qtype or (found[1].qtype if found else _msa_type(keys, index))
            word = _vocabulary_word(key, surface, dialect, seen) if gated else None
            if word is None:
                word = _rewrite_word(key, surface, gated, maghrebi, seen)
                if gated and word != surface and " " not in word:  # «بيشوف» → «يشوف», itself a dialect verb
                    word = _vocabulary_word(normalise(word), word, dialect, seen) or word
            out.append(word)
        index += 1
    # an MSA question is given back as typed, so the embedder sees exactly the same text
    text = " ".join(word for word in out if word) if seen else question.strip()
    if seen and question.rstrip().endswith(("؟", "?")):
        text += "؟"
    return RewrittenQuestion(question, text, qtype or "yes_no", dialect, tuple(seen))


def _rewrite_word(key: str, surface: str, gated: bool, maghrebi: bool, seen: list[DialectWord]) -> str:
    """One content word: strip a dialect verb prefix, or add the bare word under «ب»/«ف»/«ع»."""
    if not gated or _not_prefixed(key):
        return surface
    verb = _strip_verb_prefix(key, maghrebi)
    if verb is not None:
        seen.append(DialectWord(key, verb, "verb_prefix", _VERB_PREFIXES[key[0]][0]))
        return verb
    if maghrebi and (negated := _negated_verb(key)) is not None:
        seen.append(DialectWord(key, "لا " + negated, "negation", (M,)))
        return "لا " + negated
    if key.startswith("عال") and len(key) >= 6 and key not in _NOT_ALA and not key.startswith(("عالي", "عالق", "عالج")):
        seen.append(DialectWord(key, "على " + key[1:], "preposition", (L, G)))
        return "على " + (surface[1:] if normalise(surface[1:]) == key[1:] else key[1:])
    if key[0] in ("بف" if maghrebi else "ب") and len(key) >= 4 and not key[1:].startswith(("ال", "ي")):
        seen.append(DialectWord(key, key[1:], "preposition", (M,) if key[0] == "ف" else (G, L, M)))
        return f"{surface} {key[1:]}"
    return surface


def _vocabulary_word(key: str, surface: str, dialect: str, seen: list[DialectWord]) -> str | None:
    """A content word of the question's dialect («سبيطار») as the MSA the news uses, or None.

    Only the guessed dialect's words: Maghrebi «خلص» pays, Egyptian and Levantine «خلص» finishes.
    """
    entry = vocabulary_entry(key)
    if entry is None or dialect not in entry.dialects:
        return None
    seen.append(DialectWord(key, entry.msa, "vocabulary", entry.dialects))
    return f"{surface} {entry.msa}" if entry.keep else entry.msa


def _type_of(qtype: QuestionType | None, keys: list[str], index: int) -> QuestionType | None:
    """The type of a dialect question word; «أي»-like words look at the noun after them."""
    if qtype == "what" and WORDS.get(keys[index], _Entry("", "", ())).msa == "أي" and index + 1 < len(keys):
        return _which(keys[index + 1])
    return qtype


def _which(noun: str) -> QuestionType:
    """«أي مدينة» asks where, «أي يوم» asks when, any other «أي» asks what."""
    bare = noun[2:] if noun.startswith("ال") else noun
    if bare in _PLACE_NOUNS:
        return "where"
    return "when" if bare in _TIME_NOUNS else "what"


def _msa_type(keys: list[str], index: int) -> QuestionType | None:
    """The type an MSA question word gives, or None for a word that asks nothing."""
    key = keys[index]
    if key in _MSA_QUESTIONS:
        return _MSA_QUESTIONS[key]
    if key in ("اي", "باي", "لاي") and index + 1 < len(keys):
        return _which(keys[index + 1])
    if index == 0 and key in ("ما", "ماهو", "ماهي"):
        return "what"
    if index == 0 and key == "من":
        return "who"
    return None


def _best(votes: dict[str, float]) -> str:
    if not votes:
        return "msa"
    best = max(votes.values())
    return next(d for d in _DIALECT_ORDER if votes.get(d) == best)


def question_type(question: str) -> QuestionType:
    """The question type of an MSA or dialect question (the first question word decides).

    A question with no question word («عمران خان اخد اغلبية ولا لا؟») is a yes/no question.
    """
    return rewrite_question(question).question_type


def dialect_words(question: str) -> list[DialectWord]:
    """The dialect forms a question uses, in order, with what each is rewritten to for matching."""
    return list(rewrite_question(question).words)


def matching_text(question: str) -> str:
    """The question rewritten for matching (the text to give BM25 and the embedder)."""
    return rewrite_question(question).text
