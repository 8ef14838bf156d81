"""Replay the Arabic dialogue set through the answerer, with and without conversation context.

``tests/data/dialogues_ar.jsonl`` (see its README) holds 55 dialogues of 2-3 questions over the
300-article news sample, each question labelled with the article that answers it and the kind of
turn: ``first``, ``followup`` or ``standalone``. :func:`replay` asks every dialogue in order as
the bot would, either carrying each answered turn into the next question (``context=True``: the
turn kept is built from what the answerer actually returned, not from the labels) or asking each
question alone; :func:`summarise` turns the two runs into the figures of
``bench/conversation_eval.py`` and ``tests/bot/test_conversation_quality.py``:

* follow-ups: share whose top-1 (top-3) passage is the labelled article, with and without context;
* standalone turns (a change of topic): share whose top article is the same with and without
  context — context must not harm a question that stands on its own;
* quotes: share of follow-ups answered by the right article whose quote contains the labelled
  answer span.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from bot.answerer import Answerer
from bot.memory import Turn

__all__ = ["Asked", "Dialogue", "load_dialogues", "replay", "summarise"]

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class DialogueTurn:
    """One labelled question."""

    question: str
    article_id: str
    kind: str
    answer: str = ""


@dataclass(frozen=True, slots=True)
class Dialogue:
    """A dialogue: its id and its turns in order."""

    id: str
    turns: tuple[DialogueTurn, ...]


@dataclass(frozen=True, slots=True)
class Asked:
    """What the answerer returned for one turn of one run."""

    dialogue: str
    position: int
    kind: str
    question: str
    expected: str
    #: The expected article is the previous turn's expected article.
    same_article: bool
    query: str
    followup: str | None
    top: tuple[str, ...]
    quote_has_answer: bool

    @property
    def hit1(self) -> bool:
        """The top passage is from the expected article."""
        return bool(self.top) and self.top[0] == self.expected

    @property
    def hit3(self) -> bool:
        """One of the top three passages is from the expected article."""
        return self.expected in self.top[:3]


def load_dialogues(path: Path) -> list[Dialogue]:
    """Read the JSON-lines dialogue file."""
    dialogues = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            turns = tuple(DialogueTurn(t["q"], t["article_id"], t["kind"], t.get("answer", ""))
                          for t in record["turns"])
            dialogues.append(Dialogue(record["id"], turns))
    return dialogues


def _squash(text: str) -> str:
    return _SPACES.sub(" ", text.replace("\u00a0", " ")).strip()


def replay(answerer: Answerer, dialogues: list[Dialogue], context: bool, k: int = 3,
           across: bool = False) -> list[Asked]:
    """Ask every dialogue's questions in order; with ``context``, each follows the previous answer.

    Args:
        answerer: Serving the 300-article sample (``results_per_answer`` ≥ ``k``).
        dialogues: From :func:`load_dialogues`.
        context: Carry each turn into the next question, as the bot does within a conversation.
        k: Passages looked at per answer.
        across: Also carry the last turn of a dialogue into the first question of the next one, as
            if one reader asked them all in one chat: each first question is then a change of topic.
    """
    asked: list[Asked] = []
    previous: Turn | None = None
    for dialogue in dialogues:
        if not across:
            previous = None
        expected_before = ""
        for position, turn in enumerate(dialogue.turns):
            answer = answerer.answer(turn.question, previous=previous if context else None)
            top = tuple(p.article.id for p in answer.passages[:k])
            quote = _squash(answer.passages[0].quote.text) if answer.passages else ""
            plan = answer.plan
            asked.append(Asked(dialogue.id, position, turn.kind, turn.question, turn.article_id,
                               turn.article_id == expected_before, answer.query,
                               plan.followup if plan else None, top,
                               bool(turn.answer) and _squash(turn.answer) in quote))
            previous = Turn(query=answer.query, article_ids=answer.article_ids, period=answer.period)
            expected_before = turn.article_id
    return asked


def _share(items: list[bool]) -> float:
    return sum(items) / len(items) if items else 0.0


def summarise(with_context: list[Asked], without_context: list[Asked],
              across: list[Asked] | None = None) -> dict[str, object]:
    """The figures comparing two runs of :func:`replay` over the same dialogues.

    Args:
        with_context: Each question following the previous answer of its dialogue.
        without_context: Each question alone.
        across: Optionally, a run with context carried across dialogues: its first questions
            (changes of topic) are compared with the same questions asked alone.
    """
    pairs = list(zip(with_context, without_context, strict=True))
    followups = [(w, o) for w, o in pairs if w.kind == "followup"]
    same = [(w, o) for w, o in followups if w.same_article]
    other = [(w, o) for w, o in followups if not w.same_article]
    standalone = [(w, o) for w, o in pairs if w.kind == "standalone"]
    first = [(w, o) for w, o in pairs if w.kind == "first"]

    def rates(group: list[tuple[Asked, Asked]]) -> dict[str, float | int]:
        return {"turns": len(group),
                "top1_with": _share([w.hit1 for w, _ in group]), "top1_without": _share([o.hit1 for _, o in group]),
                "top3_with": _share([w.hit3 for w, _ in group]), "top3_without": _share([o.hit3 for _, o in group]),
                "quote_with": _share([w.quote_has_answer for w, _ in group if w.hit1]),
                "quote_without": _share([o.quote_has_answer for _, o in group if o.hit1])}

    return {
        "followup": rates(followups),
        "followup_same_article": rates(same),
        "followup_other_article": rates(other),
        "standalone": rates(standalone) | {
            "same_top": _share([w.top[:1] == o.top[:1] for w, o in standalone]),
            "detected_as_followup": sum(w.followup is not None for w, _ in standalone)},
        "first": rates(first),
        "followups_detected": _share([w.followup is not None for w, _ in followups]),
    } | ({"first_after_other_dialogue": _changes_of_topic(across, without_context)} if across else {})


def _changes_of_topic(across: list[Asked], without_context: list[Asked]) -> dict[str, float | int]:
    """First questions asked right after another dialogue: how many keep the top article they have alone."""
    pairs = [(a, o) for a, o in zip(across, without_context, strict=True) if a.kind == "first" and a.position == 0]
    pairs = pairs[1:]  # the very first question follows nothing
    return {"turns": len(pairs), "same_top": _share([a.top[:1] == o.top[:1] for a, o in pairs]),
            "detected_as_followup": sum(a.followup is not None for a, _ in pairs)}


def rows(asked: list[Asked]) -> list[dict[str, object]]:
    """The per-turn records as JSON-ready dicts."""
    return [asdict(a) | {"hit1": a.hit1, "hit3": a.hit3} for a in asked]
