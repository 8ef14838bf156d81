"""Choose the hybrid fusion parameters on all development sets at once, never on one.

For every question of every set it records the dense and the lexical candidate pools once
(top 100 chunks each), then scores a grid of :class:`index.search.fusion.FusionWeights` offline and
prints, per setting, R@1 and R@5 per set and the worst margin over the best single-method
baseline (dense or lexical) across sets. The default should maximise that worst margin: a
setting that wins big on one set and loses on another is exactly what we must not ship.

    python bench/tune_fusion.py --cache bench/results/eval-cache   # reuses eval_quality's indexes
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np
from eval_quality import SETS, open_set  # type: ignore[import-not-found]  # noqa: I001

from index import IndexSettings, load_embedder
from index.search.fusion import FusionWeights, fuse

POOL = 100


def pools(name: str, settings: IndexSettings, embedder, cache: Path) -> list[dict]:  # noqa: ANN001
    """Dense and lexical pools per question, with chunk→article ids, cached as JSON."""
    path = cache / name / "pools.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    retriever, questions = open_set(name, settings, embedder, cache)
    article_of = {row[0]: row[2] for row in retriever.metadata.chunk_rows()}
    records = []
    for item in questions:
        vector = retriever.embedder.embed_query(item.text)
        dense = retriever._dense(vector, POOL, None)  # noqa: SLF001 - a bench may look inside
        lexical = retriever._lexical(item.text, POOL, None)  # noqa: SLF001
        records.append({"gold": item.gold_id,
                        "dense": [[k, article_of[k], v] for k, v in dense.items()],
                        "lexical": [[k, article_of[k], v] for k, v in lexical.items()]})
    path.write_text(json.dumps(records), encoding="utf-8")
    return records


def recall(records: list[dict], weights: FusionWeights | str) -> tuple[float, float]:
    """R@1 and R@5 after collapsing chunks to articles."""
    at1 = at5 = 0
    for record in records:
        dense = {chunk: value for chunk, _, value in record["dense"]}
        lexical = {chunk: value for chunk, _, value in record["lexical"]}
        article_of = {chunk: article for chunk, article, _ in record["dense"] + record["lexical"]}
        if weights == "dense":
            scores = dense
        elif weights == "lexical":
            scores = lexical
        else:
            scores = fuse(dense, lexical, weights)  # type: ignore[arg-type]
        ranked = []
        for key in sorted(scores, key=scores.__getitem__, reverse=True):
            if article_of[key] not in ranked:
                ranked.append(article_of[key])
            if len(ranked) == 5:
                break
        at1 += ranked[:1] == [record["gold"]]
        at5 += record["gold"] in ranked
    return at1 / len(records), at5 / len(records)


def main() -> None:
    """Print the grid, best worst-margin first."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=Path("bench/results/eval-cache"))
    args = parser.parse_args()
    settings = IndexSettings()
    embedder = load_embedder(settings.embedding_model, settings.cache_dir)
    data = {name: pools(name, settings, embedder, args.cache) for name in SETS}
    baselines = {name: [max(a, b) for a, b in zip(recall(r, "dense"), recall(r, "lexical"), strict=True)]
                 for name, r in data.items()}
    print("baselines (best of dense, lexical) R@1/R@5:", {k: [round(x, 3) for x in v] for k, v in baselines.items()})
    grid = [FusionWeights(dense=d, lexical=1.0, rrf_k=k, score_weight=s)
            for d, k, s in itertools.product([0.6, 0.8, 1.0, 1.25, 1.5, 2.0], [5, 10, 20, 40, 60],
                                             [0.0, 0.5, 1.0, 2.0, 4.0])]
    rows = []
    for weights in grid:
        figures = {name: recall(r, weights) for name, r in data.items()}
        margin = min(min(figures[n][0] - baselines[n][0], figures[n][1] - baselines[n][1]) for n in data)
        mean = float(np.mean([figures[n][0] + figures[n][1] for n in data]))
        rows.append((margin, mean, weights, figures))
    rows.sort(key=lambda row: (row[0], row[1]), reverse=True)
    for margin, mean, weights, figures in rows[:15]:
        print(f"worst margin {margin:+.3f} mean {mean / 2:.3f} {weights} " +
              " ".join(f"{n}={a:.3f}/{b:.3f}" for n, (a, b) in figures.items()))


if __name__ == "__main__":
    main()
