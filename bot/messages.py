"""Every Arabic string the reader sees, in one place (plain text; :mod:`bot.render` escapes and fills them).

Each line starts with an Arabic letter or U+200F (RLM) so Telegram lays it out right-to-left;
``tests/bot/test_messages.py`` checks that. Placeholders (``{limit}``) are filled with values
already isolated by :func:`bot.rtl.isolate`.
"""

from __future__ import annotations

from typing import Final

from bot.rtl import RLM

START: Final = (
    "أهلاً بك في «أخبار»!\n"
    "اسألني بالعربية عن خبر، وسأجيبك باقتباسات حرفية من أرشيف المقالات الإخبارية، "
    "مع عنوان كل مقال وتاريخه ومصدره لتتحقق بنفسك. لا أؤلّف أي نص.\n"
    "اكتب /help لمعرفة طريقة السؤال."
)

HELP: Final = (
    "ماذا أفعل؟\n"
    "أبحث في أرشيف من المقالات الإخبارية العربية وأعرض المقاطع التي تجيب عن سؤالك كما وردت حرفياً، "
    "والجملة الأقرب إلى سؤالك بخط عريض، مع العنوان والتاريخ والمصدر. لا أولّد نصاً من عندي.\n"
    "\n"
    "كيف تسأل؟\n"
    "في المحادثة الخاصة: اكتب سؤالك مباشرة.\n"
    "في المجموعات: اذكرني باسمي، أو ردّ على إحدى رسائلي، أو اكتب:\n"
    f"{RLM}/ask سؤالك\n"
    "مثال: ماذا وعد كيم جونغ أون الجيش الروسي؟\n"
    "اذكر أسماء وأماكن وتواريخ لتكون النتائج أدق. زر «المزيد» يعرض نتائج أخرى للسؤال نفسه، "
    "وزرّا 👍 و👎 يساعداننا على تحسين الإجابات.\n"
    "\n"
    "أسئلة المتابعة: أتذكّر أسئلتك الأخيرة، فيمكنك أن تكمل بسؤال قصير مثل «ومتى؟» أو «وماذا قال عنها؟»، "
    "أو أن تردّ على إحدى إجاباتي لتسأل عنها هي. اكتب /new لتبدأ موضوعاً جديداً.\n"
    "وإن ذكرت فترة مثل «الأسبوع الماضي» أو «في مارس ٢٠١٨» بحثتُ في أخبارها وحدها.\n"
    "\n"
    "متابعة موضوع: اكتب /follow ثم الموضوع، وسأرسل إلى المحادثة كل خبر جديد عنه يصل إلى الأرشيف. "
    "اكتب /following لعرض متابعاتك وإيقافها.\n"
    "ومن أي محادثة أخرى: اكتب اسمي مسبوقاً بـ @ ثم سؤالك، واختر المقال الذي تريد إرساله.\n"
    "\n"
    "ما الذي يغطيه الأرشيف؟\n"
    "اكتب /about لمعرفة عدد المقالات ومصادرها وفترتها الزمنية."
)

ABOUT: Final = (
    "عن الأرشيف:\n"
    "عدد المقالات: {articles}\n"
    "المصادر: {sources}\n"
    "الفترة: من {since} إلى {until}\n"
    "أحدث خبر: {newest}\n"
    "آخر تحديث للفهرس: {built_at}\n"
    "محرك التضمين: {engine}"
)
ABOUT_NO_DATES: Final = "غير معروفة"

SOURCE: Final = "المصدر: {source}"
UNKNOWN_SOURCE: Final = "المصدر: غير معروف"
DATE: Final = "التاريخ: {day}"
UNTITLED: Final = "بلا عنوان"
UNKNOWN_NAME: Final = "غير معروف"
ALSO_IN: Final = "ورد الخبر نفسه أيضاً في: {sources}"
#: Closes a list of outlets cut short (the "also reported in" line, /about): how many more there are.
ALSO_IN_OTHERS: Final = "ومصادر أخرى ({count})"

