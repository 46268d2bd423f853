"""Reading field values out of what residents write: pure functions, no I/O.

Two uses: `extract` finds every field a message already gives (so a resident who writes
everything at once is asked nothing twice), `parse_answer` reads the answer to one question
(the whole text is that field). Dates are resolved against the resident's local day, stored
as ISO 8601 (a period as `start/end`), and read back in Japanese."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from handoff.requests.forms import FormDefinition, FormField
from knowledge.tokenize import Analyzer
from workers.reports.periods import Month

_DASHES = str.maketrans({c: "-" for c in "−‐‑‒–—―ｰ"})
WEEKDAYS = "月火水木金土日"
KANA_WEEKDAYS = ("げつ", "か", "すい", "もく", "きん", "ど", "にち")

PHONE_RE = re.compile(r"(?<!\d)(?:0\d{9,10}|0\d{1,4}[-(（ ]\d{1,4}[-)） ]\d{3,4})(?!\d)")
_RELATIVE = (("しあさって", 3), ("明々後日", 3), ("明後日", 2), ("あさって", 2), ("明日", 1), ("あした", 1), ("あす", 1), ("今日", 0), ("きょう", 0), ("本日", 0))
_MONTH_DAY = re.compile(r"(\d{1,2})\s*(?:月|がつ|/)\s*(\d{1,2})\s*(?:日|にち)?")  # 「12がつ14にち」 typed in kana too
_DAY = re.compile(r"(?<![\d月/])(\d{1,2})\s*(?:日|にち)(?!間|よう)")
_WEEKS = {"今週": 0, "こんしゅう": 0, "来週": 7, "らいしゅう": 7, "再来週": 14, "さらいしゅう": 14}
_WEEK_WORD = "再来週|来週|今週|さらいしゅう|らいしゅう|こんしゅう"  # 「らいしゅうの すいようび」 was this week's
_WEEKDAY = re.compile(rf"({_WEEK_WORD})?\s*の?\s*([月火水木金土日])\s*曜|({_WEEK_WORD})?\s*の?\s*(げつ|か|すい|もく|きん|ど|にち)ようび")
_DAYS_LONG = re.compile(r"(\d{1,2})\s*日間")
_RANGE_JOIN = re.compile(r"^\s*(?:から|〜|~|-|より|ー)\s*(?:の)?\s*$")
_UNDECIDED = ("未定", "みてい", "わからない", "分からない", "わかりません", "分かりません", "決まってない", "決まっていない", "きまってない", "きまっていない", "未定です")
DECLINE_WORDS = ("言いたくない", "いいたくない", "教えたくない", "おしえたくない", "匿名", "とくめい", "名乗りたくない", "なのりたくない", "言えない", "いえない", "言いません")
_NONE_WORDS = ("なし", "ない", "ありません", "特にない", "とくにない", "特になし", "とくになし", "いない", "いません")
_YES = ("はい", "同意", "どうい", "いいです", "お願いします", "おねがいします", "かまいません", "構いません", "大丈夫", "だいじょうぶ", "ok", "うん", "ええ")
_NO = ("いいえ", "いや", "だめ", "ダメ", "困ります", "こまります", "同意しない", "やめて")


def normalized(text: str) -> str:
    """NFKC (全角 digits and letters) plus the dashes residents type between digits."""
    text = unicodedata.normalize("NFKC", text).translate(_DASHES)
    return re.sub(r"(?<=\d)ー(?=\d)", "-", text).strip()  # ０９０ー… (the long vowel mark, between digits only)


def hiragana(text: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in text)


def _is_kana(text: str) -> bool:
    return bool(text) and all("ぁ" <= c <= "ゖ" or c in "ー 　" for c in hiragana(text))


def _plain(text: str) -> str:
    return re.sub(r"[\s　。、,.!！?？「」]", "", normalized(text)).lower()


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    day: date


def _resolve(today: date, month: int, day: int) -> date | None:
    for year in (today.year, today.year + 1):
        try:
            found = date(year, month, day)
        except ValueError:
            return None
        if found >= today - timedelta(days=1):
            return found
    return None


# A month's end and the next month's start, and "at once": the cancellation form's own example
# 「（例：12月末、12月31日）」 was not read, nor were 「今月いっぱいで」, 「来月から」 and 「すぐに」.
_MONTH_END = re.compile(r"(?:(\d{1,2})\s*(?:月|がつ)|(今月|こんげつ|来月|らいげつ))\s*(?:末|まつ|いっぱい)")
_NEXT_MONTH = re.compile(r"(?:来月|らいげつ)(?:\s*の?\s*(\d{1,2})\s*(?:日|にち))?")
_AT_ONCE = re.compile(r"(?:今|いま)?\s*すぐ(?!れ)|ただちに|直ちに|(?:なるべく|できるだけ)\s*(?:早|はや)く")  # not 体調がすぐれない


def _month_end(today: date, month: int) -> date | None:
    """The month's last day, this year or, once it has passed, next year (as _resolve)."""
    if not 1 <= month <= 12:
        return None
    return next((last for year in (today.year, today.year + 1) if (last := Month(year, month).last_day) >= today - timedelta(days=1)), None)


