"""Reader for raw scraped ``.txt`` pages, the shape of the user's seed page.

Such a page is: the title on line 1, then the category word (``أخبار``) and the title again,
body paragraphs separated by blank lines, and the site's navigation at the end (``.``,
``مدونة ومقالات``, ``الطابق العلوي``). We keep title + body and drop the rest, conservatively:
only short lines without sentence punctuation are treated as navigation.
"""

from __future__ import annotations

import re
from pathlib import Path

from corpus.readers.base import UnreadableFile, read_text_file
from corpus.types import Article, stable_article_id

#: Section words that scraped pages print between the title and the body.
CATEGORY_WORDS = frozenset({
    "أخبار", "اخبار", "الأخبار", "سياسة", "اقتصاد", "رياضة", "ثقافة", "تكنولوجيا", "منوعات",
    "عربي", "دولي", "عالمي", "صحة", "فن", "مقالات", "تقارير", "محليات",
})

#: Words that mark a short trailing line as site navigation rather than the article's last line.
NAVIGATION_HINTS = ("مدونة", "مقالات", "الطابق العلوي", "أعلى الصفحة", "الصفحة الرئيسية", "اتصل بنا",
                    "شارك", "تابعنا", "اقرأ أيضا", "اقرأ أيضاً", "المزيد", "حقوق", "جميع الحقوق")

#: A line ending like a sentence. Possessive ``\s*+``: two adjacent ``\s*`` made a line of
#: 60,000 spaces cost 8 s; this is linear, and matches the same lines.
_SENTENCE_END = re.compile(r"[.!؟?…:؛]\s*+[\"»”']?\s*+$")


def read_text_page(path: Path) -> Article:
    """Turn one scraped page into an article (title + body, no navigation).

    Raises:
        UnreadableFile: the file is empty, binary, or has no body after cleaning.
    """
    text = read_text_file(path)
    paragraphs = [line.strip() for line in text.splitlines()]
    paragraphs = [line for line in paragraphs if line]
    if not paragraphs:
        raise UnreadableFile("no text")
    title = paragraphs[0]
    body = paragraphs[1:]
    # Drop the header block: repeated title and category words before the first real paragraph.
    while body and (body[0] == title or body[0] in CATEGORY_WORDS):
        body.pop(0)
    while body and _is_navigation(body[-1]):
        body.pop()
    if not body:
        raise UnreadableFile("page has a title but no body text")
    body_text = "\n".join(body)
    return Article(id=stable_article_id(None, None, title, body_text), title=title, text=body_text)


def _is_navigation(line: str) -> bool:
    """True for a trailing line that is site chrome: punctuation only, or a short unpunctuated label."""
    if not re.search(r"\w", line):
        return True
    words = line.split()
    if len(words) > 6 or _SENTENCE_END.search(line):
        return False
    return len(words) <= 3 or any(hint in line for hint in NAVIGATION_HINTS)
