"""Story-level scoring with hand-made rankings of real archive ids, the loader and the pools."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.story_eval import (
    READER_QUESTIONS,
    ReaderQuestion,
    load_reader_questions,
    pool_ids,
    read_ids,
    score_stories,
    scores_from_ranks,
    story_rank,
    story_table,
    twin_gap,
)

# The Mekunu story: Salalah airport closed for 24 hours, reported by four outlets.
MEKUNU = ("AL-internationalNews-1314-20180525", "BB-middleEast-537-20180525", "FR-internationalNews-1422-20180524",
          "SK-technology-765-20180525")
# Another story of the same week (the cyclone passing Salalah), and unrelated articles.
MEKUNU_LATER = "CN-middleEast-1028-20180526"
OTHER = ("SK-sport-1139-20180512", "BB-economy-123-20180503", "FR-economy-40-20180525", "CN-technology-100-20180503")


def _question(qid: str, dialect: str, gold: tuple[str, ...] = MEKUNU) -> ReaderQuestion:
    return ReaderQuestion(qid, "n04", dialect, "كم ساعة أغلقت عمان مطار صلالة؟", gold, gold[0], "لمدة 24 ساعة")


def test_first_gold_place_gives_the_rank() -> None:
    assert story_rank([OTHER[0], MEKUNU[2], MEKUNU[0]], MEKUNU) == 2
    assert story_rank([MEKUNU[3]], MEKUNU) == 1
    assert story_rank(list(OTHER), MEKUNU) is None
    assert story_rank([], MEKUNU) is None


def test_copies_of_one_story_take_one_place() -> None:
    stories = {MEKUNU_LATER: "cyclone-passes", OTHER[0]: "cyclone-passes", OTHER[1]: "bank"}
    ranking = [MEKUNU_LATER, OTHER[0], OTHER[1], MEKUNU[1]]
    assert story_rank(ranking, MEKUNU) == 4
    assert story_rank(ranking, MEKUNU, stories) == 3
    assert story_rank(ranking, MEKUNU, lambda article_id: stories.get(article_id, article_id)) == 3


def test_a_place_with_collapsed_copies_hits_when_any_copy_is_gold() -> None:
    ranking = [(OTHER[2],), (MEKUNU_LATER, MEKUNU[2], MEKUNU[3])]
    assert story_rank(ranking, MEKUNU) == 2
    assert story_rank([(), OTHER[1], MEKUNU[0]], MEKUNU) == 2


def test_scores_from_ranks() -> None:
    scores = scores_from_ranks([1, 2, 3, None, 11])
    assert scores.questions == 5
    assert scores.r_at_1 == pytest.approx(0.2)
    assert scores.r_at_3 == pytest.approx(0.6)
    assert scores.mrr_at_10 == pytest.approx((1 + 1 / 2 + 1 / 3) / 5)
    assert scores_from_ranks([]).r_at_1 == 0.0


def test_score_stories_per_dialect_and_overall() -> None:
    questions = [_question("q-msa", "msa"), _question("q-gulf", "gulf"), _question("q-egy", "egyptian"),
                 _question("q-lev", "levantine")]
    rankings = {
        "q-msa": [MEKUNU[0], MEKUNU[1], OTHER[0]],          # hit at 1; the second copy is not counted again
        "q-gulf": [OTHER[0], OTHER[1], MEKUNU[3]],          # hit at 3
        "q-egy": [OTHER[0], OTHER[1], OTHER[2], MEKUNU[2]],  # hit at 4: outside R@3, inside MRR@10
    }                                                        # q-lev has no ranking: a miss
    scores = score_stories(rankings, questions)
    assert list(scores) == ["msa", "gulf", "egyptian", "levantine", "overall"]
    assert (scores["msa"].r_at_1, scores["msa"].mrr_at_10) == (1.0, 1.0)
    assert (scores["gulf"].r_at_1, scores["gulf"].r_at_3) == (0.0, 1.0)
    assert scores["gulf"].mrr_at_10 == pytest.approx(1 / 3)
    assert scores["egyptian"].r_at_3 == 0.0
    assert scores["egyptian"].mrr_at_10 == pytest.approx(1 / 4)
    assert scores["levantine"].mrr_at_10 == 0.0
    assert scores["overall"].questions == 4
    assert scores["overall"].r_at_1 == pytest.approx(0.25)
    assert scores["overall"].r_at_3 == pytest.approx(0.5)
    assert twin_gap(scores) == pytest.approx(1.0)


def test_story_table_has_a_row_per_run() -> None:
    questions = [_question("q-msa", "msa"), _question("q-gulf", "gulf")]
    off = score_stories({"q-msa": [MEKUNU[0]], "q-gulf": [OTHER[0]]}, questions)
    on = score_stories({"q-msa": [MEKUNU[0]], "q-gulf": [MEKUNU[1]]}, questions)
    table = story_table({"rewrite off": off, "rewrite on": on}).splitlines()
    assert len(table) == 4
    assert table[2].startswith("| rewrite off | 1.00 | 1.00 | 1.00 | 0.00 |")
    assert table[2].endswith("| 1.00 |")
    assert table[3].endswith("| 0.00 |")
    assert "–" in table[3]  # no Egyptian questions in this run


def _twin_needs(questions: list[ReaderQuestion]) -> set[str]:
    """The needs of a reader set, checked to be five distinct twins (one per variety) sharing one gold list."""
    needs = {q.need_id for q in questions}
    for need in needs:
        twins = [q for q in questions if q.need_id == need]
        assert sorted(q.dialect for q in twins) == sorted(["msa", "gulf", "egyptian", "levantine", "maghrebi"])
        assert len({q.gold_article_ids for q in twins}) == 1
        assert len({q.question for q in twins}) == 5
    return needs


def test_the_committed_reader_set_loads_and_is_consistent() -> None:
    questions = load_reader_questions()
    assert len(questions) >= 150
    assert len(_twin_needs(questions)) >= 30


def test_the_held_out_twin_set_loads_is_consistent_and_shares_no_article_with_the_dev_set() -> None:
    held_out = load_reader_questions(READER_QUESTIONS.with_name("reader_questions_heldout.jsonl"))
    assert len(held_out) == 80
    assert len(_twin_needs(held_out)) == 16
    dev_articles = {article for q in load_reader_questions() for article in q.gold_article_ids}
    assert not dev_articles & {article for q in held_out for article in q.gold_article_ids}


@pytest.mark.parametrize(("change", "message"), [
    ({"dialect": "iraqi"}, "unknown dialect"),
    ({"source_article_id": "SK-sport-1139-20180512"}, "source article"),
    ({"gold_article_ids": []}, "source article"),
])
def test_loader_rejects_bad_lines(tmp_path: Path, change: dict, message: str) -> None:
    row = {"qid": "n04-msa", "need_id": "n04", "dialect": "msa", "question": "كم ساعة أغلقت عمان مطار صلالة؟",
           "gold_article_ids": list(MEKUNU), "source_article_id": MEKUNU[0], "answer_hint": "لمدة 24 ساعة"}
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps(row | change, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_reader_questions(path)


def test_loader_rejects_a_repeated_qid(tmp_path: Path) -> None:
    line = READER_QUESTIONS.read_text(encoding="utf-8").splitlines()[0]
    path = tmp_path / "q.jsonl"
    path.write_text(line + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="repeats"):
        load_reader_questions(path)


def test_pools_are_deterministic_and_hold_every_gold_article() -> None:
    archive = [f"A-{i}" for i in range(5000)]
    sample = archive[100:400]
    gold = ["A-4999", "A-150", "A-10"]
    first = pool_ids("3000", archive, sample, gold)
    assert first == pool_ids("3000", archive, sample, gold)
    assert len(first) == len(set(first)) == 3000
    assert first[:300] == sample
    assert first[300:302] == ["A-10", "A-4999"]
    assert set(gold) <= set(first)
    assert pool_ids("300", archive, sample, gold) == sample
    assert pool_ids("full", archive, sample, gold) == archive
    with pytest.raises(ValueError, match="not in the archive"):
        pool_ids("3000", archive, sample, ["B-1"])
    with pytest.raises(ValueError, match="too few"):
        pool_ids("3000", archive[:1000], archive[:300], [])


def test_read_ids_keeps_file_order(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text("\n".join(json.dumps({"id": i, "text": "نص"}) for i in MEKUNU) + "\n\n", encoding="utf-8")
    assert read_ids(path) == list(MEKUNU)