def _mentions(text: str, today: date, *, answer: bool) -> list[_Mention]:
    found: list[_Mention] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, day: date | None) -> None:
        if day is None or any(s < end and start < e for s, e in taken):
            return
        taken.append((start, end))
        found.append(_Mention(start, end, day))

    next_month = today.month % 12 + 1
    for m in _MONTH_END.finditer(text):
        month = int(m.group(1)) if m.group(1) else (today.month if m.group(2) in ("今月", "こんげつ") else next_month)
        add(m.start(), m.end(), _month_end(today, month))
    for m in _NEXT_MONTH.finditer(text):  # 「来月から」 is its first day, 「来月の10日」 its tenth
        add(m.start(), m.end(), _resolve(today, next_month, int(m.group(1) or 1)))
    for m in _AT_ONCE.finditer(text) if answer else ():  # in free text 「すぐ」 is seldom a date
        add(m.start(), m.end(), today)
    for word, offset in _RELATIVE:
        for m in re.finditer(word, text):
            add(m.start(), m.end(), today + timedelta(days=offset))
    for m in _MONTH_DAY.finditer(text):
        add(m.start(), m.end(), _resolve(today, int(m.group(1)), int(m.group(2))))
    for m in _DAY.finditer(text):
        day = int(m.group(1))
        month = today.month if day >= today.day else next_month
        add(m.start(), m.end(), _resolve(today, month, day))
    for m in _WEEKDAY.finditer(text):
        week = m.group(1) or m.group(3)
        weekday = WEEKDAYS.index(m.group(2)) if m.group(2) else KANA_WEEKDAYS.index(m.group(4))
        if week:
            monday = today - timedelta(days=today.weekday()) + timedelta(days=_WEEKS[week])
            add(m.start(), m.end(), monday + timedelta(days=weekday))
        else:
            add(m.start(), m.end(), today + timedelta(days=(weekday - today.weekday()) % 7))
    return sorted(found, key=lambda x: x.start)


