"""Follow-up detection and context words, on real Arabic questions (most from tests/data/dialogues_ar.jsonl)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from bot.followup import MAX_CONTEXT_WORDS, augment, content_words, context_words, followup_reason
from index.search.timeexpr import parse_time
from tests.support.paths import REPO_ROOT

REFERENCE = date(2018, 10, 18)
DIALOGUES = REPO_ROOT / "tests" / "data" / "dialogues_ar.jsonl"
GAS = "ما قيمة صفقة الغاز التي وقعتها إسرائيل لتصدير الغاز الطبيعي إلى مصر؟"


def reason(question: str) -> str | None:
    """As the answerer asks: markers looked for with the time words removed."""
    return followup_reason(question, parse_time(question, REFERENCE).question)


@pytest.mark.parametrize(("question", "expected"), [
    pytest.param("ومتى؟", "conjunction", id="and when"),
    pytest.param("ولماذا؟", "conjunction", id="and why"),
    pytest.param("وماذا عن بورصة شنغهاي؟", "conjunction", id="and what about"),
    pytest.param("وفي أوروبا؟", "conjunction", id="and in Europe"),
    pytest.param("والسعر الرسمي؟", "conjunction", id="and the official price"),
    pytest.param("وإلى متى تأجلت قضيته؟", "conjunction", id="and until when"),
    pytest.param("فمن قال ذلك؟", "conjunction", id="fa opening"),
    pytest.param("وماذا قال وزير الطاقة الإسرائيلي عنها؟", "conjunction", id="and what did the minister say"),
    pytest.param("ماذا قال وزير الطاقة عنها؟", "reference", id="preposition with pronoun"),
    pytest.param("كم طفلا يتعرض للخطر هناك؟", "reference", id="there"),
    pytest.param("من أعلن ذلك أولا في البيت الأبيض؟", "reference", id="demonstrative"),
    pytest.param("كم عمرها؟", "short", id="her age"),
    pytest.param("من أين جاؤوا؟", "short", id="missing subject"),
    pytest.param("ما رده؟", "short", id="his reply"),
    pytest.param("ما موقف حكومته من الاتفاق؟", "suffix", id="pronoun on a noun"),
    pytest.param("وماذا حدث أمس؟", "conjunction", id="a follow-up naming a period"),
])
def test_follow_ups_are_recognised(question: str, expected: str) -> None:
    assert reason(question) == expected


@pytest.mark.parametrize("question", [
    pytest.param("بكم بيعت أغلى زجاجة ويسكي في العالم في مزاد إدنبره؟", id="standalone"),
    pytest.param("كم حُكم على سامسونغ بدفعه لآبل تعويضا عن تقليد تصميم آيفون؟", id="pronoun in a long question"),
    pytest.param("ما العبارة التي غرد بها ترامب بعد الغارة على المنشآت الكيماوية في سوريا؟",
                 id="pronoun after a relative"),
    pytest.param("كم مقعدا حصل عليه حزب عمران خان في الانتخابات التشريعية الباكستانية؟",
                 id="pronoun in a question naming its subject"),
    pytest.param("ما اللقب الذي منحته بلدية باريس للناشط البحريني نبيل رجب؟", id="taa marbuta is no pronoun"),
    pytest.param("ولي العهد السعودي يزور واشنطن لبحث صفقات السلاح؟", id="wali is no conjunction"),
    pytest.param("ماذا قال ترامب عن الصين هذا الأسبوع؟", id="this week is a time expression"),
    pytest.param("ماذا حدث الأسبوع الماضي؟", id="a short question naming its period"),
    pytest.param("؟؟؟", id="no words at all"),
])
def test_questions_that_stand_alone_are_left_alone(question: str) -> None:
    assert reason(question) is None


def test_every_labelled_turn_of_the_dialogue_set() -> None:
    wrong = []
    for line in DIALOGUES.read_text(encoding="utf-8").splitlines():
        for turn in json.loads(line)["turns"]:
            if (reason(turn["q"]) is not None) != (turn["kind"] == "followup"):
                wrong.append((turn["kind"], turn["q"]))
    assert wrong == []


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("وبكم أُطلق سراحه بعدها؟", ["أُطلق", "سراحه"], id="spelling kept, function words out"),
    pytest.param("وممّ يخشى أيضا؟", ["يخشى"], id="attached preposition"),
    pytest.param("ومتى؟", [], id="nothing"),
    pytest.param("من فاز بالجائزة العالمية للرواية العربية (بوكر) لعام 2018؟",
                 ["فاز", "بالجائزة", "العالمية", "للرواية", "العربية", "بوكر", "2018"], id="punctuation"),
])
def test_content_words(text: str, expected: list[str]) -> None:
    assert content_words(text) == expected


def test_context_words_come_from_the_previous_turn_as_written() -> None:
    words = context_words("ومتى؟", GAS)
    assert words == ["قيمة", "صفقة", "الغاز", "وقعتها", "إسرائيل", "لتصدير"]
    assert len(words) == MAX_CONTEXT_WORDS
    assert augment("ومتى؟", words) == "ومتى؟ قيمة صفقة الغاز وقعتها إسرائيل لتصدير"
    assert augment("  ومتى؟ ", []) == "ومتى؟"


def test_context_words_skip_what_the_follow_up_already_says_and_pointers() -> None:
    words = context_words("وهل علقت الحكومة المصرية على صفقة الغاز؟", GAS, limit=3)
    assert words == ["قيمة", "وقعتها", "إسرائيل"]
    assert context_words("وماذا عن ذلك؟", "ومن قال ذلك عنها؟ الصين الرسوم") == ["الصين", "الرسوم"]
