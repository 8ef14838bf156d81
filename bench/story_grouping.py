"""How well an index's story grouping matches what readers' gold lists say is one story.

The reader set (``bench/data/reader_questions.jsonl``) labels, for each information need, every
article of the archive that answers it: those articles are one story as a reader sees it. This
script reads a built index (its stored vectors and articles; nothing is embedded) and prints:

* **pairs**: for the gold articles of each need (pairs published within the window), their
  signature cosine and headline + lead word overlap, beside the same figures for each gold
  article's nearest *non-gold* neighbours within the window: where a threshold separates them;
* **recall**: the share of those gold pairs the grouping puts in one story;
* **gold lists torn / joined**: needs whose gold articles span several stories, and stories
  that join a need's gold articles to articles outside its list (some of those are copies the
  list missed: they are printed for reading);
* **sizes**: how many stories, how many of more than one article, the largest;
* with ``--sample N``: N random grouped pairs of *other* articles (not in any gold list), with
  headlines, for judging the precision by reading them.

    python bench/story_grouping.py --index /work/idx30k --sample 40
    python bench/story_grouping.py --index /work/idx3k --dense-same 0.94 --words-same 0.2
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path

import numpy as np

from corpus import Article, Chunk
from index.build.stories import StoryRules, _instant, first_chunk_vectors, group_stories, lead_words, word_overlap
from index.embedding.cpu import cpu_identity
from index.stores.faiss.store import FaissStore
from index.story_eval import load_reader_questions

#: Nearest non-gold neighbours (within the window) of each gold article compared with it.
NEGATIVES_PER_GOLD = 5


def load(index_dir: Path) -> tuple[list[Article], list[Chunk], list[np.ndarray]]:
    """Every article, the first chunk of each and its stored vector (what the grouping reads)."""
    reader = FaissStore(index_dir).open(verify=False)
    try:
        articles = reader.metadata.all_articles()
        by_id = {a.id: a for a in articles}
        first: dict[str, tuple[int, Chunk]] = {}
        for key, chunk_id, article_id, begin, end in reader.metadata.chunk_rows():
            if article_id not in first:
                first[article_id] = (key, Chunk(chunk_id, article_id, by_id[article_id].text[begin:end], begin, end))
        keys = [first[a.id][0] for a in articles if a.id in first]
        stored = reader.vectors(keys)
        chunks = [first[a.id][1] for a in articles if a.id in first]
        return articles, chunks, [stored[k] for k in keys]
    finally:
        reader.close()


def quartiles(values: list[float]) -> str:
    """min / q1 / median / q3 / max of ``values``."""
    if len(values) < 2:
        return " ".join(f"{v:.3f}" for v in values) or "–"
    q1, q2, q3 = statistics.quantiles(values, n=4)
    return f"min {min(values):.3f}  q1 {q1:.3f}  med {q2:.3f}  q3 {q3:.3f}  max {max(values):.3f}"


def main() -> None:
    """Print the pair figures, recall against the reader gold lists, sizes and a sample to read."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, required=True, help="a built FAISS index directory")
    parser.add_argument("--sample", type=int, default=0, help="grouped pairs of non-gold articles to print")
    defaults = StoryRules()
    parser.add_argument("--dense-same", type=float, default=defaults.dense_same)
    parser.add_argument("--dense-floor", type=float, default=defaults.dense_floor)
    parser.add_argument("--words-same", type=float, default=defaults.words_same)
    parser.add_argument("--window-days", type=float, default=defaults.window_days)
    args = parser.parse_args()
    rules = StoryRules(neighbours=defaults.neighbours, window_days=args.window_days, dense_same=args.dense_same,
                       dense_floor=args.dense_floor, words_same=args.words_same)

    articles, chunks, vectors = load(args.index)
    by_id = {a.id: a for a in articles}
    positions, matrix = first_chunk_vectors(articles, chunks, vectors)
    row_of = {articles[n].id: row for row, n in enumerate(positions)}
    questions = load_reader_questions()
    needs = {q.need_id: [g for g in q.gold_article_ids if g in row_of] for q in questions}
    gold_all = {g for ids in needs.values() for g in ids}

    def within(a: Article, b: Article) -> bool:
        return a.date is not None and b.date is not None and abs(
            _instant(a.date) - _instant(b.date)) <= rules.window_days * 86400

    # 1. Pair figures: gold pairs against each gold article's nearest non-gold neighbours.
    gold_pairs = [(a, b) for ids in needs.values() for a, b in combinations(ids, 2) if within(by_id[a], by_id[b])]
    words = {i: lead_words(by_id[i]) for i in row_of}

    frequency = Counter(w for ws in words.values() for w in ws)
    weight = {w: math.log(len(words) / n) for w, n in frequency.items()}

    def weighted(a: str, b: str) -> float:
        union = sum(weight[w] for w in words[a] | words[b])
        return sum(weight[w] for w in words[a] & words[b]) / union if union else 0.0

    def figures(a: str, b: str) -> tuple[float, float, float]:
        return float(matrix[row_of[a]] @ matrix[row_of[b]]), word_overlap(words[a], words[b]), weighted(a, b)

    positive = [figures(a, b) for a, b in gold_pairs]
    negative: list[tuple[float, float, float]] = []
    for ids in needs.values():
        for g in ids:
            scores = matrix @ matrix[row_of[g]]
            nearest = [articles[positions[row]] for row in np.argsort(-scores)[1:40].tolist()]
            others = [o for o in nearest if o.id not in ids and within(by_id[g], o)][:NEGATIVES_PER_GOLD]
            negative.extend(figures(g, other.id) for other in others)
    name, flags = cpu_identity()
    print(f"# CPU: {name}; {' '.join(f for f in flags.split() if f.startswith(('avx', 'amx')))}")
    print(f"index {args.index}: {len(articles)} articles; {len(needs)} needs, {len(gold_all)} gold articles")
    print(f"gold pairs within {rules.window_days:g} days: {len(gold_pairs)}; nearest non-gold pairs: {len(negative)}")
    print(f"  cosine   gold {quartiles([p[0] for p in positive])}")
    print(f"  cosine   non  {quartiles([n[0] for n in negative])}")
    print(f"  words    gold {quartiles([p[1] for p in positive])}")
    print(f"  words    non  {quartiles([n[1] for n in negative])}")
    print(f"  idf-words gold {quartiles([p[2] for p in positive])}")
    print(f"  idf-words non  {quartiles([n[2] for n in negative])}")
    for floor in (0.80, 0.85, 0.88, 0.90, 0.92, 0.94, 0.96):
        print(f"  cosine ≥ {floor:.2f}: gold {sum(p[0] >= floor for p in positive) / len(positive):.2f}, "
              f"non {sum(n[0] >= floor for n in negative) / max(len(negative), 1):.2f}")

    # 2. The grouping itself.
    started = time.perf_counter()
    story = group_stories(articles, chunks, vectors, rules)
    print(f"\ngrouped in {time.perf_counter() - started:.1f} s")
    together = sum(1 for a, b in gold_pairs if story[a] == story[b])
    print(f"\nrules: {rules}")
    print(f"recall: {together} of {len(gold_pairs)} gold pairs in one story "
          f"({together / max(len(gold_pairs), 1):.2f})")
    stories: dict[str, list[str]] = defaultdict(list)
    for article_id, story_id in story.items():
        stories[story_id].append(article_id)
    torn = sum(1 for ids in needs.values() if len({story[g] for g in ids}) > 1)
    print(f"needs whose gold articles span several stories: {torn} of {len(needs)}")
    joined: list[tuple[str, str, str]] = []
    for need, ids in needs.items():
        for story_id in {story[g] for g in ids}:
            joined.extend((need, ids[0], other) for other in stories[story_id] if other not in ids)
    print(f"articles outside a need's gold list grouped with its gold articles: {len(joined)}")
    for need, gold, other in joined[:12]:
        print(f"  {need}: {by_id[gold].title[:70]}  ⟷  {by_id[other].source}: {by_id[other].title[:70]}")
    sizes = Counter(len(ids) for ids in stories.values())
    grouped = sum(count for size, count in sizes.items() if size > 1)
    print(f"\nstories: {len(stories)} for {len(articles)} articles; {grouped} of more than one article; "
          f"largest {max(sizes)}; sizes {dict(sorted(sizes.items())[:8])}")
    largest = max(stories.values(), key=len)
    print("the largest: " + " | ".join(by_id[i].title[:50] for i in largest[:6]))

    # 3. A sample of grouped pairs away from the gold lists, to read.
    if args.sample:
        pairs = [(ids[0], other) for ids in stories.values() if len(ids) > 1 and not gold_all.intersection(ids)
                 for other in ids[1:]]
        print(f"\n{args.sample} of {len(pairs)} grouped pairs outside the gold lists (seed ⟷ member):")
        for seed, other in random.Random(7).sample(pairs, min(args.sample, len(pairs))):
            cosine, overlap, _ = figures(seed, other)
            a, b = by_id[seed], by_id[other]
            print(f"- cos {cosine:.3f} words {overlap:.2f} | {a.source}, {a.date:%m-%d}: {a.title[:80]}\n"
                  f"  {'':>22}| {b.source}, {b.date:%m-%d}: {b.title[:80]}")


if __name__ == "__main__":
    main()
