"""Fusion of dense and BM25 rankings, and quote selection, on real Arabic examples."""

from __future__ import annotations

import json

import pytest

from corpus import Article, Chunk
from index.search import quotes as quote_module
from index.search.fusion import FusionWeights, fuse, normalise_scores
from index.search.quotes import QuoteSelector
from tests.support.paths import QA_DIR


def test_rrf_rewards_agreement_between_the_two_rankings() -> None:
    dense = {1: 0.91, 2: 0.90, 3: 0.80}
    lexical = {3: 12.0, 4: 9.0, 1: 1.0}
    fused = fuse(dense, lexical, FusionWeights(dense=1.0, rrf_k=60, score_weight=0.0))
    assert max(fused, key=fused.__getitem__) == 1  # ranked 1st and 3rd beats 1st-only
    assert fused[3] > fused[2]
    assert fused[3] > fused[4]
    assert set(fused) == {1, 2, 3, 4}


def test_weights_shift_the_balance() -> None:
    dense = {1: 0.9, 2: 0.5}
    lexical = {2: 10.0, 1: 1.0}
    towards_dense = fuse(dense, lexical, FusionWeights(dense=2.0, lexical=1.0, score_weight=0.0))
    towards_lexical = fuse(dense, lexical, FusionWeights(dense=1.0, lexical=2.0, score_weight=0.0))
    assert towards_dense[1] > towards_dense[2]
    assert towards_lexical[2] > towards_lexical[1]


def test_score_term_keeps_confidence() -> None:
    dense = {1: 0.95, 2: 0.40, 3: 0.39}
    lexical = {2: 5.0, 1: 4.9, 3: 4.8}
    plain = fuse(dense, lexical, FusionWeights(dense=1.0, score_weight=0.0))
    confident = fuse(dense, lexical, FusionWeights(dense=1.0, score_weight=2.0))
    assert plain[1] == pytest.approx(plain[2])  # RRF alone sees ranks 1+2 vs 2+1: a tie
    assert confident[1] > confident[2]  # the dense margin breaks it


def test_normalise_scores_handles_flat_pools() -> None:
    assert normalise_scores({1: 3.0, 2: 3.0}) == {1: 1.0, 2: 1.0}
    assert normalise_scores({1: 2.0, 2: 1.0, 3: 0.0}) == {1: 1.0, 2: 0.5, 3: 0.0}
    assert fuse({}, {}) == {}


