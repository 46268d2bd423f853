"""Every request kind taken in chat, through the real engine (issue 13 "Request kinds")."""

from __future__ import annotations

from datetime import datetime

import pytest

from handoff.requests.models import RequestStatus
from tests.requests.test_absence_flow import MONDAY_10, Resident, button_ids, stored, text_of

pytestmark = pytest.mark.asyncio


async def test_a_schedule_change_asks_only_the_changed_items(runtime, session):  # noqa: ANN001
    resident = Resident(runtime, session)
    first = await resident.says("電話訪問を週1回から週2回にしてほしい")
    assert first.request and first.request.kind == "setagaya.phone_visit_change"
    assert first.request.fields["changes"] == "回数"
    assert "回数を選んでください" in text_of(first) and "form:choose" in button_ids(first)
    second = await resident.taps("form:choose", "週2回")
    assert "お名前" in text_of(second)  # not the address, the time slot or the emergency contact
    await resident.says("世田谷太郎（せたがやたろう）")
    read_back = await resident.says("03-1234-5678")
    assert "・回数：週2回" in text_of(read_back) and "新しい住所" not in text_of(read_back)
    done = await resident.says("はい")
    request = await stored(session, done)
    assert request.status == RequestStatus.OPEN
    assert request.fields == {"changes": "回数", "frequency": "週2回", "name": "世田谷太郎", "kana": "せたがやたろう", "phone": "03-1234-5678"}


async def test_an_unreadable_time_slot_gets_the_slots_once_then_the_button_is_taken(runtime, session):  # noqa: ANN001
    """Issue 14 §3 (the options once): 「ごごに してほしい」 is none of the four slots. The reply
    listed them twice, in the hint and in the question, before the same four buttons."""
    resident = Resident(runtime, session)
    asked = await resident.says("でんわほうもんの じかんを かえたいです")
    assert asked.request and asked.request.fields["changes"] == "時間帯"
    again = await resident.says("ごごに してほしい")
    assert "読み取れませんでした" in text_of(again)
    assert text_of(again).count("13時〜15時") == 1  # in the question, as before the answer
    assert [label for r in again.replies for action, label in r.buttons if action == "form:choose"] == ["10時〜12時", "12時〜13時", "13時〜15時", "15時〜17時"]
    taken = await resident.taps("form:choose", "13時〜15時")
    assert "お名前" in text_of(taken)
    assert (await stored(session, taken)).fields["time_slot"] == "13時〜15時"


async def test_a_pause_until_unknown_and_a_resume(runtime, session):  # noqa: ANN001
    resident = Resident(runtime, session)
    first = await resident.says("母が入院するので12月10日から電話訪問を休みたい。退院日は未定です")
    assert first.request and first.request.kind == "setagaya.phone_visit_pause"
    assert first.request.fields == {"start": "2026-12-10", "until": "未定", "reason": "入院", "reporter": "家族"}
    await resident.says("世田谷花子（せたがやはなこ）")
    read_back = await resident.says("090-1111-2222")
    assert "・再開する日：未定" in text_of(read_back)
    done = await resident.says("はい")
    assert "再開のご連絡をいただくまでお休みします" in text_of(done)
    assert (await stored(session, done)).status == RequestStatus.OPEN

    back = Resident(runtime, session)
    resume = await back.says("退院したので電話訪問を12月20日から再開したいです")
    assert resume.request and resume.request.kind == "setagaya.phone_visit_resume"
    assert resume.request.fields["start"] == "2026-12-20"


async def test_a_pause_typed_in_hiragana_takes_its_dates_and_raises_no_alarm(runtime, session):  # noqa: ANN001
    """An 80-year-old answers 「いつからお休みしますか」 in kana. The risk model alone once read the bare
    dates as a plan with a time and sent the suicide-crisis reply (emergency); a form's date
    answer now reaches the form (the hard rules still read it)."""
    resident = Resident(runtime, session)
    first = await resident.says("でんわほうもんを らいしゅう やすみたい です にゅういん します")
    assert first.request and first.request.kind == "setagaya.phone_visit_pause" and "いつから" in text_of(first)
    dates = await resident.says("12がつ14にちから 20にちまで")
    assert dates.urgency == "none" and dates.case_id is None and "119" not in text_of(dates)
    assert dates.request.fields["start"] == "2026-12-14"


async def test_a_cancellation_because_the_person_died_is_taken_with_condolences_for_the_family(runtime, session):  # noqa: ANN001
    resident = Resident(runtime, session)
    first = await resident.says("父が亡くなりました。電話訪問をやめたいです")
    assert first.request and first.request.kind == "setagaya.phone_visit_cancel"
    assert first.request.fields["reason"] == "死亡" and first.request.fields["reporter"] == "家族"
    assert "お悔やみ" in text_of(first) or "ご愁傷" in text_of(first)
    await resident.says("12月4日")
    await resident.says("世田谷一郎（せたがやいちろう）")
    read_back = await resident.says("03-1234-5678")
    assert "よろしいですか" in text_of(read_back)
    done = await resident.says("はい")
    assert "ご家族あて" in text_of(done) and "ご本人あて" not in text_of(done)


