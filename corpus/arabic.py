"""Arabic normalisation for *matching* (queries and the lexical index), never for what is quoted.

Written text varies in ways that do not change a word: diacritics (tashkeel) and tatweel are
optional, alef is written أ إ آ ٱ or bare ا, final ى/ي and ة/ه are interchanged, hamza sits on
different carriers, digits come as Arabic-Indic (٠١٢), Persian (۰۱۲) or ASCII. We fold each
class to one form, table-driven, so ``الإمارات`` matches ``الامارات``. On top, a light stemmer
(in the spirit of Larkey's light10, written from its published affix lists) strips the article
and attached conjunctions/prepositions and common suffixes for the lexical index only.
Both steps are lossy on purpose; quotes are always cut from the original article text.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import regex

#: Diacritics (harakat, tanwin, shadda, sukun, dagger alef, Quranic marks) and tatweel: removed.
_REMOVED = (
    [chr(c) for c in range(0x064B, 0x0660)]
    + ["\u0670", "\u0640"]
    + [chr(c) for c in range(0x06D6, 0x06EE)]
)

#: One form per letter class.
_LETTER_FOLDS = {
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ٲ": "ا", "ٳ": "ا",  # alef forms
    "ى": "ي", "ی": "ي", "ې": "ي",  # alef maqsura, Persian/Urdu yeh
    "ة": "ه", "ۀ": "ه", "ە": "ه",  # taa marbuta
    "ؤ": "و", "ئ": "ي",  # hamza on waw / yeh carriers
    "ک": "ك", "ڪ": "ك",  # Persian/Swash kaf
    "گ": "ك",
}

#: Arabic-Indic and Persian (Eastern Arabic-Indic) digits to ASCII.
_DIGITS = {chr(0x0660 + i): str(i) for i in range(10)} | {chr(0x06F0 + i): str(i) for i in range(10)}

_TABLE = str.maketrans({**{char: None for char in _REMOVED}, **_LETTER_FOLDS, **_DIGITS})

#: Bidi controls, zero-width characters and BOM: invisible, never part of a word.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u00ad]")
_SPACES = re.compile(r"\s+")


#: Punctuation, symbols, separators and control/format characters (Unicode categories P*, S*, Z*,
#: Cc, Cf) become spaces. One compiled pattern: a Python loop over every character cost ~1.5 ms
#: of each search over the archive (normalising the quoted chunks' sentences).
_PUNCTUATION = regex.compile(r"[\p{P}\p{S}\p{Z}\p{Cc}\p{Cf}]")


def normalise(text: str) -> str:
    """Fold Arabic text to its matching form (never applied to what is quoted).

    No diacritics, one alef, ي/ه finals, ASCII digits, punctuation turned into spaces, Latin
    lower-cased, white space collapsed.

    >>> normalise("الإمارات العربيّة المتّحدة ٢٠١٨!")
    'الامارات العربيه المتحده 2018'
    """
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text).translate(_TABLE)
    text = _PUNCTUATION.sub(" ", text).lower()
    return _SPACES.sub(" ", text).strip()


#: Prefixes of the definite article with attached conjunctions/prepositions, longest first.
PREFIXES = ("وبال", "وكال", "وال", "بال", "كال", "فال", "لل", "ال", "و")
#: Common suffixes (pronouns, dual/plural, feminine, nisba), longest first; applied once.
SUFFIXES = ("هما", "كما", "تان", "تين", "ها", "ان", "ات", "ون", "ين", "يه", "يا", "ه", "ي")

#: Shortest stem a strip may leave: shorter results are usually a different word.
_MIN_STEM = 2


@lru_cache(maxsize=1 << 17)
def light_stem(token: str) -> str:
    """Strip one prefix and one suffix from a normalised Arabic token, keeping ≥ 2 letters.

    Cached: a news vocabulary repeats, and stemming the words of every quoted sentence cost ~2 ms
    of each search over the archive (a pure function of the token, so the cache cannot go stale).

    >>> light_stem("والمدارس")
    'مدارس'
    """
    if not token or not ("\u0600" <= token[0] <= "\u06ff"):
        return token
    for prefix in PREFIXES:
        if token.startswith(prefix) and len(token) - len(prefix) >= _MIN_STEM + (1 if prefix == "و" else 0):
            token = token[len(prefix):]
            break
    for suffix in SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= _MIN_STEM + 1:
            token = token[: -len(suffix)]
            break
    return token


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """Arabic stopwords (stopwordsiso, MIT) in normalised form, plus common question words."""
    import stopwordsiso

    words = set(stopwordsiso.stopwords("ar")) | {
        "ما", "ماذا", "من", "متى", "اين", "كيف", "كم", "لماذا", "هل", "اي", "التي", "الذي", "الذين",
    }
    return frozenset(normalise(word) for word in words)


def lexical_tokens(text: str) -> list[str]:
    """Tokens for the lexical (BM25) index: normalised, stopwords removed, light-stemmed."""
    stop = stopwords()
    return [light_stem(word) for word in normalise(text).split() if word not in stop]