NO_ANSWER: Final = (
    "عذراً، لم أجد في الأرشيف ما يجيب عن سؤالك.\n"
    "جرّب صياغة أخرى، أو اذكر أسماء وأماكن وتواريخ أدق."
)
NO_MORE: Final = "لا توجد نتائج أخرى ذات صلة بهذا السؤال."
NO_ANSWER_IN_PERIOD: Final = (
    "عذراً، لم أجد في أخبار {period} ما يجيب عن سؤالك.\n"
    "جرّب فترة أخرى، أو اسأل دون تحديد فترة."
)

PERIOD_EMPTY_NO_ANSWER: Final = (
    "لا توجد في الأرشيف أخبار من {period}، ولم أجد في غيرها ما يجيب عن سؤالك.\n"
    "جرّب صياغة أخرى، أو اذكر أسماء وأماكن وتواريخ أدق."
)
PERIOD_SEARCHED: Final = "بحثتُ في أخبار {period}."
PERIOD_EMPTY: Final = "لا توجد في الأرشيف أخبار من {period}؛ إليك أقرب النتائج من كل الفترات."
LATEST_FIRST: Final = "رتّبتُ النتائج الأقرب إلى سؤالك من الأحدث إلى الأقدم."

NEW_CONVERSATION: Final = "بدأنا موضوعاً جديداً: لن أربط سؤالك التالي بما سبق."

UNREADABLE_QUESTION: Final = "لم أجد سؤالاً في رسالتك. اكتب سؤالك بالعربية."
EMPTY_QUESTION: Final = (
    f"{UNREADABLE_QUESTION} مثلاً:\n"
    f"{RLM}/ask ماذا قال وزير الخارجية عن المفاوضات؟"
)
TOO_LONG: Final = "سؤالك طويل جداً ({length} حرفاً، والحد الأقصى {limit}). اختصره من فضلك."

RATE_LIMITED: Final = (
    "تمهّل قليلاً من فضلك: يمكنك طرح {limit} أسئلة كل {seconds} ثانية. "
    "حاول مجدداً بعد {wait} ثانية."
)
NOT_ALLOWED: Final = "عذراً، هذا البوت غير متاح في هذه المحادثة."
ADMIN_ONLY: Final = "عذراً، هذا الأمر مخصص للمشرفين."
ERROR: Final = "حدث خطأ غير متوقع أثناء معالجة طلبك. حاول مرة أخرى بعد قليل."

STALE_BUTTON: Final = "انتهت صلاحية هذا الزر؛ اطرح سؤالك من جديد."
FEEDBACK_THANKS: Final = "شكراً، سجّلنا رأيك!"
FEEDBACK_ALREADY: Final = "سجّلنا رأيك في هذه الإجابة من قبل."

BUTTON_MORE: Final = "المزيد"
BUTTON_GOOD: Final = "👍"
BUTTON_BAD: Final = "👎"

STATS: Final = (
    "إحصاءات منذ التشغيل:\n"
    "الأسئلة المجاب عنها: {served}\n"
    "نسبة «لم أجد»: {no_answer_rate}\n"
    "زمن الرد (الوسيط / المئين 95): {p50} / {p95} ملّي ثانية\n"
    "التقييمات: 👍 {good} / 👎 {bad}\n"
    "نسخة الفهرس: {build}"
)
STATS_FOLLOWS: Final = (
    "المتابعات: {follows} موضوعاً في {chats} محادثة\n"
    "التنبيهات المرسلة: {pushes}\n"
    "تقييم التنبيهات: 👍 {good} / 👎 {bad}"
)