async def test_a_sticker_form_is_mailed_only_with_consent(runtime, session):  # noqa: ANN001
    resident = Resident(runtime, session)
    answer = await resident.says("見守りステッカーを申し込みたい")
    assert "form:start:setagaya.sticker_application" in button_ids(answer)
    asked = await resident.taps("form:start:setagaya.sticker_application", "このチャットで申請書を頼む")
    assert "送り先）のお名前" in text_of(asked)
    consent = await resident.says("名前は世田谷花子、ふりがなはせたがやはなこです。住所は世田谷区世田谷4-21-27、電話は03-1234-5678")
    assert "ご住所を教えて" in text_of(consent)  # an address is not guessed from free text: asked once
    consent = await resident.says("世田谷区太子堂1-2-3")
    assert "郵送してよろしいですか" in text_of(consent) and "form:choose" in button_ids(consent)
    read_back = await resident.taps("form:choose", "はい")
    assert "・郵送への同意：同意する" in text_of(read_back)
    done = await resident.taps("form:yes", "はい")
    request = await stored(session, done)
    assert request.status == RequestStatus.OPEN and request.fields["address"] == "世田谷区太子堂1-2-3"


async def test_a_volunteer_request_with_its_task_type(runtime, session):  # noqa: ANN001
    resident = Resident(runtime, session)
    first = await resident.says("電球の交換をボランティアにお願いしたい")
    assert first.request and first.request.fields == {"task": "電球の交換"}
    await resident.taps("form:skip", "なし")
    await resident.says("来週の平日の午前")
    await resident.says("名前は世田谷花子、ふりがなはせたがやはなこです。電話は03-1234-5678")
    turn = await resident.says("世田谷区太子堂1-2-3")
    assert "ボランティアにお伝えしてよろしいですか" in text_of(turn)
    await resident.taps("form:choose", "はい")
    done = await resident.taps("form:yes", "はい")
    request = await stored(session, done)
    assert request.status == RequestStatus.OPEN
    assert request.fields["detail"] == "" and request.fields["consent"] == "同意する" and request.fields["phone"] == "03-1234-5678"


async def test_a_phone_number_given_for_the_address_is_the_phone_and_the_address_is_asked_again(runtime, session):  # noqa: ANN001
    """Asked 「うかがうご住所を教えてください」, an elder typed her phone number: it was recorded
    as the address and the phone both, and the volunteer would have been sent to 03-1111-2222."""
    resident = Resident(runtime, session)
    await resident.says("ぼらんてぃあの ひとに でんきゅうを かえて ほしい")
    await resident.taps("form:skip", "なし")
    await resident.says("らいしゅうの ごぜん")
    asked = await resident.says("せたがや はなこ")
    assert "ご住所" in text_of(asked)
    again = await resident.says("０３ー１１１１ー２２２２です")
    assert "ご住所が読み取れませんでした" in text_of(again)
    assert again.request.fields["phone"] == "03-1111-2222" and "address" not in again.request.fields
    turn = await resident.says("さんげんぢゃや 2ちょうめ 3の4")
    assert "ボランティアにお伝えしてよろしいですか" in text_of(turn)
    assert turn.request.fields["address"] == "さんげんぢゃや 2ちょうめ 3の4"


@pytest.mark.parametrize("tenant", ["setagaya", "kashiwa"])
async def test_a_complaint_is_recorded_at_once_and_stays_when_the_topic_changes(runtime, session, tenant):  # noqa: ANN001
    resident = Resident(runtime, session, tenant=tenant)
    first = await resident.says("相談員の対応がひどかった。苦情を言いたい")
    assert first.request and first.request.kind == "complaint" and first.request.status == "open"
    assert "記録しました" in text_of(first)
    assert first.request.fields["content"] == "相談員の対応がひどかった。苦情を言いたい"
    later = await resident.says("ところで、窓口は何時までですか")
    assert later.request is None
    assert (await stored(session, first)).status == RequestStatus.OPEN
    again = await resident.says("やっぱり相談員の態度が悪かったです。苦情です")
    assert again.request is None  # one complaint per conversation


async def test_an_office_hours_request_outside_hours_on_a_holiday(runtime, session):  # noqa: ANN001
    resident = Resident(runtime, session, now=datetime(2026, 12, 31, 23, 0, tzinfo=MONDAY_10.tzinfo))  # 年末年始, night
    await resident.says("電話訪問を週1回から週2回にしてほしい")
    await resident.taps("form:choose", "週2回")
    await resident.says("名前は世田谷花子、ふりがなはせたがやはなこ、電話は03-1234-5678です")
    done = await resident.taps("form:yes", "はい")
    request = await stored(session, done)
    assert request.outside_hours and request.status == RequestStatus.OPEN
    assert "1月2日（土）23時までに確認し" in text_of(done)  # the setting: 48 hours
