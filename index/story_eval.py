"""Story-level scoring of reader questions: a hit is any article of the story that answers it.

Several outlets report one event, so a reader is served by *any* of them, and two copies of the
same story in the top 3 leave one place fewer for a different story. The scores here therefore
count **stories**, not articles:

* the gold articles of a question form one story: whichever comes first is the hit, the others
  are not counted again;
* walking down a ranking, an article whose story was already seen does not take a new place, so
  R@3 means "the answer is among the first three *different* stories". Without a story map each
  non-gold article is its own story unless the index grouped it with others (:mod:`index.build.stories`);
* a ranked place may hold several ids (the article shown and the ones collapsed into it as "also
  reported by"): it is a hit when any of them is gold.

Metrics: R@1, R@3, MRR@10 per dialect and overall, and the largest gap between a dialect's R@1
and its MSA twins'. Also here: the reader-question loader and the three pools the set is scored
on (300 / 3,000 / 29,916 articles), defined deterministically so every run sees the same articles.
Pure Python: no model, no index.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

#: A ranked place: one article id, or the shown article followed by the copies collapsed into it.
Place = str | Sequence[str]
PoolName = Literal["300", "3000", "full"]

if TYPE_CHECKING:
    from index.search.retriever import Retriever

DIALECTS = ("msa", "gulf", "egyptian", "levantine", "maghrebi")
READER_QUESTIONS = Path(__file__).resolve().parents[1] / "bench" / "data" / "reader_questions.jsonl"
POOL_SEED = 18
POOL_3000 = 3000


@dataclass(frozen=True, slots=True)
class ReaderQuestion:
    """One hand-written reader question of ``bench/data/reader_questions.jsonl``."""

    qid: str
    need_id: str
    dialect: str
    question: str
    gold_article_ids: tuple[str, ...]
    source_article_id: str
    answer_hint: str


@dataclass(frozen=True, slots=True)
class StoryScores:
    """Story-level scores of one group of questions."""

    questions: int
    r_at_1: float
    r_at_3: float
    mrr_at_10: float

    def as_dict(self) -> dict[str, float | int]:
        """Plain values for JSON."""
        return asdict(self)


def load_reader_questions(path: Path = READER_QUESTIONS) -> list[ReaderQuestion]:
    """Read the reader-question set, checking what the scoring relies on.

    Raises:
        ValueError: a line lacks a field, has an unknown dialect or no gold article, a qid repeats,
            or the source article is not among the gold ones.
    """
    questions: list[ReaderQuestion] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        try:
            item = ReaderQuestion(str(row["qid"]), str(row["need_id"]), str(row["dialect"]), str(row["question"]),
                                  tuple(str(g) for g in row["gold_article_ids"]), str(row["source_article_id"]),
                                  str(row["answer_hint"]))
        except KeyError as missing:
            raise ValueError(f"{path}:{number}: missing field {missing}") from None
        if item.dialect not in DIALECTS:
            raise ValueError(f"{path}:{number}: unknown dialect {item.dialect!r}")
        if not item.gold_article_ids or item.source_article_id not in item.gold_article_ids:
            raise ValueError(f"{path}:{number}: the source article must be one of the gold articles")
        if item.qid in seen:
            raise ValueError(f"{path}:{number}: qid {item.qid} repeats")
        seen.add(item.qid)
        questions.append(item)
    return questions


def story_rank(ranking: Sequence[Place], gold: Iterable[str],
               story_of: Callable[[str], str] | Mapping[str, str] | None = None) -> int | None:
    """The 1-based story rank of the first place holding a gold article, or None.

    Args:
        ranking: ranked places, best first (an id, or the shown id followed by its collapsed copies).
        gold: every article that answers the question (one story).
        story_of: story id of an article (a mapping or a function); unknown articles are their own story.

    Returns:
        The number of distinct stories down to and including the first gold place.
    """
    gold_ids = frozenset(gold)
    lookup = _story_lookup(story_of)
    seen: set[str] = set()
    for place in ranking:
        ids = (place,) if isinstance(place, str) else tuple(place)
        if not ids:
            continue
        if gold_ids.intersection(ids):
            return len(seen) + 1
        story = lookup(ids[0])
        seen.add(story)
    return None


def _story_lookup(story_of: Callable[[str], str] | Mapping[str, str] | None) -> Callable[[str], str]:
    if story_of is None:
        return lambda article_id: article_id
    if isinstance(story_of, Mapping):
        return lambda article_id: story_of.get(article_id, article_id)
    return story_of


def scores_from_ranks(ranks: Sequence[int | None]) -> StoryScores:
    """R@1, R@3 and MRR@10 of a list of story ranks (None = not found)."""
    count = len(ranks)
    if count == 0:
        return StoryScores(0, 0.0, 0.0, 0.0)
    hit_1 = sum(1 for r in ranks if r is not None and r <= 1)
    hit_3 = sum(1 for r in ranks if r is not None and r <= 3)
    mrr = sum(1 / r for r in ranks if r is not None and r <= 10)
    return StoryScores(count, hit_1 / count, hit_3 / count, mrr / count)


def score_stories(rankings: Mapping[str, Sequence[Place]], questions: Sequence[ReaderQuestion],
                  story_of: Callable[[str], str] | Mapping[str, str] | None = None) -> dict[str, StoryScores]:
    """Story-level scores per dialect and ``overall``.

    Args:
        rankings: qid → ranked places; a question without a ranking counts as a miss.
        questions: the questions to score (their dialect and gold articles).
        story_of: optional article → story map (see :func:`story_rank`).

    Returns:
        ``{"msa": …, "gulf": …, …, "overall": …}``; dialects without questions are left out.
    """
    ranks: dict[str, list[int | None]] = {}
    for item in questions:
        rank = story_rank(rankings.get(item.qid, ()), item.gold_article_ids, story_of)
        ranks.setdefault(item.dialect, []).append(rank)
        ranks.setdefault("overall", []).append(rank)
    ordered = [d for d in DIALECTS if d in ranks] + ["overall"]
    return {name: scores_from_ranks(ranks.get(name, [])) for name in ordered}


def twin_gap(scores: Mapping[str, StoryScores]) -> float:
    """The largest drop of a dialect's R@1 below the MSA twins' (0 when every dialect matches MSA)."""
    if "msa" not in scores:
        return 0.0
    msa = scores["msa"].r_at_1
    return max((msa - s.r_at_1 for d, s in scores.items() if d not in ("msa", "overall")), default=0.0)


def story_table(results: Mapping[str, Mapping[str, StoryScores]]) -> str:
    """A Markdown table: one row per run (e.g. rewrite off/on), R@1 / R@3 / MRR@10 per dialect and overall."""
    groups = [*DIALECTS, "overall"]
    header = "| run | " + " | ".join(f"{g} R@1 | R@3 | MRR" for g in groups) + " | gap to MSA |"
    lines = [header, "|" + "---|" * (2 + 3 * len(groups))]
    for run, scores in results.items():
        cells = []
        for group in groups:
            s = scores.get(group)
            cells.extend(["–"] * 3 if s is None else [f"{s.r_at_1:.2f}", f"{s.r_at_3:.2f}", f"{s.mrr_at_10:.2f}"])
        lines.append(f"| {run} | " + " | ".join(cells) + f" | {twin_gap(scores):.2f} |")
    return "\n".join(lines)


def pool_ids(pool: PoolName, archive_ids: Sequence[str], sample_ids: Sequence[str],
             gold_ids: Iterable[str]) -> list[str]:
    """The article ids of a pool, deterministically.

    * ``300``: the sample file, in its order.
    * ``3000``: the sample, then every gold article not in it (sorted), then articles of the
      archive (in file order, minus those already taken) drawn with ``random.Random(18).sample``
      until there are 3,000.
    * ``full``: the whole archive, in file order.

    Raises:
        ValueError: a sample or gold id is not in the archive, or the archive is too small.
    """
    known = set(archive_ids)
    missing = [i for i in [*sample_ids, *gold_ids] if i not in known]
    if missing:
        raise ValueError(f"not in the archive: {missing[:3]}")
    if pool == "300":
        return list(sample_ids)
    if pool == "full":
        return list(archive_ids)
    base = list(dict.fromkeys(sample_ids))
    taken = set(base)
    base += sorted(set(gold_ids) - taken)
    taken.update(base)
    rest = [i for i in archive_ids if i not in taken]
    need = POOL_3000 - len(base)
    if need > len(rest):
        raise ValueError(f"the archive has too few articles for a pool of {POOL_3000}")
    return base + random.Random(POOL_SEED).sample(rest, max(need, 0))


def read_ids(path: Path) -> list[str]:
    """The ``id`` of every article of a JSONL file, in file order."""
    with path.open(encoding="utf-8") as handle:
        return [str(json.loads(line)["id"]) for line in handle if line.strip()]


def write_pool(pool: PoolName, questions: Sequence[ReaderQuestion], archive: Path, sample: Path,
               target: Path) -> int:
    """Write the pool's articles (the archive's lines, unchanged) to ``target``; returns how many."""
    gold = sorted({g for q in questions for g in q.gold_article_ids})
    wanted = set(pool_ids(pool, read_ids(archive), read_ids(sample), gold))
    written = 0
    with archive.open(encoding="utf-8") as source, target.open("w", encoding="utf-8") as out:
        for line in source:
            if line.strip() and json.loads(line)["id"] in wanted:
                out.write(line)
                written += 1
    return written


def rank_questions(retriever: Retriever, questions: Sequence[ReaderQuestion], k: int = 10,
                   dialect_rewrite: bool = True) -> dict[str, list[list[str]]]:
    """Ask every question as a reader is answered (:meth:`index.Retriever.ask`).

    Returns:
        Per question id, each ranked place: the article shown, then the copies collapsed into it
        ("also reported by"), so a story counts once.
    """
    return {item.qid: [[p.article.id, *(d.id for d in p.duplicates)]
                       for p in retriever.ask(item.question, k=k, dialect_rewrite=dialect_rewrite).passages]
            for item in questions}


def score_both_ways(retriever: Retriever, questions: Sequence[ReaderQuestion]) -> dict[str, dict[str, StoryScores]]:
    """Story-level scores with dialect rewriting off, then on, then on counting the shown article only.

    The index's story ids (:meth:`Metadata.stories`) say which ranked articles are one story. The
    third run gives no credit for the copies folded into a place ("also reported by"): were the
    grouping to join different stories, the first two runs would be credited for an answer the
    reader is not shown, and this one would not.
    """
    results: dict[str, dict[str, StoryScores]] = {}
    for on in (False, True):
        rankings = rank_questions(retriever, questions, dialect_rewrite=on)
        results[f"rewrite {'on' if on else 'off'}"], shown, _ = score_with_stories(retriever, rankings, questions)
    results["rewrite on, shown article only"] = shown
    return results


def score_with_stories(retriever: Retriever, rankings: Mapping[str, Sequence[Sequence[str]]],
                       questions: Sequence[ReaderQuestion]
                       ) -> tuple[dict[str, StoryScores], dict[str, StoryScores], dict[str, str]]:
    """Scores of :func:`rank_questions`' rankings with the index's story ids, and counting the shown article only.

    Returns:
        The scores, the shown-article-only scores (no credit for "also reported by") and the story map used.
    """
    story_of = retriever.metadata.stories({i for places in rankings.values() for place in places for i in place})
    shown = {qid: [place[:1] for place in places] for qid, places in rankings.items()}
    return score_stories(rankings, questions, story_of), score_stories(shown, questions, story_of), story_of


def results_json(results: Mapping[str, Mapping[str, StoryScores]]) -> str:
    """The results of :func:`score_both_ways` as indented JSON."""
    return json.dumps({run: {group: scores.as_dict() for group, scores in by_group.items()}
                       for run, by_group in results.items()}, indent=1)