FOLLOW_USAGE: Final = (
    "اكتب بعد الأمر الموضوع أو السؤال الذي تريد متابعته، مثلاً:\n"
    f"{RLM}/follow المفاوضات النووية الإيرانية"
)
FOLLOW_SAVED: Final = (
    "تمّت المتابعة: «{topic}».\n"
    "سأرسل إلى هذه المحادثة كل خبر جديد يصل إلى الأرشيف عنه (حتى {cap} تنبيهات في اليوم). "
    "اكتب /following لعرض متابعاتك وإيقافها."
)
FOLLOW_NOW: Final = "هذا ما أجده في الأرشيف الآن عن هذا الموضوع:"
FOLLOW_NOTHING_YET: Final = "لا أجد في الأرشيف الآن ما يطابق هذا الموضوع؛ سأنبّهك حين يصل جديد عنه."
FOLLOW_DUPLICATE: Final = "تتابع هذا الموضوع من قبل: «{topic}»."
FOLLOW_LIMIT: Final = (
    "بلغتَ الحد الأقصى للمتابعات في هذه المحادثة ({limit}). "
    "أوقف إحداها بالأمر /following ثم أضف الجديدة."
)
FOLLOWING_NONE: Final = "لا تتابع أي موضوع في هذه المحادثة. اكتب مثلاً:\n" f"{RLM}/follow الانتخابات العراقية"
FOLLOWING_LIST: Final = (
    "المواضيع التي تتابعها هنا:\n"
    f"{RLM}{{topics}}\n"
    "لإيقاف متابعة اضغط زرّها، أو اكتب /unfollow ورقمها."
)
FOLLOWING_ITEM: Final = f"{RLM}{{number}}. {{topic}}"
BUTTON_UNFOLLOW: Final = "إيقاف {number}: {topic}"
UNFOLLOW_USAGE: Final = "اكتب رقم الموضوع من قائمة /following، مثلاً: /unfollow ١"
UNFOLLOW_UNKNOWN: Final = "لا يوجد موضوع بهذا الرقم في قائمة متابعاتك. اكتب /following لعرضها."
UNFOLLOWED: Final = "أوقفتُ متابعة «{topic}»."
PUSH_TOPIC: Final = "خبر جديد عن موضوع تتابعه: «{topics}»"

INLINE_HINT_TITLE: Final = "اكتب سؤالك بالعربية"
INLINE_HINT: Final = (
    "اكتب بعد اسم البوت سؤالاً عن خبر (ثلاثة أحرف على الأقل)، مثلاً: ماذا قال وزير الخارجية عن المفاوضات؟"
)
INLINE_NO_ANSWER_TITLE: Final = "لم أجد إجابة في الأرشيف"
INLINE_NOT_ALLOWED_TITLE: Final = "غير متاح"
INLINE_RATE_LIMITED_TITLE: Final = "تمهّل قليلاً"
INLINE_TOO_LONG_TITLE: Final = "السؤال طويل جداً"
INLINE_DESCRIPTION: Final = f"{RLM}{{source}} · {{day}}"

RELOADED: Final = "تم تحميل نسخة الفهرس {build}."
RELOAD_UNCHANGED: Final = "لا توجد نسخة أحدث؛ النسخة الحالية {build}."
RELOAD_FAILED: Final = "تعذّر تحميل النسخة الجديدة، وما زالت النسخة {build} تعمل. السبب مسجّل في السجل."

CONSOLE_PROMPT: Final = "سؤالك: "
CONSOLE_BUILDING: Final = "لا يوجد فهرس بعد؛ سأبنيه الآن من العينة المرفقة."

#: The command menu (setMyCommands); admin commands are left out of it on purpose.
COMMANDS: Final = (
    ("start", "ترحيب وتعريف بالبوت"),
    ("help", "طريقة السؤال وما يغطيه الأرشيف"),
    ("about", "عدد المقالات ومصادرها وفترتها"),
    ("ask", "اطرح سؤالاً (في المجموعات)"),
    ("new", "ابدأ موضوعاً جديداً (انسَ الأسئلة السابقة)"),
    ("follow", "تابع موضوعاً وتلقَّ أخباره الجديدة"),
    ("following", "المواضيع التي تتابعها وإيقافها"),
    ("unfollow", "أوقف متابعة موضوع برقمه"),
)
