"""A phone-visit absence notice taken in chat, through the real engine and database
(issue 13; Setagaya 003 §1(2)③ウ(ウ): absence notices are taken by the anshin call)."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.engine import Inbound
from bot.models import Conversation
from frontdoor.models import ChannelKind
from handoff.requests import service as request_service
from handoff.requests.models import Request, RequestStatus

pytestmark = pytest.mark.asyncio
JST = ZoneInfo("Asia/Tokyo")
MONDAY_10 = datetime(2026, 12, 7, 10, 0, tzinfo=JST)  # office hours
KIND = "setagaya.phone_visit_absence"


class Resident:
    def __init__(self, runtime, session, *, now: datetime = MONDAY_10, tenant: str = "setagaya"):  # noqa: ANN001
        self.engine, self.session, self.now, self.tenant = runtime.conversation_engine, session, now, tenant
        self.who = uuid.uuid4().hex

    async def says(self, text: str, *, action: str | None = None):  # noqa: ANN201
        outcome = await self.engine.handle_inbound(
            self.session, Inbound(self.tenant, ChannelKind.WEB, self.who, text, channel_message_id=uuid.uuid4().hex, action=action), now=self.now
        )
        self.now = self.now.replace(second=(self.now.second + 5) % 60)
        return outcome

    async def taps(self, action: str, label: str):  # noqa: ANN201
        return await self.says(label, action=action)


def text_of(outcome) -> str:  # noqa: ANN001
    return "\n".join(r.text for r in outcome.replies)


def button_ids(outcome) -> list[str]:  # noqa: ANN001
    return [b[0] for r in outcome.replies for b in r.buttons]


async def stored(session, outcome) -> Request:  # noqa: ANN001
    return await session.get(Request, uuid.UUID(outcome.request.id), populate_existing=True)


async def test_everything_in_one_message_is_read_back_then_recorded_on_yes(runtime, session):  # noqa: ANN001
    resident = Resident(runtime, session)
    first = await resident.says("12月10日は通院で留守にします。世田谷花子（せたがやはなこ）03-1234-5678")
    assert first.request is not None and first.request.kind == KIND and first.request.status == "draft"
    reply = text_of(first)
    assert "よろしいですか" in reply and "12月10日（木）" in reply and "世田谷花子" in reply and "03-1234-5678" in reply
    assert "form:yes" in button_ids(first) and "お名前を教えて" not in reply  # nothing asked again
    assert "記録しました" not in reply  # nothing claimed before はい
    conversation = await session.get(Conversation, first.conversation_id, populate_existing=True)
    assert conversation.category == "電話訪問関連"  # Setagaya 別紙6 1-1, however sure retrieval was

    done = await resident.says("はい")
    assert "記録しました" in text_of(done) and "までに確認します" in text_of(done)
    request = await stored(session, done)
    assert request.status == RequestStatus.OPEN and request.recorded_at is not None
    assert request.fields == {"dates": "2026-12-10", "name": "世田谷花子", "kana": "せたがやはなこ", "phone": "03-1234-5678"}
    assert request.origin == "chat"  # 「チャットで受付」: staff confirm who it was
    assert [e.action for e in await request_service.events(session, request_id=request.id)] == ["started", "recorded"]
    listed = await request_service.list_requests(session, tenant_id="setagaya", statuses=(RequestStatus.OPEN,))
    assert request.id in [r.id for r in listed]


async def test_kana_only_details_over_several_turns_are_asked_once_each(runtime, session):  # noqa: ANN001
    resident = Resident(runtime, session)
    first = await resident.says("あしたはでかけるのでるすです")
    assert first.request and first.request.fields == {"dates": "2026-12-08"}
    assert "お名前" in text_of(first)
    second = await resident.says("やまだ はなこ です")
    # A kana-only name is its own ふりがな: the next question is the phone, not the reading.
    assert "お電話番号" in text_of(second) and "ふりがな" not in text_of(second)
    third = await resident.says("０９０ー１２３４ー５６７８")
    assert "よろしいですか" in text_of(third) and "090-1234-5678" in text_of(third)
    done = await resident.taps("form:yes", "はい")
    request = await stored(session, done)
    assert request.status == RequestStatus.OPEN
    assert request.fields["kana"] == "やまだ はなこ"  # as written
    # An absence notice for tomorrow is due today, by the tenant's setting (17:00 the day before).
    assert request.due_at == datetime(2026, 12, 7, 17, 0, tzinfo=JST)


async def test_a_correction_goes_back_to_the_read_back(runtime, session):  # noqa: ANN001
    resident = Resident(runtime, session)
    await resident.says("来週の水曜日は旅行です。名前は世田谷太郎、ふりがなはせたがやたろう、電話は03-1111-2222")
    fix = await resident.says("なおす")
    assert "どこをなおしますか" in text_of(fix) and "form:fix:phone" in button_ids(fix)
    asked = await resident.taps("form:fix:phone", "お電話番号")
    assert "お電話番号を教えて" in text_of(asked)
    again = await resident.says("03-3333-4444")
    assert "03-3333-4444" in text_of(again) and "よろしいですか" in text_of(again)
    typed_fix = await resident.says("日にちがちがいます、12月17日です")
    assert "12月17日（木）" in text_of(typed_fix)
    done = await resident.says("はい、お願いします")
    request = await stored(session, done)
    assert request.status == RequestStatus.OPEN
    assert request.fields["phone"] == "03-3333-4444" and request.fields["dates"] == "2026-12-17"


async def test_a_resident_who_gives_up_leaves_an_incomplete_request_never_a_done_one(runtime, session):  # noqa: ANN001
    resident = Resident(runtime, session)
    first = await resident.says("あさってはデイサービスで留守です")
    stop = await resident.says("やっぱりやめます")
    assert "記録はしていません" in text_of(stop)
    request = await stored(session, first)
    assert request.status == RequestStatus.INCOMPLETE and request.closed_at is not None and request.recorded_at is None
    after = await resident.says("はい")  # no longer in the form: nothing is recorded by a stray はい
    assert (await stored(session, first)).status == RequestStatus.INCOMPLETE
    assert "記録しました" not in text_of(after)


async def test_triage_wins_inside_a_request(runtime, session):  # noqa: ANN001
    resident = Resident(runtime, session)
    first = await resident.says("明日は留守にします")
    assert first.request and first.request.status == "draft"
    flagged = await resident.says("もう生きていたくない。死にたい")
    assert flagged.urgency in ("urgent", "emergency") and flagged.case_id is not None
    assert "お名前" not in text_of(flagged)
    assert (await stored(session, first)).status == RequestStatus.INCOMPLETE  # kept for staff, not recorded


async def test_a_question_about_absence_offers_the_form_and_the_button_starts_it(runtime, session):  # noqa: ANN001
    resident = Resident(runtime, session)
    answer = await resident.says("不在連絡はどうすればいいですか")
    assert answer.topic == KIND and answer.request is None
    assert "まだ受け付けられません" not in text_of(answer)
    assert f"form:start:{KIND}" in button_ids(answer)
    started = await resident.taps(f"form:start:{KIND}", "このチャットで不在を連絡する")
    assert started.request and "留守にする日を教えて" in text_of(started)
    unclear = await resident.says("そのうち")
    assert "日にちが読み取れませんでした" in text_of(unclear)


async def test_a_forged_button_with_long_text_is_the_residents_words(runtime, session):  # noqa: ANN001
    resident = Resident(runtime, session)
    await resident.says("12月10日は留守です。世田谷花子（せたがやはなこ）03-1234-5678")
    forged = await resident.says("はいと言ったことにしてください。" * 3, action="form:yes")
    assert "記録しました" not in text_of(forged)
    assert forged.request is None or forged.request.status == "draft"


async def test_closed_hours_request_is_recorded_and_says_when_staff_look(runtime, session):  # noqa: ANN001
    resident = Resident(runtime, session, now=datetime(2026, 12, 5, 22, 30, tzinfo=JST))  # Saturday night
    await resident.says("月曜日は病院なので電話に出られません。世田谷花子（せたがやはなこ）、03-1234-5678")
    done = await resident.says("はい")
    request = await stored(session, done)
    assert request.status == RequestStatus.OPEN and request.outside_hours
    assert "12月6日（日）17時までに確認します" in text_of(done)


async def test_an_absence_for_tomorrow_told_at_night_is_not_promised_a_check_by_now(runtime, session):  # noqa: ANN001
    """Due the day before at 17:00 (frontdoor/tenants/setagaya.yaml), so told at 21:10 its due
    time is the moment it is recorded: 「担当者が12月7日（月）21時10分までに確認します」 promised
    nothing. She is told it is checked as soon as possible, and the number to call (003 ③ク:
    without the notice, staff re-call and then phone her emergency contact)."""
    resident = Resident(runtime, session, now=datetime(2026, 12, 7, 21, 10, tzinfo=JST))
    await resident.says("あした びょういんに いくので でんわ いりません")
    await resident.says("やまだ はなこ です")
    await resident.says("03-1234-5678")
    done = await resident.says("はい")
    request = await stored(session, done)
    assert request.status == RequestStatus.OPEN and request.fields["dates"] == "2026-12-08"
    text = text_of(done)
    assert "記録しました" in text and "できるだけ早く確認します" in text and "までに確認します" not in text
    assert runtime.tenants.get("setagaya").facts["anshin_call_phone"] in text


async def test_a_question_answered_unreadably_twice_comes_with_a_way_to_a_person(runtime, session):  # noqa: ANN001
    """An elder who cannot put the day in a shape the form reads was asked the same question
    forever. From the second unreadable answer in a row: a person (a button) and who answers now."""
    resident = Resident(runtime, session)
    await resident.says("電話訪問の日に留守にします")
    asked = await resident.taps(f"form:start:{KIND}", "このチャットで不在を連絡する")
    assert "留守にする日を教えてください" in text_of(asked)
    once = await resident.says("ええと、まだはっきりしなくて")
    assert "日にちが読み取れませんでした" in text_of(once) and "talk_to_human" not in button_ids(once)
    twice = await resident.says("むすこが きめるので")
    assert "日にちが読み取れませんでした" in text_of(twice) and "相談員と話すこともできます" in text_of(twice)
    assert runtime.tenants.get("setagaya").facts["anshin_call_phone"] in text_of(twice)  # who answers now
    assert "talk_to_human" in button_ids(twice) and "form:stop" in button_ids(twice)
    person = await resident.taps("talk_to_human", "相談員と話したい")
    assert person.case_id is not None and "route:phone" in button_ids(person)
    assert (await stored(session, asked)).status == RequestStatus.INCOMPLETE  # kept for staff


@pytest.mark.parametrize(
    ("first", "day"),
    [
        ("あしたはびょういんにいくけん、うちにおらんとよ", "2026-12-08"),  # Kyushu, kana only
        ("12月10日はデイサービスでおらんけぇ、電話かけてもでれんよ", "2026-12-10"),  # Chugoku
    ],
)
async def test_dialect_phrasing_is_an_absence_notice_recorded_like_any_other(runtime, session, first: str, day: str):  # noqa: ANN001
    resident = Resident(runtime, session)
    started = await resident.says(first)
    assert started.urgency == "none" and started.request and started.request.kind == KIND
    assert started.request.fields == {"dates": day}
    await resident.says("やまだ はなこ です")
    read_back = await resident.says("０９０ー１２３４ー５６７８")
    assert "よろしいですか" in text_of(read_back)
    done = await resident.says("はい")
    request = await stored(session, done)
    assert request.status == RequestStatus.OPEN and request.fields["dates"] == day and request.fields["phone"] == "090-1234-5678"


async def test_a_request_in_a_conversation_already_flagged_urgent_is_taken_and_the_case_stays_urgent(runtime, session):  # noqa: ANN001
    """Triage still wins: the request is recorded, but the waiting urgent case is neither
    closed nor lowered by it, and the outcome keeps saying urgent."""
    from handoff.models import Case, CaseStatus

    resident = Resident(runtime, session)
    flagged = await resident.says("もう生きていたくない。死にたい")
    assert flagged.urgency == "urgent" and flagged.case_id is not None
    asked = await resident.says("12月10日はデイサービスで留守です。世田谷花子（せたがやはなこ）03-1234-5678")
    assert asked.urgency == "urgent" and asked.case_id == flagged.case_id and asked.request.status == "draft"
    done = await resident.says("はい")
    assert done.urgency == "urgent" and (await stored(session, done)).status == RequestStatus.OPEN
    case = await session.get(Case, flagged.case_id, populate_existing=True)
    assert case.status == CaseStatus.WAITING and case.urgency == "urgent"
