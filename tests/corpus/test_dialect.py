"""Dialect-aware question rewriting on real reader phrasings (Gulf, Egyptian, Levantine, Maghrebi, MSA)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpus.arabic import lexical_tokens, normalise
from corpus.dialect import dialect_words, guess_dialect, matching_text, question_type, rewrite_question

DEV_SET = Path(__file__).resolve().parents[2] / "bench" / "data" / "reader_questions.jsonl"


def _jaccard(a: list[str], b: list[str]) -> float:
    left, right = set(a), set(b)
    return len(left & right) / len(left | right) if left | right else 1.0


@pytest.mark.parametrize(("question", "expected"), [
    # MSA
    ("أين توفيت الفنانة الفلسطينية ريم بنا؟", "where"),
    ("كم بلغ العجز الكلي لموازنة مصر خلال 11 شهرا؟", "how_much"),
    ("ماذا بحثت الكوريتان بشأن السكك الحديدية؟", "what"),
    ("منذ متى فقدت زوجة رئيس الإنتربول الاتصال به؟", "when"),
    ("من أعلن مسؤوليته عن إسقاط المروحية التركية في عفرين؟", "who"),
    ("لماذا دخلت ميلانيا ترامب المستشفى؟", "why"),
    ("في أي مدينة كندية وقع إطلاق النار الذي قتل فيه شرطيان؟", "where"),
    ("هل حصل حزب عمران خان على الغالبية المطلقة في الانتخابات الباكستانية؟", "yes_no"),
    ("ما نتيجة مباراة يوفنتوس وفيرونا في وداع بوفون؟", "what"),
    ("كيف ستبحث ناسا عن حياة خارج نظامنا الشمسي؟", "how"),
    # Gulf
    ("وين توفت ريم بنا الفنانه الفلسطينيه", "where"),
    ("وش صار في تجمع ابي احمد باديس ابابا؟", "what"),
    ("منو اللي طيّح المروحيه التركيه بعفرين؟", "who"),
    ("ليش تويتر يبي المستخدمين يغيرون كلمة السر", "why"),
    ("متى بيفتحون اول سينما في السعوديه؟", "when"),
    ("من متى زوجة رئيس الانتربول ما تقدر تتواصل معه", "when"),
    ("حزب عمران خان اخذ الاغلبيه المطلقه ولا لا؟", "yes_no"),
    ("شلون صار الانفجار في موكب الحمد الله", "how"),
    # Egyptian
    ("ريم بنا ماتت فين؟", "where"),
    ("عجز الموازنة في مصر نزل لكام في المية؟", "how_much"),
    ("الكوريتين اتكلموا في ايه بخصوص السكة الحديد؟", "what"),
    ("ايه اللي حصل في مظاهرة ابي احمد في اديس ابابا", "what"),
    ("ميلانيا ترامب دخلت المستشفى ليه؟", "why"),
    ("اول سينما في السعودية هتفتح امتى؟", "when"),
    ("عهد التميمي فضلت في السجن قد ايه؟", "how_much"),
    ("كيم كارداشيان عايزة تخرج مين من السجن؟", "who"),
    ("هو عمران خان خد الأغلبية في الانتخابات ولا هيعمل تحالف؟", "yes_no"),
    ("روبوت ابل الجديد بيفك ايفون ازاي؟", "how"),
    # Levantine
    ("شو عم تبحث الكوريتين بموضوع سكك الحديد", "what"),
    ("قديش ساعة رح يسكروا مطار صلالة من ورا مكونو؟", "how_much"),
    ("من أيمتى مرت رئيس الانتربول ما عم تقدر تحكي معو", "when"),
    ("أيمتى رح تفتح أول سينما بالسعودية", "when"),
    ("ليش فاتت ميلانيا ترامب عالمستشفى", "why"),
    ("مين يلي وقع الطيارة التركية بعفرين؟", "who"),
    ("وين صار إطلاق النار بكندا يلي قتل فيه شرطيين", "where"),
    ("عمران خان اخد اغلبية مطلقة بالانتخابات ولا رح يعمل تحالف؟", "yes_no"),
    # Maghrebi
    ("شحال من ساعة غادي يسدو مطار صلالة بسبب الإعصار ميكونو", "how_much"),
    ("علاش خرجو الوريث ديال سامسونغ من الحبس", "why"),
    ("شكون لي طيح الهليكوبتر التركية فعفرين", "who"),
    ("فين توفات الفنانة ريم بنا", "where"),
    ("امتى غادي تحل اول سينما فالسعودية", "when"),
    ("شنو وقع فالتجمع ديال رئيس الوزراء الاثيوبي ف اديس ابابا", "what"),
    ("اشمن تطبيق تحبس ف العالم كامل ملي طاح تيليجرام", "what"),
    ("واش عمران خان ربح الاغلبية المطلقة فالانتخابات ديال باكستان", "yes_no"),
    ("كيفاش دار الروبوت ديال ابل باش يفكك الايفون", "how"),
])
def test_question_type_of_real_phrasings(question: str, expected: str) -> None:
    assert question_type(question) == expected


@pytest.mark.parametrize(("question", "present", "absent"), [
    ("شو عم تبحث الكوريتين بموضوع سكك الحديد", ["ماذا", "تبحث", "الكوريتين"], ["شو", "عم"]),
    ("وش اللي بحثوه الكوريتين عن سكك الحديد؟", ["ماذا", "الذي"], ["وش", "اللي"]),
    ("مطار صلالة هيقفل كام ساعة بسبب الاعصار مكونو؟", ["يقفل", "كم"], ["هيقفل", "كام"]),
    ("قديش ساعة رح يسكروا مطار صلالة من ورا مكونو؟", ["كم", "يسكروا"], ["قديش", "رح"]),
    ("شحال من ساعة غادي يسدو مطار صلالة", ["كم", "ساعه", "يسدو"], ["شحال", "غادي"]),
    ("متى بيفتحون اول سينما في السعوديه؟", ["يفتحون"], ["بيفتحون"]),
    ("اول سينما في السعودية هتفتح امتى؟", ["تفتح", "متي"], ["هتفتح", "امتي"]),
    ("شحال كتدوم الرحلة ديال سنغافورة لنيويورك", ["كم", "تدوم", "سنغافوره"], ["كتدوم", "ديال"]),
    ("شحال من تيليفون كيفكك الروبوت ديال ابل فالساعة", ["يفكك"], ["كيفكك", "ديال"]),
    ("قديش تلفون بيفكك روبوت آبل الجديد بالساعة", ["يفكك", "كم"], ["بيفكك"]),
    ("من امتى المرا ديال رئيس الانتربول ماقدراش تتصل بيه", ["منذ", "متي", "لا", "قدرا"], ["ماقدراش"]),
    ("ليش تويتر بدو المستخدمين يغيروا كلمة السر", ["لماذا", "يريد"], ["ليش", "بدو"]),
    ("ليه تويتر عايز الناس تغير كلمة السر؟", ["لماذا", "يريد"], ["ليه", "عايز"]),
    ("علاش تويتر بغا المستخدمين يبدلو كلمة السر ديالهم", ["لماذا", "يريد"], ["علاش", "بغا", "ديالهم"]),
    ("مرات رئيس الانتربول مش عارفة توصله من امتى؟", ["ليس", "منذ", "متي"], ["مش", "امتي"]),
    ("ليش فاتت ميلانيا ترامب عالمستشفى", ["علي", "المستشفي"], ["عالمستشفي"]),
    ("مين يلي وقع الطيارة التركية بعفرين؟", ["من", "الذي", "بعفرين", "عفرين"], ["مين", "يلي"]),
    ("شنو وقع فالتجمع ديال رئيس الوزراء الاثيوبي ف اديس ابابا", ["ماذا", "في", "اديس"], ["شنو", "ديال", "ف"]),
    ("كم دفع واينستين كفاله عشان يطلع؟", ["لان"], ["عشان"]),
    ("شحال خاص سامسونغ تخلص لابل حيت قلدات الايفون", ["لان", "سامسونغ"], ["حيت"]),
])
def test_rewrite_maps_dialect_words_and_strips_verb_prefixes(question: str, present: list[str],
                                                             absent: list[str]) -> None:
    tokens = rewrite_question(question).normalised.split()
    for word in present:
        assert word in tokens, (word, tokens)
    for word in absent:
        assert word not in tokens, (word, tokens)


@pytest.mark.parametrize("question", [
    "ما هي نتائج الانتخابات النيابية في بيروت؟",
    "متى أعلنت هيئة الانتخابات العراقية النتائج؟",
    "ماذا قال حزب العدالة والتنمية عن المعارضة؟",
    "كم عدد العملاء الذين فقد بنك كومنولث بياناتهم؟",
    "هل هناك أية أدلة على تسريب كلمات السر كما يلي في البيان؟",
    "من فاز بجائزة أفضل كتاب في معرض الكتاب؟",
    "لماذا سحبت نايكي أحذية المنتخب الإيراني؟",
    "ماذا حدث في التجمع المؤيد لرئيس الوزراء الإثيوبي أبي أحمد في أديس أبابا؟",
    "أين وقع إطلاق النار في كندا؟",
    "بنتاغون يعلن بيانات جديدة عن بيونغ يانغ",
    "ماذا حدث في محافظة ديالى العراقية؟",
])
def test_msa_questions_and_false_friends_are_left_alone(question: str) -> None:
    rewritten = rewrite_question(question)
    assert rewritten.text == question
    assert rewritten.normalised == normalise(question)
    assert rewritten.dialect == "msa"
    assert rewritten.words == ()


@pytest.mark.parametrize(("question", "kept"), [
    ("شو عم يصير ببيروت هلق؟", ["بيروت"]),
    ("ليش حزب الله عم يهدد اسرائيل", ["حزب", "يهدد"]),
    ("وين مقر هيئة الامم اللي بدها تحقق", ["هييه"]),
    ("كم عميل ضاعت بياناتهم اللي في بنك كومنولث", ["بياناتهم", "بنك"]),
    ("ايه اللي حصل هناك في بنغازي", ["هناك", "بنغازي"]),
    ("شنو سمية كتاب لي ربح الجائزة ديال البوكر", ["كتاب"]),
    ("فين وقع الضرب ديال الرصاص فكندا كيف ماتو", ["كيف", "كندا"]),
    ("وين صار اطلاق النار في كندا اللي مات فيه شرطيين", ["كندا"]),
    ("كيم كارداشيان عايزة تخرج مين من السجن", ["كيم"]),
    ("وش صار في تجمع ابي احمد باديس ابابا", ["ابي", "احمد"]),
    ("شو عم يعمل البنتاغون ببيانات الدرونز", ["بيانات"]),
    ("امتى غادي تتحل كنيسة الناصرة ديال المسيحيين", ["كنيسه"]),
])
def test_dialect_questions_keep_real_words_that_look_prefixed(question: str, kept: list[str]) -> None:
    tokens = rewrite_question(question).normalised.split()
    for word in kept:
        assert word in tokens, (word, tokens)


def test_maghrebi_ka_prefix_is_stripped_only_in_maghrebi_questions() -> None:
    assert "تدوم" in rewrite_question("شحال كتدوم الرحلة ديال سنغافورة").normalised.split()
    levantine = rewrite_question("قديش كتير كتدوم الرحلة لسنغافورة").normalised.split()
    assert "كتدوم" in levantine
    assert "تدوم" not in levantine


@pytest.mark.parametrize(("question", "dialect"), [
    ("شحال ديال الفلوس خدا ابراهيم نصر الله فجائزة البوكر", "maghrebi"),
    ("علاش خرجو الوريث ديال سامسونغ من الحبس", "maghrebi"),
    ("شو عم تبحث الكوريتين بموضوع سكك الحديد", "levantine"),
    ("قديش لازم تدفع سامسونغ لآبل", "levantine"),
    ("ليه تويتر عايز الناس تغير كلمة السر؟", "egyptian"),
    ("سامسونج هتدفع كام لابل؟", "egyptian"),
    ("منو السجين اللي تبي كيم كارداشيان تطلعه", "gulf"),
    ("وش صار في تجمع ابي احمد", "gulf"),
    ("كم بلغت كفالة إطلاق سراح هارفي واينستين؟", "msa"),
])
def test_guess_dialect(question: str, dialect: str) -> None:
    assert guess_dialect(question) == dialect


def test_dialect_words_report_what_was_seen_and_what_it_became() -> None:
    words = dialect_words("شو عم تبحث الكوريتين بموضوع سكك الحديد")
    assert [(w.surface, w.msa, w.kind) for w in words[:2]] == [("شو", "ماذا", "question"), ("عم", "", "particle")]
    assert "levantine" in words[0].dialects
    maghrebi = dialect_words("من امتى المرا ديال رئيس الانتربول ماقدراش تتصل بيه")
    assert {w.kind for w in maghrebi} >= {"question", "genitive", "negation"}
    assert dialect_words("متى تفتتح أول دار عرض سينمائي في السعودية؟") == []


def test_the_original_question_is_kept_for_quoting() -> None:
    question = "ليش فاتت ميلانيا ترامب عالمستشفى؟"
    rewritten = rewrite_question(question)
    assert rewritten.original == question
    assert rewritten.text != question
    assert matching_text(question) == rewritten.text


@pytest.mark.parametrize(("dialect", "msa"), [
    ("شو عم يطلب ترامب من كوريا الشمالية؟", "ماذا يطلب ترامب من كوريا الشمالية؟"),
    ("ليش رح يسافر ماكرون على واشنطن؟", "لماذا يسافر ماكرون على واشنطن؟"),
    ("وش اللي يبي ترامب من كوريا الشمالية؟", "ماذا الذي يريد ترامب من كوريا الشمالية؟"),
    ("ليه السعودية هتفتح السينما دلوقتي؟", "لماذا السعودية تفتح السينما الآن؟"),
    ("علاش المغرب كيطلب دعم جنوب افريقيا ديال المونديال؟", "لماذا المغرب يطلب دعم جنوب افريقيا المونديال؟"),
    ("امتى غادي يتحل المطار ديال صلالة؟", "متى يتحل المطار صلالة؟"),
])
def test_dialect_twins_map_to_the_msa_token_set(dialect: str, msa: str) -> None:
    before = _jaccard(lexical_tokens(dialect), lexical_tokens(msa))
    after = _jaccard(lexical_tokens(matching_text(dialect)), lexical_tokens(matching_text(msa)))
    assert after > before
    assert after >= 0.8


def _dev_rows() -> list[dict]:
    return [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines()]


def test_rewrite_works_on_the_normalised_form_of_every_dev_question() -> None:
    for row in _dev_rows():
        question = row["question"]
        assert rewrite_question(normalise(question)).normalised == rewrite_question(question).normalised, question
        assert question_type(normalise(question)) == question_type(question)


def test_dev_set_twins_move_towards_their_msa_version() -> None:
    rows = _dev_rows()
    msa = {row["need_id"]: row["question"] for row in rows if row["dialect"] == "msa"}
    before: dict[str, list[float]] = {}
    after: dict[str, list[float]] = {}
    for row in rows:
        if row["dialect"] == "msa":
            assert matching_text(row["question"]) == row["question"]
            continue
        target = lexical_tokens(msa[row["need_id"]])
        before.setdefault(row["dialect"], []).append(_jaccard(lexical_tokens(row["question"]), target))
        after.setdefault(row["dialect"], []).append(_jaccard(lexical_tokens(matching_text(row["question"])), target))
    for dialect in ("gulf", "egyptian", "levantine", "maghrebi"):
        assert sum(after[dialect]) > sum(before[dialect]), dialect
    mean_before = sum(map(sum, before.values())) / sum(map(len, before.values()))
    mean_after = sum(map(sum, after.values())) / sum(map(len, after.values()))
    assert mean_after >= mean_before + 0.04


def test_question_types_of_the_dev_set_agree_across_dialect_twins() -> None:
    rows = _dev_rows()
    by_need: dict[str, set[str]] = {}
    for row in rows:
        by_need.setdefault(row["need_id"], set()).add(question_type(row["question"]))
    agreeing = sum(1 for types in by_need.values() if len(types) == 1)
    assert agreeing >= len(by_need) - 2


@pytest.mark.parametrize(("question", "present", "absent"), [
    # a word only the dialects use is replaced by the MSA word the news uses
    ("علاش ميلانيا ترامب دخلات لسبيطار", ["مستشفي"], ["لسبيطار"]),
    ("شكون لي طيح الهليكوبتر التركية فعفرين", ["سقط", "اسقط"], ["طيح"]),
    ("مين يلي وقع الطيارة التركية بعفرين؟", ["طايره"], ["الطياره"]),
    ("شحال ديال الفلوس خدا ابراهيم نصر الله فجائزة البوكر", ["اموال"], ["الفلوس"]),
    ("فين قتلو جوج بوليسية فكندا", ["اثنين", "شرطه"], ["بوليسيه", "وليسيه"]),
    # a word that is also MSA keeps its place; the MSA word is added beside it
    ("شحال خاص سامسونغ تخلص لابل حيت قلدات الايفون", ["تخلص", "دفع"], []),
    ("عجز الموازنة في مصر نزل لكام في المية؟", ["نزل", "انخفض"], []),
    # a dialect verb under a dialect prefix: the prefix goes, then the verb becomes MSA
    ("شو عم بيشوف الجيش بالصور؟", ["راي"], ["بيشوف", "يشوف"]),
])
def test_dialect_content_words_are_matched_as_the_msa_the_news_uses(question: str, present: list[str],
                                                                     absent: list[str]) -> None:
    rewritten = rewrite_question(question)
    tokens = rewritten.normalised.split()
    for word in present:
        assert word in tokens, (word, tokens)
    for word in absent:
        assert word not in tokens, (word, tokens)
    assert any(word.kind == "vocabulary" for word in rewritten.words)
    assert rewritten.original == question  # what is quoted against stays the reader's words


def test_dialect_vocabulary_needs_a_dialect_of_its_own_and_never_touches_msa() -> None:
    # «خلص» pays in Maghrebi but finishes in Egyptian and Levantine: not rewritten there.
    assert "دفع" not in rewrite_question("امتى خلص الاجتماع اللي في القاهرة؟").normalised.split()
    # MSA questions that use the same letters are left exactly as typed.
    for question in ("متى نزل المطر في الرياض؟", "من شاهد الطائرة قبل سقوطها؟", "كم دفع النادي للاعب؟"):
        assert rewrite_question(question).text == question
    # A replaced word of one dialect is a dialect word by itself: the question is rewritten.
    assert "مستشفي" in rewrite_question("متى دخل الرئيس السبيطار؟").normalised.split()
    assert guess_dialect("متى دخل الرئيس السبيطار؟") == "maghrebi"