# Days and times of day, with or without digits: what makes an answer a schedule (「夕方なら」).
# 今夜 and あと… are left out on purpose: 「今夜」「あと1時間で」 are also how a plan is told.
_WHEN = (
    r"今日|きょう|本日|明日|あした|あす|明後日|あさって|しあさって|今週|こんしゅう|再来週|さらいしゅう|来週|らいしゅう"
    r"|今月|こんげつ|来月|らいげつ|毎週|まいしゅう|午前|午後|ごぜん|ごご|朝|あさ|昼|ひる|夕方|ゆうがた|夕|夜|よる"
    r"|[月火水木金土日]曜日?|(?:げつ|か|すい|もく|きん|ど|にち)ようび|平日|へいじつ|週末|しゅうまつ|土日|どにち"
    r"|いつでも|何時でも|なんじでも"
)
# What a date, time, count or phone answer is made of (「12がつ14にちから 20にちまで」, 「あしたの10じ」,
# 「090-1111-2222」, 「平日の夕方以降でお願いします」): digits with their counters, day and time
# words, the words that say a preference or a limit, and the particles between.
_DATA_WORD = re.compile(
    r"(?:\d+(?:がつ|にち|か|じ|ふん|ぷん|さい|才|歳|かい|回|番|年|月|日|時|分|半)?"
    rf"|{_WHEN}|未定|みてい|曜日|ようび"
    r"|なら|だったら|でしたら|であれば|だと|以降|いこう|以外|いがい|中|ちゅう|じゅう|すぎ|過ぎ|あたり|前|まえ"
    r"|でられます|出られます|でれます|出れます|います|おります|在宅|家|いえ|うち"
    r"|いい|良い|よい|希望|助かります|たすかります|お願いします|おねがいします|大丈夫|だいじょうぶ|都合|つごう"
    r"|から|まで|より|ごろ|ころ|頃|くらい|ぐらい|です|でした|ます|はい|えっと|えーと|[のとにはや第でがもねよ]"
    r"|[年月日時分半]|[〜~\-/:・、。,.!！?？\s])+"
)


def only_data(text: str) -> bool:
    """The text is a date, a time, a count or a phone number and nothing else: an answer to a
    question of ours (a form's, or the callback's number and time), with no words of the
    resident's own to read for risk."""
    plain = normalized(text)
    rest = PHONE_RE.sub(" ", plain)
    return bool(re.search(r"\d", plain) or re.search(_WHEN, rest)) and bool(_DATA_WORD.fullmatch(rest))


def find_dates(text: str, today: date, *, answer: bool = False) -> str | None:
    """A day or a period in free text, as ISO 8601 (`2026-12-10` or `2026-12-10/2026-12-12`);
    `answer`: the text answers a question for a day, so 「すぐに」 is today."""
    text = normalized(text)
    mentions = _mentions(text, today, answer=answer)
    if not mentions:
        return None
    first = mentions[0]
    for second in mentions[1:]:
        if _RANGE_JOIN.match(text[first.end : second.start]) and second.day >= first.day:
            return f"{first.day.isoformat()}/{second.day.isoformat()}"
    long = _DAYS_LONG.search(text, first.end)
    if long and int(long.group(1)) > 1:
        return f"{first.day.isoformat()}/{(first.day + timedelta(days=int(long.group(1)) - 1)).isoformat()}"
    return first.day.isoformat()


def first_day(value: str) -> date | None:
    try:
        return date.fromisoformat(value.split("/")[0])
    except ValueError:
        return None


def show_day(day: date) -> str:
    return f"{day.month}月{day.day}日（{WEEKDAYS[day.weekday()]}）"


def display(form_field: FormField, value: str | None) -> str:
    """How a stored value is read back to the resident and shown to staff."""
    if value is None or value == "":
        return "（なし）"
    if form_field.type in ("dates", "date", "date_or_undecided") and value != "未定":
        try:
            return "〜".join(show_day(date.fromisoformat(part)) for part in value.split("/"))
        except ValueError:
            return value
    return value


