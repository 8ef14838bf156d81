"""Time expressions in real questions, resolved against the archive's newest day (Thursday 14 June 2018)."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from corpus.arabic import normalise
from index.search.timeexpr import TimeQuery, parse_time

REFERENCE = date(2018, 6, 14)  # a Thursday: the World Cup opened in Moscow that day

D = date
P = pytest.param

#: (question, since, until): the period each question asks about.
PERIODS = [
    # relative days
    P("ما أخبار مونديال روسيا اليوم؟", D(2018, 6, 14), D(2018, 6, 14), id="today"),
    P("ماذا قال بومبيو أمس عن كوريا الشمالية؟", D(2018, 6, 13), D(2018, 6, 13), id="yesterday"),
    P("ماذا حدث في غزة البارحة؟", D(2018, 6, 13), D(2018, 6, 13), id="yesterday-albariha"),
    P("ماذا حدث بالأمس في البصرة؟", D(2018, 6, 13), D(2018, 6, 13), id="yesterday-bil-ams"),
    P("ماذا فعل محمد صلاح مساء أمس؟", D(2018, 6, 13), D(2018, 6, 13), id="yesterday-evening"),
    P("من فاز في مباراة أول أمس؟", D(2018, 6, 12), D(2018, 6, 12), id="day-before-yesterday"),
    P("ما الذي جرى في عدن أمس الأول؟", D(2018, 6, 12), D(2018, 6, 12), id="ams-al-awwal"),
    P("ماذا أعلن الحوثيون منذ يومين؟", D(2018, 6, 12), D(2018, 6, 14), id="ago-2-days-dual"),
    P("ماذا حدث في الحديدة منذ ثلاثة أيام؟", D(2018, 6, 11), D(2018, 6, 14), id="ago-3-days-word"),
    P("ماذا قال وزير الخارجية السعودي منذ ٥ أيام؟", D(2018, 6, 9), D(2018, 6, 14), id="ago-5-days-arabic-indic"),
    P("ماذا قال الحريري منذ 10 أيام؟", D(2018, 6, 4), D(2018, 6, 14), id="ago-10-days-latin"),
    P("ما أهم أحداث اليمن خلال الأيام الثلاثة الماضية؟", D(2018, 6, 11), D(2018, 6, 14), id="last-3-days-window"),
    P("ماذا جرى في الغوطة الشرقية في الأيام الأخيرة؟", D(2018, 6, 7), D(2018, 6, 14), id="last-days-few"),
    P("ما أخبار الحديدة في الساعات الأخيرة؟", D(2018, 6, 13), D(2018, 6, 14), id="last-hours"),
    P("ماذا حدث في الأسواق خلال الـ24 ساعة الماضية؟", D(2018, 6, 13), D(2018, 6, 14), id="last-24-hours"),
    P("ماذا قال ماكرون في آخر ثلاثة أيام؟", D(2018, 6, 11), D(2018, 6, 14), id="last-3-days-akhir"),
    # weeks
    P("ماذا حدث في سوريا الأسبوع الماضي؟", D(2018, 6, 2), D(2018, 6, 8), id="last-week"),
    P("ما أخبار الاقتصاد المصري هذا الأسبوع؟", D(2018, 6, 9), D(2018, 6, 14), id="this-week"),
    P("ماذا قالت إيران عن الاتفاق النووي الأسبوع المنصرم؟", D(2018, 6, 2), D(2018, 6, 8), id="last-week-munsarim"),
    P("ما نتائج مباريات الدوري الإسباني في الأسبوع الفائت؟", D(2018, 6, 2), D(2018, 6, 8), id="last-week-faait"),
    P("ماذا حدث في فنزويلا الأسبوع قبل الماضي؟", D(2018, 5, 26), D(2018, 6, 1), id="week-before-last"),
    P("ماذا قال أردوغان منذ أسبوعين؟", D(2018, 5, 31), D(2018, 6, 14), id="ago-2-weeks"),
    P("ما تطورات الأزمة القطرية خلال الأسبوعين الماضيين؟", D(2018, 5, 31), D(2018, 6, 14), id="last-2-weeks-window"),
    # months, relative
    P("ما أخبار أسعار النفط هذا الشهر؟", D(2018, 6, 1), D(2018, 6, 14), id="this-month"),
    P("ماذا حدث في الانتخابات اللبنانية الشهر الماضي؟", D(2018, 5, 1), D(2018, 5, 31), id="last-month"),
    P("ماذا أعلنت أوبك الشهر المنصرم؟", D(2018, 5, 1), D(2018, 5, 31), id="last-month-munsarim"),
    P("ماذا حدث الشهر قبل الماضي في إدلب؟", D(2018, 4, 1), D(2018, 4, 30), id="month-before-last"),
    P("كيف تطورت أسعار الذهب منذ شهرين؟", D(2018, 4, 14), D(2018, 6, 14), id="ago-2-months"),
    P("ما الذي تغير في سوق العقارات منذ ثلاثة أشهر؟", D(2018, 3, 14), D(2018, 6, 14), id="ago-3-months"),
    P("ما أخبار اليمن خلال الشهرين الماضيين؟", D(2018, 4, 14), D(2018, 6, 14), id="last-2-months-window"),
    # months by name, no year: the latest one not after the reference
    P("أين أقيم حفل تامر حسني في مارس؟", D(2018, 3, 1), D(2018, 3, 31), id="march"),
    P("ماذا حدث في عفرين في آذار؟", D(2018, 3, 1), D(2018, 3, 31), id="adhar"),
    P("ما أخبار خطوبة كاظم الساهر في شهر مارس الماضي؟", D(2018, 3, 1), D(2018, 3, 31), id="shahr-march-madi"),
    P("ماذا حدث في ليبيا في كانون الثاني؟", D(2018, 1, 1), D(2018, 1, 31), id="levant-january"),
    P("ما أخبار الغوطة في شباط؟", D(2018, 2, 1), D(2018, 2, 28), id="levant-february"),
    P("ماذا حدث في القدس في أيار؟", D(2018, 5, 1), D(2018, 5, 31), id="levant-may"),
    P("ماذا حدث في تموز الماضي؟", D(2017, 7, 1), D(2017, 7, 31), id="levant-july-madi"),
    P("ما أخبار الاستفتاء الكردي في أيلول؟", D(2017, 9, 1), D(2017, 9, 30), id="levant-september"),
    P("ما نتائج الانتخابات في تشرين الثاني؟", D(2017, 11, 1), D(2017, 11, 30), id="levant-november"),
    P("ماذا حدث في كانون الأول؟", D(2017, 12, 1), D(2017, 12, 31), id="levant-december"),
    P("ماذا قرر ترامب بشأن القدس في ديسمبر؟", D(2017, 12, 1), D(2017, 12, 31), id="december"),
    P("ما أخبار السياحة في مصر في يناير؟", D(2018, 1, 1), D(2018, 1, 31), id="january"),
    P("ماذا قالت السعودية في إبريل؟", D(2018, 4, 1), D(2018, 4, 30), id="april-hamza-below"),
    P("ماذا حدث في مايو في لبنان؟", D(2018, 5, 1), D(2018, 5, 31), id="may"),
    P("متى افتتح كأس العالم في يونيه؟", D(2018, 6, 1), D(2018, 6, 30), id="june-yunyah"),
    P("ماذا حدث في أغشت الماضي بالمغرب؟", D(2017, 8, 1), D(2017, 8, 31), id="moroccan-august-madi"),
    P("ما أخبار الحسيمة في أكتوبر؟", D(2017, 10, 1), D(2017, 10, 31), id="october"),
    P("ماذا قرر البرلمان المغربي في نونبر؟", D(2017, 11, 1), D(2017, 11, 30), id="moroccan-november"),
    P("ما أخبار تونس في فيفري؟", D(2018, 2, 1), D(2018, 2, 28), id="algerian-february"),
    P("ماذا حدث في الجزائر في أفريل؟", D(2018, 4, 1), D(2018, 4, 30), id="algerian-april"),
    P("ماذا قال بوتفليقة في جوان؟", D(2018, 6, 1), D(2018, 6, 30), id="algerian-june"),
    P("ماذا حدث في آب في دمشق؟", D(2017, 8, 1), D(2017, 8, 31), id="ab-with-madda"),
    P("ماذا حدث في يونيو الماضي؟", D(2017, 6, 1), D(2017, 6, 30), id="june-madi"),
    P("ماذا حدث منذ مارس في الغوطة؟", D(2018, 3, 1), D(2018, 6, 14), id="since-march"),
    # months with a year, and the combined agency form
    P("ما أبرز أحداث مارس 2018 في العراق؟", D(2018, 3, 1), D(2018, 3, 31), id="march-2018"),
    P("ماذا جرى في الغوطة في آذار/مارس 2018؟", D(2018, 3, 1), D(2018, 3, 31), id="agency-adhar-slash-march"),
    P("ماذا حدث في آذار (مارس) ٢٠١٨ في الغوطة؟", D(2018, 3, 1), D(2018, 3, 31), id="agency-parentheses-persian-year"),
    P("ما أخبار نيسان/أبريل من عام 2018 في الأردن؟", D(2018, 4, 1), D(2018, 4, 30), id="agency-april-min-aam"),
    P("ما الذي جرى في حزيران 2017 في قطر؟", D(2017, 6, 1), D(2017, 6, 30), id="levant-june-2017"),
    P("ماذا حدث في العراق في آب 2017؟", D(2017, 8, 1), D(2017, 8, 31), id="levant-august-2017"),
    P("ماذا حدث في تشرين الأول 2017 في كركوك؟", D(2017, 10, 1), D(2017, 10, 31), id="levant-october-2017"),
    P("ماذا حدث في فبراير 2018 في الغوطة؟", D(2018, 2, 1), D(2018, 2, 28), id="february-2018"),
    P("ما أخبار مصر في يوليو 2017؟", D(2017, 7, 1), D(2017, 7, 31), id="july-2017"),
    P("ماذا حدث في شتنبر 2017 بالرباط؟", D(2017, 9, 1), D(2017, 9, 30), id="moroccan-september"),
    P("ما أخبار الرباط في دجنبر 2017؟", D(2017, 12, 1), D(2017, 12, 31), id="moroccan-december"),
    P("ماذا حدث في الجزائر في جانفي 2018؟", D(2018, 1, 1), D(2018, 1, 31), id="algerian-january"),
    P("ما نتائج الانتخابات البلدية التونسية في ماي 2018؟", D(2018, 5, 1), D(2018, 5, 31), id="tunisian-may"),
    P("ما أخبار الجزائر في جويلية 2017؟", D(2017, 7, 1), D(2017, 7, 31), id="algerian-july"),
    P("ماذا حدث في أوت 2017 بالجزائر؟", D(2017, 8, 1), D(2017, 8, 31), id="algerian-august"),
    P("ما الذي حدث في 3/2018 في البورصة؟", D(2018, 3, 1), D(2018, 3, 31), id="numeric-month-year"),
    # days
    P("ماذا قال ترامب في ١٥ آذار ٢٠١٨؟", D(2018, 3, 15), D(2018, 3, 15), id="day-month-year-arabic-indic"),
    P("ماذا قال ترامب في 15/3/2018؟", D(2018, 3, 15), D(2018, 3, 15), id="numeric-dmy"),
    P("ما الذي أعلنه البنك المركزي في 2018-03-15؟", D(2018, 3, 15), D(2018, 3, 15), id="numeric-iso"),
    P("ماذا حدث في الرياض بتاريخ ١٥-٠٣-٢٠١٨؟", D(2018, 3, 15), D(2018, 3, 15), id="numeric-dashes-arabic-indic"),
    P("ماذا حدث في ۱۵ مارس ۲۰۱۸؟", D(2018, 3, 15), D(2018, 3, 15), id="persian-digits"),
    P("ماذا أعلنت وزارة الصحة اليمنية في ٢٠ فبراير؟", D(2018, 2, 20), D(2018, 2, 20), id="day-month"),
    P("متى يقام حفل تامر حسني في الـ30 من آذار/مارس؟", D(2018, 3, 30), D(2018, 3, 30), id="day-al-30-agency-form"),
    P("ماذا حدث في إسبانيا يوم 2 يونيو؟", D(2018, 6, 2), D(2018, 6, 2), id="yawm-day-month"),
    P("ماذا حدث في 25 ديسمبر؟", D(2017, 12, 25), D(2017, 12, 25), id="december-25-last-year"),
    # ranges
    P("ما أخبار الحرب التجارية بين الصين وأمريكا بين مارس وأبريل 2018؟", D(2018, 3, 1), D(2018, 4, 30),
      id="between-months-year"),
    P("ماذا حدث في الأردن في الفترة من 1 إلى 10 يونيو؟", D(2018, 6, 1), D(2018, 6, 10), id="from-day-to-day"),
    P("ما نسبة النمو بين عامي 2016 و2018؟", D(2016, 1, 1), D(2018, 12, 31), id="between-years"),
    P("ماذا حدث في الموصل من تشرين الأول إلى كانون الأول 2016؟", D(2016, 10, 1), D(2016, 12, 31),
      id="from-levant-to-levant-month"),
    P("ما أخبار المغرب بين ديسمبر ويناير؟", D(2017, 12, 1), D(2018, 1, 31), id="between-december-january"),
    # years
    P("ماذا حدث في العراق عام 2018؟", D(2018, 1, 1), D(2018, 12, 31), id="aam-2018"),
    P("كم عدد ضحايا الكوليرا في اليمن سنة ٢٠١٧؟", D(2017, 1, 1), D(2017, 12, 31), id="sana-2017-arabic-indic"),
    P("ماذا حدث في حلب في 2016؟", D(2016, 1, 1), D(2016, 12, 31), id="fi-2016"),
    P("ما الميزانية السعودية للعام 2018؟", D(2018, 1, 1), D(2018, 12, 31), id="lil-aam-2018"),
    P("ما أبرز أحداث العام الماضي في مصر؟", D(2017, 1, 1), D(2017, 12, 31), id="last-year"),
    P("ماذا حدث في السنة الماضية في تونس؟", D(2017, 1, 1), D(2017, 12, 31), id="last-year-sana"),
    P("ماذا حدث في العراق في العام قبل الماضي؟", D(2016, 1, 1), D(2016, 12, 31), id="year-before-last"),
    P("ما الذي تحقق من رؤية 2030 هذا العام؟", D(2018, 1, 1), D(2018, 6, 14), id="this-year"),
    P("ما توقعات النمو للعام الحالي؟", D(2018, 1, 1), D(2018, 6, 14), id="current-year"),
    P("ماذا حدث في سوريا منذ عامين؟", D(2016, 6, 14), D(2018, 6, 14), id="ago-2-years"),
    P("ما أخبار العراق منذ بداية العام؟", D(2018, 1, 1), D(2018, 6, 14), id="since-start-of-year"),
    P("ماذا حدث في سوريا منذ عام 2011؟", D(2011, 1, 1), D(2018, 6, 14), id="since-2011"),
    P("ماذا حدث في الأردن في مارس من العام الماضي؟", D(2017, 3, 1), D(2017, 3, 31), id="month-of-last-year"),
    P("ما أخبار الليرة التركية في منتصف 2017؟", D(2017, 1, 1), D(2017, 12, 31), id="mid-year-whole-year"),
    P("كيف تغيرت البطالة في تونس خلال الأشهر الستة الماضية؟", D(2017, 12, 14), D(2018, 6, 14),
      id="last-6-months-window"),
    # weekdays
    P("ماذا حدث يوم الجمعة الماضي في غزة؟", D(2018, 6, 8), D(2018, 6, 8), id="last-friday"),
    P("ماذا قال نتنياهو يوم الاثنين؟", D(2018, 6, 11), D(2018, 6, 11), id="monday"),
    P("ماذا حدث في القاهرة الخميس الماضي؟", D(2018, 6, 7), D(2018, 6, 7), id="last-thursday-is-a-week-back"),
    P("ماذا حدث في درعا مساء الأحد؟", D(2018, 6, 10), D(2018, 6, 10), id="sunday-evening"),
    P("ما أخبار الحديدة منذ يوم السبت؟", D(2018, 6, 9), D(2018, 6, 14), id="since-saturday"),
    # spelling: diacritics, tatweel, prefixes, several expressions
    P("ماذا حَدَثَ أَمْسِ فِي غَزَّةَ؟", D(2018, 6, 13), D(2018, 6, 13), id="diacritics"),
    P("ماذا حدث في الاســبوع المــاضي؟", D(2018, 6, 2), D(2018, 6, 8), id="tatweel"),
    P("ما أخبار غزة اليوم وأمس؟", D(2018, 6, 13), D(2018, 6, 14), id="two-expressions-hull"),
    P("ماذا قال عباس الشهر الماضي وهذا الشهر؟", D(2018, 5, 1), D(2018, 6, 14), id="conjunction-wa-hatha"),
]


@pytest.mark.parametrize(("question", "since", "until"), PERIODS)
def test_period_of_question(question: str, since: date, until: date) -> None:
    found = parse_time(question, REFERENCE)
    assert found.period is not None, question
    assert (found.period.since, found.period.until) == (since, until)


#: Questions that ask for the newest news: no range, the recency flag, and the cleaned question.
LATEST = [
    P("ما آخر أخبار الانتخابات العراقية؟", "ما الانتخابات العراقية؟", id="akhir-akhbar"),
    P("ما أحدث التطورات في الحديدة؟", "ما في الحديدة؟", id="ahdath-tatawwurat"),
    P("ما آخر المستجدات في ملف سد النهضة؟", "ما في ملف سد النهضة؟", id="akhir-mustajaddat"),
    P("ما الجديد في مفاوضات سد النهضة؟", "في مفاوضات سد النهضة؟", id="ma-al-jadid"),
    P("ماذا قال ترامب مؤخراً عن إيران؟", "ماذا قال ترامب عن إيران؟", id="muakharan"),
    P("كم عدد ضحايا الكوليرا في اليمن حتى الآن؟", "كم عدد ضحايا الكوليرا في اليمن؟", id="hatta-al-an"),
    P("ما آخر ما قاله بوتين عن سوريا؟", "ما قاله بوتين عن سوريا؟", id="akhir-ma"),
    P("ماذا يحدث الآن في درعا؟", "ماذا يحدث في درعا؟", id="al-an"),
    P("ماذا سيحدث في قمة سنغافورة الأسبوع المقبل؟", "ماذا سيحدث في قمة سنغافورة؟", id="next-week-future"),
    P("متى يلعب المنتخب السعودي غداً؟", "متى يلعب المنتخب السعودي؟", id="tomorrow-future"),
    P("ماذا سيحدث في أكتوبر المقبل؟", "ماذا سيحدث؟", id="next-october-future"),
    P("ما أخبار درعا هذه الأيام؟", "ما أخبار درعا؟", id="hadhihi-al-ayyam"),
]


@pytest.mark.parametrize(("question", "cleaned"), LATEST)
def test_latest_questions_set_the_flag_without_a_range(question: str, cleaned: str) -> None:
    assert parse_time(question, REFERENCE) == TimeQuery(cleaned, None, True, parse_time(question, REFERENCE).spans)


def test_latest_and_a_range_together() -> None:
    found = parse_time("ما آخر أخبار سوريا هذا الأسبوع؟", REFERENCE)
    assert found.latest
    assert found.period is not None
    assert (found.period.since, found.period.until) == (D(2018, 6, 9), D(2018, 6, 14))
    assert found.question == "ما سوريا؟"


#: Words that look like time but are not: nothing found, the question returned untouched.
NOT_TIME = [
    P("ماذا قال الأمين العام للأمم المتحدة عن غزة؟", id="secretary-general"),
    P("ما موقف الرأي العام المصري من الانتخابات؟", id="public-opinion"),
    P("كيف يرى المصريون الأداء الحكومي بشكل عام؟", id="bishakl-aam"),
    P("ماذا قال المدعي العام السابق عن القضية؟", id="attorney-general-former"),
    P("من هو المدير العام الحالي لمنظمة الصحة العالمية؟", id="director-general-current"),
    P("هل قتل 2018 شخصا في الحرب؟", id="count-not-year"),
    P("ما أهمية رؤية 2030 للاقتصاد السعودي؟", id="vision-2030"),
    P("هل مارس ترامب ضغوطا على كوريا الشمالية؟", id="march-the-verb"),
    P("هل اعتقل أب لثلاثة أطفال في الخليل؟", id="father-ab"),
    P("ماذا قال الأب في المحكمة؟", id="father-al-ab"),
    P("ماذا حدث في الأمسية الشعرية في القاهرة؟", id="amsiya-evening"),
    P("من أمسك بالمتهم في عمان؟", id="amsaka-grabbed"),
    P("ماذا يعني اليوم الوطني السعودي للمواطنين؟", id="national-day"),
    P("كيف احتفل العالم باليوم العالمي للمرأة؟", id="international-day"),
    P("ماذا نشرت صحيفة اليوم السابع عن مصر؟", id="al-yawm-al-sabi-newspaper"),
    P("ما موقف السنة والشيعة من الانتخابات العراقية؟", id="sunnis"),
    P("ماذا قال الخطيب في صلاة الجمعة؟", id="friday-prayer"),
    P("ماذا قال آلان عون عن الحكومة اللبنانية؟", id="alain-not-al-an"),
    P("كم عدد سيارات نيسان المبيعة في السعودية؟", id="nissan-cars"),
    P("ما الذي أحدث الزلزال في إيران من أضرار؟", id="ahdatha-the-verb"),
    P("ماذا قال قائد الجيش قبل شهر رمضان؟", id="before-ramadan"),
    P("ماذا حدث قبل أسبوع من الانتخابات العراقية؟", id="week-before-an-event"),
    P("كم قتيلا سقط بين 3 و5 مدن؟", id="bare-numbers"),
    P("ماذا حدث في ذلك اليوم في حلب؟", id="that-day"),
    P("ما نتيجة مباراة 7-8 في الدوري؟", id="score-not-date"),
    P("ماذا حدث في مثل هذا اليوم في التاريخ؟", id="this-day-in-history"),
    P("ماذا جرى في آخر يوم من رمضان؟", id="last-day-of-ramadan"),
]


@pytest.mark.parametrize("question", NOT_TIME)
def test_non_time_words_are_left_alone(question: str) -> None:
    assert parse_time(question, REFERENCE) == TimeQuery(question)


#: (question, what remains): the time words go, every other word stays as typed.
CLEANED = [
    P("ماذا حدث في سوريا الأسبوع الماضي؟", "ماذا حدث في سوريا؟", id="middle-of-sentence"),
    P("ماذا قال ترامب في ١٥ آذار ٢٠١٨؟", "ماذا قال ترامب؟", id="day-month-year"),
    P("ماذا حَدَثَ أَمْسِ فِي غَزَّةَ؟", "ماذا حَدَثَ فِي غَزَّةَ؟", id="diacritics-kept"),
    P("أمس، ماذا قال الحريري؟", "ماذا قال الحريري؟", id="time-first-with-comma"),
    P("الأسبوع الماضي ماذا قال الحريري؟", "ماذا قال الحريري؟", id="time-first"),
    P("ماذا حدث في الحديدة منذ ثلاثة أيام؟", "ماذا حدث في الحديدة؟", id="ago"),
    P("ما أخبار الحرب التجارية بين الصين وأمريكا بين مارس وأبريل 2018؟",
     "ما أخبار الحرب التجارية بين الصين وأمريكا؟", id="conjunction-between-kept-range-removed"),
    P("ماذا حدث في حلب في 2016؟", "ماذا حدث في حلب؟", id="fi-year"),
    P("ما الذي تحقق من رؤية 2030 هذا العام؟", "ما الذي تحقق من رؤية 2030؟", id="number-kept"),
    P("ما أخبار غزة اليوم وأمس؟", "ما أخبار غزة؟", id="two-expressions"),
    P("ماذا حدث في الاســبوع المــاضي في درعا؟", "ماذا حدث في درعا؟", id="tatweel"),
]


@pytest.mark.parametrize(("question", "cleaned"), CLEANED)
def test_cleaned_question_keeps_the_other_words(question: str, cleaned: str) -> None:
    assert parse_time(question, REFERENCE).question == cleaned


@pytest.mark.parametrize(("question", "label"), [
    P("ماذا حدث في سوريا الأسبوع الماضي؟", "الأسبوع الماضي (٢–٨ يونيو ٢٠١٨)", id="relative-week"),
    P("ماذا جرى في الغوطة في آذار/مارس 2018؟", "مارس ٢٠١٨", id="agency-month"),
    P("ماذا قال ترامب في 15/3/2018؟", "١٥ مارس ٢٠١٨", id="numeric-day"),
    P("ماذا حدث في العراق عام 2018؟", "عام ٢٠١٨", id="whole-year"),
    P("ما أخبار الحرب التجارية بين مارس وأبريل 2018؟", "مارس–أبريل ٢٠١٨", id="month-range"),
    P("ماذا قال بومبيو أمس؟", "أمس (١٣ يونيو ٢٠١٨)", id="relative-day"),
    P("ما أخبار أسعار النفط هذا الشهر؟", "هذا الشهر (١–١٤ يونيو ٢٠١٨)", id="this-month-to-reference"),
    P("ماذا حدث في الأسبوع قبل الماضي؟", "الأسبوع قبل الماضي (٢٦ مايو – ١ يونيو ٢٠١٨)", id="across-months"),
    P("ماذا حدث في سوريا منذ عام 2011؟", "منذ عام 2011 (١ يناير ٢٠١١ – ١٤ يونيو ٢٠١٨)", id="since-year"),
    P("ما أخبار المغرب بين ديسمبر ويناير؟", "ديسمبر ٢٠١٧ – يناير ٢٠١٨", id="across-years"),
    P("ما نسبة النمو بين عامي 2016 و2018؟", "من عام ٢٠١٦ إلى عام ٢٠١٨", id="several-years"),
    P("ما أهم أحداث اليمن على مدى الأيام الثلاثة الماضية؟", "الأيام الثلاثة الماضية (١١–١٤ يونيو ٢٠١٨)",
      id="preposition-left-out"),
])
def test_label_describes_the_period_in_arabic(question: str, label: str) -> None:
    found = parse_time(question, REFERENCE)
    assert found.period is not None
    assert found.period.label == label


@pytest.mark.parametrize(("question", "since", "until"), PERIODS)
def test_every_label_is_arabic_with_arabic_indic_dates(question: str, since: date, until: date) -> None:
    found = parse_time(question, REFERENCE)
    assert found.period is not None
    dates = found.period.label.rsplit("(", 1)[-1]
    assert re.search("[\u0621-\u064a]", dates), found.period.label
    assert re.search("[٠-٩]", dates), found.period.label
    assert not re.search("[0-9]", dates), found.period.label


def test_spans_point_at_the_original_words() -> None:
    question = "ماذا حَدَثَ أَمْسِ فِي غَزَّةَ الأسبوعَ الماضيَ؟"
    found = parse_time(question, REFERENCE)
    assert [question[s:e] for s, e in found.spans] == ["أَمْسِ", "الأسبوعَ الماضيَ"]


def test_reference_is_the_archive_date_not_the_clock() -> None:
    found = parse_time("ماذا حدث الأسبوع الماضي؟", date(2012, 10, 13))  # a Saturday
    assert found.period is not None
    assert (found.period.since, found.period.until) == (D(2012, 10, 6), D(2012, 10, 12))


def test_a_datetime_reference_is_taken_as_its_date() -> None:
    found = parse_time("ماذا حدث أمس؟", datetime(2018, 6, 14, 23, 59))
    assert found.period is not None
    assert found.period.since == D(2018, 6, 13)


def test_impossible_dates_are_not_dates() -> None:
    assert parse_time("ماذا حدث في 31/2/2018؟", REFERENCE).period is None
    assert parse_time("ماذا حدث في 30 فبراير 2018؟", REFERENCE).period is None


_WORDS = ["في", "منذ", "أمس", "اليوم", "الأسبوع", "الماضي", "مارس", "آذار", "/", "2018", "١٥", "عام", "بين", "و",
          "من", "إلى", "آخر", "أخبار", "سوريا", "ثلاثة", "أيام", "يوم", "الجمعة", "هذا", "الشهر", "-", "،", "؟"]


@pytest.mark.fuzz


@given(st.lists(st.sampled_from(_WORDS), max_size=12), st.dates(min_value=D(1990, 1, 1), max_value=D(2090, 1, 1)))
def test_any_question_parses_and_cuts_only_what_it_reports(words: list[str], reference: date) -> None:
    question = " ".join(words)
    found = parse_time(question, reference)
    if found.period:
        assert found.period.since <= found.period.until
    kept = list(question)
    for start, end in found.spans:
        assert 0 <= start < end <= len(question)
        kept[start:end] = [""] * (end - start)
    assert normalise(found.question) == normalise("".join(kept))
