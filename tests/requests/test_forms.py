"""Form definitions are content with a schema (issue 13): validated here as at start-up."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from frontdoor.settings import Settings
from frontdoor.tenants import load_tenants
from handoff.requests.forms import FormDefinition, load_form, load_forms
from handoff.requests.values import extract, find_dates, only_data, parse_answer
from knowledge.catalog import load_catalog

ABSENCE = "setagaya.phone_visit_absence"
MONDAY = date(2026, 12, 7)


def test_every_shipped_form_loads_and_names_real_entries_and_timings():
    forms = load_forms()
    catalog = load_catalog()
    tenants = load_tenants(Settings(_env_file=None).tenants_dir)
    assert ABSENCE in forms
    for form in forms.all():
        for topic in form.topics:
            assert topic in catalog, f"{form.kind}: unknown knowledge entry {topic}"
        for tenant_id in form.tenants:
            timing = tenants.get(tenant_id).requests.get(form.kind)
            if timing and timing.before_field:
                assert form.field(timing.before_field).type in ("dates", "date", "date_or_undecided")
                assert form.texts.recorded_late, f"{form.kind}: a day too near for the usual check needs its own words"


def test_entries_with_a_form_no_longer_say_it_cannot_be_taken():
    catalog = load_catalog()
    for form in load_forms().all():
        for topic in form.topics:
            assert "まだ受け付けられません" not in catalog.get(topic).answer
            assert "まだできません" not in catalog.get(topic).answer


def test_a_form_without_the_due_placeholder_or_with_unknown_staff_fields_is_refused(tmp_path: Path):
    raw = yaml.safe_load((Path("handoff/requests/forms") / f"{ABSENCE}.yaml").read_text(encoding="utf-8"))
    broken = {**raw, "texts": {**raw["texts"], "recorded": "記録しました。"}}
    with pytest.raises(ValueError, match="due"):
        FormDefinition.model_validate(broken)
    with pytest.raises(ValueError, match="staff_view"):
        FormDefinition.model_validate({**raw, "staff_view": ["nickname"]})
    named = [{**f, "answer_of": {"birth": "person_name"}} if f["name"] == "name" else f for f in raw["fields"]]
    with pytest.raises(ValueError, match="answer_of"):  # this form has neither field
        FormDefinition.model_validate({**raw, "fields": named})
    path = tmp_path / f"{ABSENCE}.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert load_form(path).kind == ABSENCE


def test_a_noted_reply_is_for_one_of_the_fields_options():
    raw = yaml.safe_load((Path("handoff/requests/forms") / "missing_person.yaml").read_text(encoding="utf-8"))
    called = next(f for f in raw["fields"] if f["name"] == "called_110")
    assert set(called["noted"]) == {"有", "無"}
    unknown = {**called, "noted": {"たぶん": "ありがとうございます。"}}
    with pytest.raises(ValueError, match="たぶん"):
        FormDefinition.model_validate({**raw, "fields": [unknown if f is called else f for f in raw["fields"]]})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("あしたはびょういんでいないです", "2026-12-08"),
        ("あさって留守です", "2026-12-09"),
        ("来週の水曜日は旅行", "2026-12-16"),
        ("すいようびはでかけます", "2026-12-09"),
        ("１２月１０日から１２日まで", "2026-12-10/2026-12-12"),
        ("20日から3日間いません", "2026-12-20/2026-12-22"),
        ("1月5日", "2027-01-05"),  # after the year end
        ("ありがとうございます", None),
        ("12月末でやめます", "2026-12-31"),
        ("こんげつ いっぱいで", "2026-12-31"),
        ("2月末まで", "2027-02-28"),
        ("らいげつから おやすみ", "2027-01-01"),
        ("来月の10日", "2027-01-10"),
        ("らいしゅうの すいようび", "2026-12-16"),  # kana 来週: was this week's Wednesday
        ("すぐに忘れてしまう", None),  # 「すぐ」 is a day only where a day was asked (below)
    ],
)
def test_dates_as_residents_write_them(text: str, expected: str | None):
    assert find_dates(text, MONDAY) == expected


def test_every_date_question_reads_its_own_examples_and_at_once_is_today():
    """「いつから電話訪問をやめますか。（例：12月末、12月31日）」 did not read 12月末, its own
    example; a family cancelling after a death answers 「すぐに」 too."""
    asked = [(form.kind, f) for form in load_forms().all() for f in form.fields if f.type in ("dates", "date", "date_or_undecided")]
    examples = [(kind, f.name, e) for kind, f in asked if "（例：" in f.ask for e in f.ask.split("（例：")[1].rstrip("）").split("、")]
    assert len(examples) >= 6
    assert [x for x in examples if not parse_answer(next(f for k, f in asked if (k, f.name) == x[:2]), x[2], MONDAY).value] == []
    cancel = load_forms().get("setagaya.phone_visit_cancel")
    when = next(f for f in cancel.fields if f.type == "date")
    assert parse_answer(when, "すぐに", MONDAY).value == "2026-12-07"
    assert parse_answer(when, "なるべく はやく おねがいします", MONDAY).value == "2026-12-07"
    assert parse_answer(when, "たいちょうが すぐれないので あしたから", MONDAY).value == "2026-12-08"


def test_one_message_gives_every_field_it_contains():
    form = load_forms().get(ABSENCE)
    assert extract(form, "12月10日は通院で留守にします。世田谷花子（セタガヤハナコ）０３−１２３４−５６７８", MONDAY) == {
        "dates": "2026-12-10", "name": "世田谷花子", "kana": "せたがやはなこ", "phone": "03-1234-5678",
    }
    assert extract(form, "わたしはやまだはなこといいます", MONDAY) == {"name": "やまだはなこ", "kana": "やまだはなこ"}


def test_answers_are_validated_with_a_clear_japanese_hint():
    form = load_forms().get(ABSENCE)
    assert parse_answer(form.field("phone"), "ゆうがた", MONDAY).error.startswith("お電話番号が読み取れません")
    assert parse_answer(form.field("kana"), "世田谷", MONDAY).error.startswith("ふりがなを")
    assert parse_answer(form.field("kana"), "セタガヤ ハナコ", MONDAY).value == "せたがや はなこ"
    assert parse_answer(form.field("name"), "名前は言いたくないです", MONDAY).declined


def test_a_name_given_with_other_details_is_taken_from_the_opening_words():
    """Asked for a name, an elderly resident answers with the phone number too."""
    name = load_forms().get(ABSENCE).field("name")
    assert parse_answer(name, "田中花子です。電話番号は03-1234-5678です", MONDAY).value == "田中花子"
    assert parse_answer(name, "はい、たなか はなこです 電話は０３−１２３４−５６７８", MONDAY).value == "たなか はなこ"
    assert parse_answer(name, "世田谷 花子", MONDAY).value == "世田谷 花子"
    assert parse_answer(name, "たなか はなこ 03-1234-5678", MONDAY).value == "たなか はなこ"
    assert parse_answer(name, "田中花子 電話は0312345678", MONDAY).value == "田中花子"
    assert parse_answer(name, "病院は03-1234-5678", MONDAY).error.startswith("お名前が読み取れません")


def test_a_name_after_a_remark_in_its_own_sentence_is_the_name_and_a_remark_alone_is_none():
    name = load_forms().get(ABSENCE).field("name")
    assert parse_answer(name, "いま けいさつに でんわしてきました。せたがや はなこです", MONDAY).value == "せたがや はなこ"
    assert parse_answer(name, "世田谷花子です。よろしくお願いします", MONDAY).value == "世田谷花子"
    assert parse_answer(name, "すみません、手がふるえて。たなか はなこ", MONDAY).value == "たなか はなこ"
    assert parse_answer(name, "はやく さがして ください。おねがいします", MONDAY).error.startswith("お名前が読み取れません")


def test_a_short_answer_is_recorded_without_its_closing_desu():
    """「つまです」 typed where the relationship is asked is recorded as つま (別紙8-3 ご関係)."""
    relationship = load_forms().get("missing_person").field("relationship")
    assert parse_answer(relationship, "つまです", MONDAY).value == "つま"
    assert parse_answer(relationship, "近所の者です。", MONDAY).value == "近所の者"
    assert parse_answer(relationship, "長女でございます", MONDAY).value == "長女"
    assert parse_answer(relationship, "ヘルパーをしております", MONDAY).value == "ヘルパーをしております"
    long = "娘です。父とは別に暮らしていて、週に一度は顔を見に行っています"
    assert parse_answer(relationship, long, MONDAY).value == long  # a longer answer stays as written


@pytest.mark.parametrize(
    ("kind", "field", "text", "expected"),
    [
        ("setagaya.phone_visit_pause", "reporter", "ほんにんです", "本人"),
        ("setagaya.phone_visit_pause", "reporter", "つまです", "家族"),
        ("setagaya.phone_visit_pause", "reporter", "むすめ", "家族"),
        ("setagaya.phone_visit_pause", "reporter", "けあまねです", "関係者"),
        ("setagaya.phone_visit_resume", "reporter", "しせつの ものです", "関係者"),
        ("setagaya.phone_visit_cancel", "reason", "しせつに はいりました", "施設入所"),
        ("setagaya.phone_visit_cancel", "reason", "ひっこしです", "転居"),
        ("setagaya.phone_visit_pause", "reason", "じっかに かえります", "家族の家に滞在"),
        ("setagaya.volunteer_visit", "task", "かぐを うごかして ほしい", "荷物の移動"),
        ("missing_person", "sex", "じょせいです", "女性"),
        ("setagaya.phone_visit_change", "changes", "じゅうしょが かわりました", "住所"),
        # Read at word boundaries only, and not by a one-kana code (可 カ): asked again.
        ("setagaya.phone_visit_pause", "reporter", "つまり よく わからない", None),
        ("missing_person", "says_name", "どうですか", None),
    ],
)
def test_a_choice_typed_in_kana_is_the_option_written_in_kanji(kind: str, field: str, text: str, expected: str | None):
    """An 80-year-old answers 「ご連絡くださっているのは、ご本人、ご家族、関係者のどなたですか」 with
    「ほんにんです」; it was 「次の中から選んでください」 again and again."""
    parsed = parse_answer(load_forms().get(kind).field(field), text, MONDAY)
    assert parsed.value == expected, parsed


def test_every_button_of_every_choice_is_read_as_itself():
    """A tapped button sends its label. The time-slot buttons 「10時〜12時」, 「12時〜13時」 and
    「13時〜15時」 each hold the aliases of two slots (10時 and 12時, ...), were read as two
    options and answered with 「次の中から選んでください」, whichever the resident tapped."""
    taps = [(form.kind, f.name, option) for form in load_forms().all() for f in form.fields if f.type in ("choice", "choices") for option in f.options]
    assert len(taps) > 50
    misread = [(kind, name, option, parse_answer(load_forms().get(kind).field(name), option, MONDAY).value) for kind, name, option in taps]
    assert [m for m in misread if m[2] != m[3]] == []
    slot = load_forms().get("setagaya.phone_visit_change").field("time_slot")
    assert parse_answer(slot, "13時〜15時で おねがいします", MONDAY).value == "13時〜15時"
    assert parse_answer(slot, "3時ごろ", MONDAY).value == "15時〜17時"  # an alias still reads


async def test_management_numbers_count_per_period(session):  # noqa: ANN001
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from handoff.requests import service
    from handoff.requests.models import RequestStatus

    tenants = load_tenants(Settings(_env_file=None).tenants_dir)
    monthly = load_forms().get("complaint").model_copy(update={"number_format": "{month}-{seq}", "number_per": "month"})
    at = datetime(2026, 10, 3, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    numbers = []
    for _ in range(3):
        request = await service.start(session, tenant_id="setagaya", conversation_id=None, kind="complaint", fields={"content": "x"}, step=None, now=at, outside_hours=False)
        assert await service.record(session, request=request, form=monthly, tenant=tenants.get("setagaya"), now=at)
        numbers.append(request.number)
        assert request.status == RequestStatus.OPEN
    assert numbers[-1] == f"10-{int(numbers[0].split('-')[1]) + 2}"  # 月-受付順 (Setagaya 003 ⑤イ(イ))
    assert not await service.record(session, request=request, form=monthly, tenant=tenants.get("setagaya"), now=at)  # recorded once
    await session.rollback()


@pytest.mark.parametrize(
    ("text", "data"),
    [
        ("夕方なら", True),
        ("あしたの あさなら", True),
        ("０９０−１１１１−２２２２　平日の夕方以降でお願いします", True),
        ("12がつ14にちから 20にちまで", True),
        ("はい", False),  # no day, time or number: the model reads it
        ("今夜なら", False),  # 今夜 and あと… are how plans are told too
        ("あと1時間で", False),
        ("明日の朝、駅で", False),
    ],
)
def test_only_data_is_a_bare_day_time_or_number(text, data):  # noqa: ANN001
    """What skips the model at a step that asked for data (bot/engine.py ANSWERS_OF_DATA)."""
    assert only_data(text) is data