_NAME_LABEL = re.compile(r"(?:お?名前|なまえ|氏名)\s*(?:は|が|:)?\s*([^\s、。,0-9()]{2,12}?)\s*(?:です|と申します|といいます|[\s、。,(]|$)")
_NAME_KANA = re.compile(r"([一-龥々ヶ]{1,5}\s?[一-龥々ヶ]{1,5})\s*\(\s*([ぁ-んァ-ヶー\s]{2,20}?)\s*\)")
_NAME_SELF = re.compile(r"([一-龥々ヶぁ-んァ-ヶー\s]{2,12}?)\s*(?:と申します|といいます|ともうします)")
_KANA_LABEL = re.compile(r"(?:ふりがな|フリガナ|よみがな|ヨミガナ|読み方|読み)\s*(?:は|:)?\s*([ぁ-んァ-ヶー\s]{2,20})")
# The relation before a name (「むすめの せたがや はなこです」) is no part of it; the forms' relationship
# field finds it (handoff/requests/forms/missing_person.yaml).
_RELATIONS = "娘|息子|妻|夫|嫁|孫|長男|長女|次男|次女|兄|弟|姉|妹|むすめ|むすこ|つま|おっと|よめ|まご"
_NAME_LEADS = re.compile(rf"^(?:私は|わたしは|わたくしは|わたしの|本人は|本人の|(?:{_RELATIONS})の\s*)")
# Asked for their name, people answer 「田中花子です。電話番号は…」: the name opens the answer and
# the rest gives other fields (picked up by `extract`). Only where a name was asked for: in
# free text 「病院です」 is no name.
_NAME_OPENS = (
    re.compile(r"^(?:はい|ええ|えっと|えーと)?[、,\s]*([一-龥々ヶぁ-んァ-ヶー\s]{2,12}?)\s*(?:です|でございます)(?:[。、,.!！\s]|$)"),
    # 「たなか はなこ 03-1234-5678」: a name, then the phone number
    re.compile(r"^(?:はい|ええ|えっと|えーと)?[、,\s]*([一-龥々ヶぁ-んァ-ヶー\s]{2,12})[。、,\s]+(?:電話|でんわ|TEL|tel)?[^\d]{0,6}\d"),
)


# Asked for a name, people sometimes answer something else; 「ありがとうございます」 once became a
# missing-person reporter's name (and, copied, its reading). A name is no sentence or phrase.
_NOT_A_NAME = re.compile(
    r"(?:ます|ました|ません|ください|下さい|ですか|でしょうか|[?？])$"
    r"|ありがとう|よろしく|すみません|お願い|おねがい|わかりました|分かりました|わかりません|分かりません|たくない"
    r"|^(?:はい|いいえ|うん|ええ|いや|なし|ない|ok|OK)$"
)


_SENTENCE_END = re.compile(r"[。．.!！?？\n]+")


def _name_in(text: str) -> str | None:
    """The name a short answer gives, if it is one (no sentence or phrase, no number)."""
    opening = next((m for pattern in _NAME_OPENS if (m := pattern.match(text))), None)
    value = _names(text).get("name") or (_clean_name(opening.group(1)) if opening else _clean_name(text))
    if not value or re.search(r"\d", value) or len(value) > 30 or _NOT_A_NAME.search(value) or _SENTENCE_END.search(value):
        return None
    return value


def _clean_name(value: str) -> str:
    value = _NAME_LEADS.sub("", value.strip())
    value = re.sub(r"(?:です|と申します|といいます|ともうします)[。.]?$", "", value)
    return re.sub(r"^(?:お?名前|なまえ|氏名)\s*(?:は|:)?\s*", "", value).strip(" 、。")