def _xquad_examples(count: int) -> list[tuple[Article, str, str]]:
    passages = {}
    for line in (QA_DIR / "xquad_ar.passages.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        passages[record["pid"]] = Article(record["pid"], record["title"], record["text"])
    examples = []
    for line in (QA_DIR / "xquad_ar.questions.jsonl").read_text(encoding="utf-8").splitlines()[:count]:
        record = json.loads(line)
        examples.append((passages[record["pid"]], record["question"], record["answers"][0]))
    return examples


def test_lexical_quote_selection_finds_the_answer_sentence_in_real_passages() -> None:
    examples = _xquad_examples(60)
    selector = QuoteSelector()
    found, lengths = 0, []
    for article, question, answer in examples:
        chunk = Chunk(article.id + "#0", article.id, article.text, 0, len(article.text))
        quote = selector.select(question, [(article, chunk)])[0]
        assert article.text[quote.start:quote.end] == quote.text
        assert len(quote.text) <= len(article.text)
        found += answer in quote.text
        lengths.append(len(quote.text))
    assert found / len(examples) >= 0.6
    # Whole Wikipedia paragraphs of ~700 characters: the quote must stay a highlight of a few
    # sentences, or "answer in quote" would be bought with length.
    assert sum(lengths) / len(lengths) <= 1.5 * quote_module.MAX_QUOTE_CHARS / 2


def _whole(article: Article) -> list[tuple[Article, Chunk]]:
    return [(article, Chunk(article.id + "#0", article.id, article.text, 0, len(article.text)))]


def test_quote_of_a_specific_question_is_the_answer_sentence_not_the_whole_passage() -> None:
    text = ("أعلنت الحكومة اليوم عن خطة جديدة لتطوير شبكة النقل العام في العاصمة خلال السنوات الخمس المقبلة. "
            "وتشمل الخطة إنشاء خطوط جديدة للحافلات والقطارات الخفيفة وتوسيع المحطات القائمة. "
            "وقال وزير النقل إن المشروع سيكلف 3 مليارات دولار وسيتم تمويله من الموازنة العامة والقروض الميسرة. "
            "ومن المتوقع أن يبدأ العمل في الربيع المقبل بعد استكمال الدراسات الفنية. "
            "ورحب سكان العاصمة بالخطة لكنهم طالبوا بحلول عاجلة للازدحام المروري الخانق في ساعات الذروة. "
            "كما دعا خبراء إلى إشراك القطاع الخاص في تشغيل الخطوط الجديدة لضمان جودة الخدمة.")
    article = Article("a", "خطة النقل", text)
    quote = QuoteSelector().select("كم سيكلف مشروع النقل؟", _whole(article))[0]
    assert "وقال وزير النقل إن المشروع سيكلف 3 مليارات دولار" in quote.text  # the answer sentence ...
    assert quote_module.MIN_QUOTE_CHARS <= len(quote.text) <= quote_module.MAX_QUOTE_CHARS  # ... a highlight,
    assert "أعلنت الحكومة" not in quote.text
    assert "كما دعا خبراء" not in quote.text
    assert article.text[quote.start:quote.end] == quote.text


def test_a_name_with_an_initial_is_not_cut_out_of_the_quote() -> None:
    text = ("نظم أعضاء الكنيسة الذين يؤيدون هذا الموقف أنفسهم في فريق عمل لتعزيز مكانتهم داخل الطائفة. "
            "وقال القس بول ت. ستالسوورث، رئيس فريق العمل، إن المندوبين كانوا سيفوزون بتصويت مباشر. "
            "وقد جرت محاولة لسحب عضوية الكنيسة من الائتلاف في مؤتمرهم العام الذي عقد في مايو 2012.")
    article = Article("t", "الكنيسة", text)
    quote = QuoteSelector().select("من هو رئيس فريق العمل؟", _whole(article))[0]
    assert "بول ت. ستالسوورث" in quote.text


def test_how_many_question_prefers_the_sentence_with_a_number() -> None:
    text = ("شارك في المؤتمر ممثلون عن الدول الأعضاء في المنظمة الدولية وناقشوا قضايا المناخ والطاقة "
            "والتنمية المستدامة. "
            "وبلغ عدد المشاركين في المؤتمر 450 مندوبا من مختلف دول العالم حسب ما أعلنه المنظمون في ختام أعمال المؤتمر.")
    article = Article("b", "مؤتمر المناخ", text)
    chunk = Chunk("b#0", "b", text, 0, len(text))
    quote = QuoteSelector().select("كم عدد المشاركين في المؤتمر؟", [(article, chunk)])[0]
    assert "450" in quote.text


def test_a_word_with_a_one_letter_proclitic_matches_the_question_s_bare_word() -> None:
    # mlqa_dev_ar, verbatim: «بأفغانستان» stems to «بافغانس», the question's «أفغانستان» to «افغانس»;
    # without the match the third sentence (the bare word, no number) won and the answer was cut out.
    text = ("ولاية ننکرهار (ننگرهار: بالباشتو والفارسية) من إحدی المحافظات الـ 34 بأفغانستان تقع شرقی البلاد مع "
            "الحدود الباکستانية. عاصمتها مدينة جلال آباد ويصل عدد سکانها إلی أکثر من 1,436,000 نسمة، ومساحتها 7727 "
            "کيلو متر مربع. يتحدث معظم سکانها لغة الباشتو حيث أنها تعد معقل البشتون والآدب البشتوني فی أفغانستان. "
            "انفصلت عنها لغمان وکونر فی السابق وأصبحتا محافظتين مستقلتين.")
    article = Article("n", "ننكرهار", text)
    quote = QuoteSelector().select("كم عدد المقاطعات في أفغانستان؟", _whole(article))[0]
    assert "المحافظات الـ 34 بأفغانستان" in quote.text
    variants = quote_module._clitic_variants({"بكابول", "افغانس"})
    assert quote_module._matched_terms("وصل الوفد إلى كابول", variants) == {"بكابول"}  # the question has it
    assert quote_module._matched_terms("المحافظات الـ 34 بأفغانستان", variants) == {"افغانس"}  # the sentence has it
    assert quote_module._clitic_variants({"بحر"}) == {"بحر": "بحر"}  # a three-letter word keeps its first letter


def test_semantic_evidence_is_used_when_an_embedder_is_given(tiny_embedder) -> None:  # noqa: ANN001
    article, question, _ = _xquad_examples(1)[0]
    chunk = Chunk(article.id + "#0", article.id, article.text, 0, len(article.text))
    quote = QuoteSelector(tiny_embedder).select(question, [(article, chunk)] * 2)[0]
    assert article.text[quote.start:quote.end] == quote.text


def test_default_fusion_prefers_a_confident_dense_hit_over_a_marginal_lexical_one() -> None:
    dense = {1: 0.92, 2: 0.81, 3: 0.80}
    lexical = {2: 7.1, 3: 7.0, 1: 6.9}
    fused = fuse(dense, lexical)
    assert max(fused, key=fused.__getitem__) == 1