def _names(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    if m := _NAME_KANA.search(text):
        found["name"], found["kana"] = m.group(1).strip(), hiragana(m.group(2).strip())
    elif m := _NAME_LABEL.search(text):
        found["name"] = _clean_name(m.group(1))
    elif m := _NAME_SELF.search(text):
        found["name"] = _clean_name(m.group(1))
    if "kana" not in found and (m := _KANA_LABEL.search(text)):
        found["kana"] = hiragana(m.group(1).strip())
    return found


def _found(form_field: FormField, text: str) -> str | None:
    """A field with `find` patterns: the first match (group 1 when the pattern has one)."""
    for pattern in form_field.find:
        if m := re.search(pattern, text):
            value = (m.group(1) if m.groups() else m.group(0)).strip(" 、。,")
            if form_field.type in ("choice", "choices"):
                hits = _options_in(form_field, value)
                value = hits[0] if len(hits) == 1 else None
            if value:
                return value
    return None


def extract(form: FormDefinition, text: str, today: date) -> dict[str, str]:
    """Every field of `form` this message already gives."""
    text = normalized(text)
    found: dict[str, str] = {}
    names = _names(text)
    phone = PHONE_RE.search(text)
    for f in form.fields:
        value: str | None = None
        if f.find:
            value = _found(f, text)
        elif f.type in ("dates", "date", "date_or_undecided"):
            value = find_dates(text, today)
            if f.type == "date" and value:
                value = value.split("/")[0]
            elif f.type == "date_or_undecided":  # the end of a period, or 未定; a single day is a start
                value = "未定" if any(w in text for w in _UNDECIDED) else (value.split("/")[1] if value and "/" in value else None)
        elif f.type == "phone" and phone:
            value = phone.group(0)
        elif f.type == "name":
            value = names.get("name")
        elif f.type == "kana":
            value = names.get("kana")
        elif f.type in ("choice", "choices"):
            hits = _options_in(f, text)
            value = (hits[0] if len(hits) == 1 else None) if f.type == "choice" else ("、".join(hits) or None)
        if value:
            found[f.name] = value
    # A name a labelled field claims (「父の名前は…」) is not also the resident's own name.
    claimed = {found[f.name] for f in form.fields if f.find and f.name in found}
    found = {k: v for k, v in found.items() if form.field(k).find or v not in claimed}
    for f in form.fields:
        source = found.get(f.copy_kana_from or "")
        if f.copy_kana_from and f.name not in found and source and _is_kana(source):
            found[f.name] = hiragana(source)
    return found


def _options_in(form_field: FormField, text: str) -> list[str]:
    """The options a text names, by their own words or an alias, written as the form writes
    them or read as it reads them: an elder types 「ほんにんです」 or 「つまです」 for 本人 or 妻."""
    plain, text = _plain(text), normalized(text)
    named = [o for o in form_field.options if _plain(o) in plain]
    # An option's own words win over the aliases inside them: the button 「13時〜15時」 holds
    # 13時 and 15時, the aliases of two slots, and was read as both (so as neither).
    for option in named:
        plain, text = plain.replace(_plain(option), "、"), text.replace(normalized(option), "、")
    spans = _reading_spans(text)
    return [
        o for o in form_field.options
        if o in named or any(_plain(w) in plain or _word_reading(w) in spans for w in (o, *form_field.aliases.get(o, ())))
    ]


# Token spans up to this long are read as one word (Sudachi splits kana oddly: ホンニ + ン).
_SPAN_TOKENS = 4


@lru_cache(maxsize=1)
def _analyzer() -> Analyzer:
    return Analyzer("C")


def _reading_spans(text: str) -> set[str]:
    """The readings of every run of up to _SPAN_TOKENS whole tokens: an option matches at
    token boundaries only (「つまり」 is not 妻)."""
    tokens = _analyzer().token_readings(text)
    return {"".join(tokens[i:j]) for i in range(len(tokens)) for j in range(i + 1, min(i + _SPAN_TOKENS, len(tokens)) + 1)}


@lru_cache(maxsize=1024)
def _word_reading(word: str) -> str | None:
    """An option word's reading, or None when it is too short to tell (可 カ and 無 ム are codes,
    answered with はい／いいえ; a lone カ would be every question's か)."""
    reading = "".join(_analyzer().token_readings(word))
    return reading if len(reading) >= 2 else None


@dataclass(frozen=True)
class Parsed:
    value: str | None = None  # "" for an optional field the resident skipped
    error: str | None = None
    declined: bool = False


def declines(text: str) -> bool:
    plain = _plain(text)
    return any(w in plain for w in DECLINE_WORDS)


def _says(plain: str, words: tuple[str, ...]) -> bool:
    return any(plain == w or plain.startswith(w) for w in words)


# A short answer's closing 「です」 is how it was said, not what it says: 「つまです」 is
# recorded as つま, 「近所の者です。」 as 近所の者. Longer text (notes, a place) stays as written.
_CLOSING_COPULA = re.compile(r"(?:でございます|になります|ですよ|です)[\s。．.!！、]*$")
SHORT_ANSWER = 12


def _short_answer(text: str) -> str:
    return (_CLOSING_COPULA.sub("", text) or text) if len(text) <= SHORT_ANSWER else text


def parse_answer(form_field: FormField, text: str, today: date) -> Parsed:
    """The answer to this field's question; an error is a short Japanese hint."""
    text = normalized(text)
    plain = _plain(text)
    if form_field.required and declines(text) and not (form_field.type in ("choice", "choices") and _options_in(form_field, text)):
        return Parsed(declined=True)
    if not form_field.required and (plain in _NONE_WORDS or plain in ("skip", "とばす", "スキップ")):
        return Parsed(value="")
    t = form_field.type
    if t in ("dates", "date", "date_or_undecided"):
        if t == "date_or_undecided" and any(w in plain for w in _UNDECIDED):
            return Parsed(value="未定")
        value = find_dates(text, today, answer=True)
        if not value:
            return Parsed(error="日にちが読み取れませんでした。「12月10日」「あした」「来週の水曜日」のように書いてください。")
        return Parsed(value=value if t == "dates" else value.split("/")[0])
    if t == "phone":
        found = PHONE_RE.search(text)
        if not found:
            return Parsed(error="お電話番号が読み取れませんでした。数字で書いてください。（例：03-1234-5678）")
        return Parsed(value=found.group(0))
    if t == "name":
        # The name may follow a remark in its own sentence: 「いま けいさつに でんわしてきました。せたがや はなこです」.
        value = next((v for part in (text, *_SENTENCE_END.split(text)) if (v := _name_in(part.strip()))), None)
        if not value:
            return Parsed(error="お名前が読み取れませんでした。お名前だけを書いてください。（例：世田谷 花子）")
        return Parsed(value=value)
    if t == "kana":
        value = hiragana(re.sub(r"^(?:ふりがな|よみがな|読み)\s*(?:は|:)?", "", _clean_name(text)))
        if not _is_kana(value):
            return Parsed(error="ふりがなを、ひらがなかカタカナで書いてください。（例：せたがや はなこ）")
        return Parsed(value=value)
    if t in ("choice", "choices"):
        hits = _options_in(form_field, text)
        numbers = re.findall(r"\d+", text)
        if not hits and numbers and re.fullmatch(r"[\d\s,、と・番とです。]+", text) and all(1 <= int(n) <= len(form_field.options) for n in numbers):
            hits = [form_field.options[int(n) - 1] for n in dict.fromkeys(numbers)]  # 「1と3」
        if not hits and t == "choices" and plain in ("ぜんぶ", "全部", "すべて", "全て"):
            hits = list(form_field.options)
        if not hits or (t == "choice" and len(hits) > 1):
            return Parsed(error="次の中から選んでください：" + "／".join(form_field.options))
        return Parsed(value="、".join(hits))
    if t == "consent":
        if _says(plain, _NO):
            return Parsed(value="同意しない")
        if _says(plain, _YES):
            return Parsed(value="同意する")
        return Parsed(error="「はい」か「いいえ」でお答えください。")
    if t == "address":
        # A phone number in the answer is the phone field's (`extract`): 「三軒茶屋2丁目
        # 03-1111-2222」. Asked where to visit, an elder answered with the number alone, and it
        # was recorded as the address too.
        text = PHONE_RE.sub("", text).strip(" 、。,")
        if len(_plain(re.sub(r"(?:です|でございます)$", "", text))) < 4:
            return Parsed(error="ご住所が読み取れませんでした。町名と番地を書いてください。（例：〇〇町1-2-3）")
    elif not plain:
        return Parsed(error="もう少し詳しく書いてください。")
    return Parsed(value=_short_answer(text[:500]))
