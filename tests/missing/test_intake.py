"""The missing-person intake in chat (issue 8; Setagaya 003 §1(2)⑤イ(ア)〜(オ), ⑤ウ, 別紙8-3),
through the real engine and database, with the clock controlled."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from handoff import cases as case_service
from handoff.missing import service as missing
from handoff.missing.models import MissingPerson
from handoff.requests.models import RequestStatus
from handoff.requests.service import RequestView
from tests.missing.helpers import Reporter, intake_of, text_of

pytestmark = pytest.mark.asyncio
JST = ZoneInfo("Asia/Tokyo")
MONDAY_14 = datetime(2026, 12, 7, 14, 0, tzinfo=JST)  # office hours (開庁時間)
SUNDAY_NIGHT = datetime(2026, 12, 6, 22, 0, tzinfo=JST)  # closed hours (閉庁時間)


async def _flagged(reporter: Reporter, text: str):  # noqa: ANN202
    first = await reporter.says(text)
    assert first.urgency == "emergency" and first.case_id is not None  # in the queue at once
    assert "110" in text_of(first)  # ⑤イ(ア): the 110 question first
    return first


async def test_office_hours_intake_over_several_turns_is_numbered_read_back_and_due_in_30_minutes(runtime, session):  # noqa: ANN001
    reporter = Reporter(runtime, session, now=MONDAY_14)
    first = await _flagged(reporter, "認知症の父が朝から帰ってきません")
    started = await reporter.says("まだです")
    assert "すぐに110番" in text_of(started) and "あなた（ご連絡くださった方）のお名前" in text_of(started)
    assert started.request and started.request.kind == "missing_person" and started.request.status == "draft"
    answers = [
        ("世田谷花子です", "ふりがな"),
        ("せたがや はなこ", "ご関係"),
        ("むすめです", "お電話番号"),
        ("０９０ー１１１１ー２２２２", "区による対応"),
        ("はい、おねがいします", "希望する対応"),
        ("1と2と4", "メールで配信してよい情報"),
        ("1、2、7", "いなくなった方のお名前"),
        ("世田谷太郎", "ふりがなを"),
        ("せたがや たろう", "性別"),
        ("おとこ", "生年月日か年齢"),
        ("78さい", "ご住所"),
        ("世田谷区北沢1-2-3", "日時"),
        ("けさ8時ごろ", "場所と様子"),
        ("家から散歩に出たまま戻らない", "行きそうな場所"),
        ("なし", "見た目の特徴"),
        ("身長160センチくらい、白髪でめがね", "服装"),
        ("紺のジャンパー、灰色のズボン、白い運動靴", "持ち物"),
        ("さいふ", "認知症"),  # 認知症 was in the first message: not asked again
    ]
    replies = []
    for answer, next_question in answers[:-1]:
        reply = await reporter.says(answer)
        replies.append(text_of(reply))
        assert next_question in text_of(reply), (answer, text_of(reply))
    reply = await reporter.says("さいふ")
    assert "認知症はありますか" not in text_of(reply) and "自分の名前を言えますか" in text_of(reply)
    await reporter.says("言えます")
    await reporter.says("いえない")
    await reporter.says("まだ出していません")
    confirm = await reporter.says("なし")
    shown = text_of(confirm)
    assert "よろしいですか" in shown and "世田谷花子" in shown and "090-1111-2222" in shown and "紺のジャンパー" in shown
    assert "災害・防犯情報メール、一人歩きSOSネットワークメール、区役所全体での情報共有" in shown
    assert "性別、年齢、服装" in shown
    assert "受け付けました" not in shown  # nothing claimed before はい

    done = await reporter.says("はい")
    request = await intake_of(session, done)
    # 管理番号 月-受付順 (⑤イ(イ)): December's n-th intake is 12-n (n depends on the tests run before).
    assert request.status == RequestStatus.OPEN and request.number.startswith("MP-2026-12-")
    number = request.fields["management_no"]
    assert number == "12-" + request.number.rsplit("-", 1)[1] and f"「{number}」" in text_of(done)
    assert request.fields["called_110"] == "無" and request.fields["dementia"] == "有" and request.fields["says_address"] == "否"
    # ⑤イ(カ): reported to the ward within 30 minutes of the end of the intake.
    assert request.due_at == reporter.now.replace(second=0) + (request.due_at - request.recorded_at) and (request.due_at - request.recorded_at).total_seconds() == 1800
    assert "14時30分までに報告します" in text_of(done)
    record = await session.get(MissingPerson, request.id)
    assert record.intake_at == request.recorded_at and record.report_due_at == request.due_at and record.closed_call_at is None
    view = RequestView.of(request)  # `frontdoor requests list --json`
    assert (view.kind, view.status, view.fields["management_no"]) == ("missing_person", "open", number) and view.due_at
    case = await case_service.open_case_of(session, conversation_id=request.conversation_id)
    assert case is not None and case.urgency == "emergency" and case.kind == "missing_person"


async def test_everything_at_once_is_asked_only_what_is_missing(runtime, session):  # noqa: ANN001
    reporter = Reporter(runtime, session, now=MONDAY_14.replace(hour=10))
    await _flagged(reporter, "父が今朝から帰ってきません。認知症です。")
    started = await reporter.says(
        "110番はしました。私は娘の世田谷花子（せたがやはなこ）、電話は090-1111-2222です。"
        "父の名前は世田谷次郎、ふりがなはせたがやじろう、男性、82歳、住所は世田谷区北沢1-2-3。"
        "今朝7時ごろ、自宅から散歩に出たまま戻りません。行きそうな場所は北沢川緑道です。身長は165センチでやせ型。"
        "服装は紺のジャンパーと灰色のズボン、白い運動靴。持ち物は財布。北沢警察署に届けを出しました。"
    )
    request = await intake_of(session, started)
    fields = request.fields
    assert fields["reporter_name"] == "世田谷花子" and fields["reporter_kana"] == "せたがやはなこ" and fields["relationship"] == "娘"
    assert fields["reporter_phone"] == "090-1111-2222" and fields["called_110"] == "有"
    assert fields["person_name"] == "世田谷次郎" and fields["sex"] == "男性" and fields["birth"] == "82歳" and fields["dementia"] == "有"
    assert fields["address"].startswith("世田谷区北沢1-2-3") and fields["last_seen_at"].startswith("今朝7時")
    assert "北沢警察署" in fields["police_report"] and "紺のジャンパー" in fields["clothes"]
    assert "区による対応" in text_of(started)  # the first thing not yet given
    await reporter.says("希望します")
    await reporter.says("3")
    await reporter.says("言えます")
    await reporter.says("言えます")
    confirm = await reporter.says("なし")
    assert "よろしいですか" in text_of(confirm)
    assert "メールで配信してよい情報" not in text_of(confirm)  # no mail chosen: not asked, not shown


async def test_a_reporter_who_calls_the_police_during_the_intake_is_recorded_as_having_called(runtime, session):  # noqa: ANN001
    """別紙8-3 「110番通報の有無」 is what is true when the intake is recorded: she answered 「まだです」,
    was told to call at once, did, and says so where her name is asked. A plain 「はい」 to a later
    question is not taken as news about the police."""
    reporter = Reporter(runtime, session, now=MONDAY_14)
    await _flagged(reporter, "ははが ゆうがたから かえってきません")
    started = await reporter.says("まだです")
    assert started.request.fields["called_110"] == "無"
    called = await reporter.says("いま けいさつに でんわしてきました。せたがや はなこです")
    assert "警察へのご連絡、ありがとうございます" in text_of(called)
    assert called.request.fields["called_110"] == "有" and called.request.fields["reporter_name"] == "せたがや はなこ"
    assert "ご関係" in text_of(called)  # her kana name is its own ふりがな: the next question
    await reporter.says("むすめです")
    ward = await reporter.says("０９０ー１１１１ー２２２２")
    assert "区による対応" in text_of(ward)
    yes = await reporter.says("はい")
    assert "警察へのご連絡" not in text_of(yes) and yes.request.fields["called_110"] == "有"


@pytest.mark.parametrize(
    ("first", "told", "called", "heard"),
    [
        ("まだです", "さっき交番に行ってきました", "有", "警察へのご連絡、ありがとうございます"),
        ("まだです", "警察の人が来てくれました", "有", "警察へのご連絡、ありがとうございます"),
        ("はい、さっき電話しました", "まだ警察には電話してません", "無", "このあとすぐに110番（警察）へ通報してください"),
    ],
)
async def test_what_a_reporter_says_about_the_police_where_her_name_is_asked_is_heard(runtime, session, first: str, told: str, called: str, heard: str):  # noqa: ANN001
    """別紙8-3 「110番通報の有無」: her newest word stands, and she is answered for it before her
    name is asked again (not 「お名前が読み取れませんでした」)."""
    reporter = Reporter(runtime, session, now=MONDAY_14)
    await _flagged(reporter, "ははが ゆうがたから かえってきません")
    await reporter.says(first)
    again = await reporter.says(told)
    assert heard in text_of(again) and "読み取れません" not in text_of(again) and "お名前" in text_of(again)
    assert again.request.fields["called_110"] == called and "reporter_name" not in again.request.fields


async def test_the_missing_fathers_name_given_where_hers_is_asked_is_his_and_hers_is_asked_again(runtime, session):  # noqa: ANN001
    """The first reply asks 「いなくなった方のお名前と…を教えてください」; the form then asks the
    reporter's name. A daughter answered with her father's name and age, and it became hers.
    Then 「むすめの せたがや はなこ です」: the relation is hers, not part of her name."""
    reporter = Reporter(runtime, session, now=SUNDAY_NIGHT)
    await _flagged(reporter, "父が夕方から帰ってきません。認知症があります")
    asked = await reporter.says("はい、連絡しました")
    assert "あなた（ご連絡くださった方）のお名前" in text_of(asked)
    again = await reporter.says("世田谷 一郎です。82さいです")
    assert "いなくなった方のお名前を「世田谷 一郎」と受け取りました" in text_of(again)
    assert "あなた（ご連絡くださった方）のお名前" in text_of(again)
    fields = again.request.fields
    assert fields["person_name"] == "世田谷 一郎" and fields["birth"] == "82さい" and "reporter_name" not in fields
    hers = await reporter.says("むすめの せたがや はなこ です")
    fields = hers.request.fields
    assert fields["reporter_name"] == "せたがや はなこ" and fields["relationship"] == "むすめ"
    assert "ご関係" not in text_of(hers) and "お電話番号" in text_of(hers)


async def test_an_anonymous_report_is_not_taken_but_110_is_still_urged(runtime, session):  # noqa: ANN001
    reporter = Reporter(runtime, session, now=MONDAY_14)
    await _flagged(reporter, "となりのおばあちゃんがいなくなったみたい")
    started = await reporter.says("まだです")
    refused = await reporter.says("名前は言いたくないです。匿名でおねがいします")
    reply = text_of(refused)
    assert "お受けできません" in reply and "110番" in reply and "ため" in reply  # why, and still the 110 guidance
    request = await intake_of(session, started)
    assert request.status == RequestStatus.REFUSED and request.number is None and "management_no" not in request.fields
    assert await session.get(MissingPerson, request.id) is None


async def test_closed_hours_report_on_sunday_night_takes_the_reporter_and_the_call_back_continues(runtime, session, counselor):  # noqa: ANN001
    reporter = Reporter(runtime, session, now=SUNDAY_NIGHT)
    await _flagged(reporter, "母が夕方から帰ってきません、認知症があります")
    started = await reporter.taps("missing110:yes", "はい、連絡しました")
    assert "閉庁時間" in text_of(started) and "翌開庁日" in text_of(started)
    await reporter.says("世田谷一郎と申します")
    await reporter.says("せたがやいちろう")
    await reporter.says("息子です")
    confirm = await reporter.says("03-1234-5678")
    assert "よろしいですか" in text_of(confirm) and "いなくなった方のお名前" not in text_of(confirm)
    done = await reporter.says("はい")
    request = await intake_of(session, done)
    assert request.status == RequestStatus.CALLBACK and request.outside_hours
    # ⑤ウ(エ): the next opening day (Monday) between 8:30 and 9:00.
    assert request.due_at == datetime(2026, 12, 7, 9, 0, tzinfo=JST) and "12月7日（月）9時までに" in text_of(done)
    assert request.fields["management_no"].startswith("12-")  # numbered from the moment it is taken
    assert request.fields["relationship"] == "息子"  # 「息子です」: the answer, not how it was said
    assert done.topic == confirm.topic == "setagaya.missing_person"  # answers to the form's questions, not new subjects
    # Her thank-you is told the call again, not a goodbye, nor a counselor in the chat tonight.
    thanks = await reporter.says("ありがとうございます")
    assert "12月7日（月）9時までに" in text_of(thanks) and "安心コールからお電話します" in text_of(thanks)
    assert "ご利用ありがとうございました" not in text_of(thanks) and "このままお待ちください" not in text_of(thanks)
    record = await session.get(MissingPerson, request.id)
    assert record.closed_call_at == request.recorded_at and record.intake_at is None

    # Monday 8:45: still missing, the counselor takes the full intake by phone.
    call = datetime(2026, 12, 7, 8, 45, tzinfo=JST)
    assert await missing.callback_intake(
        session, request_id=request.id, counselor_id=counselor, fields={"person_name": "世田谷ハナ", "wants_ward": "希望する"}, tenant=runtime.tenants.get("setagaya"), now=call
    )
    request = await intake_of(session, done)
    assert request.status == RequestStatus.OPEN and request.fields["person_name"] == "世田谷ハナ"
    assert request.due_at == datetime(2026, 12, 7, 9, 30, tzinfo=JST)  # ⑤イ(カ): ended 8:30–9:00 → by 9:30
    await session.refresh(record)
    assert record.intake_at == call


async def test_kashiwa_gives_110_guidance_and_a_counselor_without_promising_an_intake(runtime, session):  # noqa: ANN001
    """Her thank-you while the counselor is on the way is no goodbye: the case is open."""
    reporter = Reporter(runtime, session, now=MONDAY_14, tenant="kashiwa")
    first = await _flagged(reporter, "認知症の父が朝から帰ってきません")
    after = await reporter.says("まだです")
    assert "110番" in text_of(after) and "相談員" in text_of(after)
    assert "行方不明の受付" not in text_of(after) and "管理番号" not in text_of(after) and after.request is None
    thanks = await reporter.says("ありがとうございます。")
    assert "相談員が、このチャットでお返事します" in text_of(thanks) and "このままお待ちください" in text_of(thanks)
    assert "ご利用ありがとうございました" not in text_of(thanks) and thanks.case_id == first.case_id


@pytest.mark.parametrize(
    ("reported", "call_back_by"),
    [
        (datetime(2026, 12, 8, 17, 20, tzinfo=JST), datetime(2026, 12, 9, 9, 0, tzinfo=JST)),  # after 17:15 on a weekday
        (datetime(2026, 12, 29, 10, 0, tzinfo=JST), datetime(2027, 1, 4, 9, 0, tzinfo=JST)),  # year-end closure 12/29–1/3
        (datetime(2027, 1, 10, 15, 0, tzinfo=JST), datetime(2027, 1, 12, 9, 0, tzinfo=JST)),  # Sunday before 成人の日
    ],
)
async def test_closed_hours_follow_the_ward_calendar_and_the_call_back_is_on_the_next_opening_day(runtime, reported, call_back_by):  # noqa: ANN001
    """⑤イ 受付期間 8:30–17:15 on weekdays, not on holidays or 12/29–1/3; ⑤ウ(エ) the call-back
    by 9:00 on the next opening day."""
    setagaya = runtime.tenants.get("setagaya")
    assert not setagaya.ward_office_hours.is_open(reported)
    assert missing.callback_deadline(setagaya, reported) == call_back_by
    assert setagaya.ward_office_hours.is_open(call_back_by.replace(hour=8, minute=30))


async def test_a_daughter_who_says_first_that_she_called_the_police_is_recorded_as_having_called(runtime, session):  # noqa: ANN001
    """別紙8-3 「110番通報の有無」: she said it before the bot asked, then answered the question with
    the details. The record says 「有」, she is not told to call as if she had not, and a thank-you
    typed where her name is asked is not taken as her name."""
    reporter = Reporter(runtime, session, now=SUNDAY_NIGHT)
    await _flagged(reporter, "こんばんは。父が今朝から家にいません。認知症があります。さっき警察には電話しました")
    started = await reporter.says("父の名前は世田谷太郎、82歳です。青いジャンパーを着ています")
    assert "まだでしたら" not in text_of(started) and "すぐに110番" not in text_of(started)
    assert started.request.fields["called_110"] == "有" and started.request.fields["person_name"] == "世田谷太郎"
    thanks = await reporter.says("ありがとうございます")
    assert "お名前を教えてください" in text_of(thanks) and "読み取れません" not in text_of(thanks)  # asked again, plainly
    assert "reporter_name" not in thanks.request.fields
    assert thanks.assessment.kind == "missing_person"  # the conversation's worry, not a farewell
    again = await reporter.says("けいさつには もう でんわしました")  # told again where her name is asked: heard
    assert "警察へのご連絡、ありがとうございます" in text_of(again) and "読み取れません" not in text_of(again)
    assert "お名前" in text_of(again) and again.request.fields["called_110"] == "有" and "reporter_name" not in again.request.fields
    named = await reporter.says("世田谷花子です")
    assert named.request.fields["reporter_name"] == "世田谷花子" and "ふりがな" in text_of(named)


async def test_a_thank_you_between_two_questions_is_not_taken_as_the_answer(runtime, session):  # noqa: ANN001
    """「ありがとうございます」 where her relationship is asked was recorded as ご関係; where a
    date is asked it got 「日にちが読み取れませんでした」. The question comes again, plainly."""
    reporter = Reporter(runtime, session, now=MONDAY_14)
    await _flagged(reporter, "母が朝から帰ってきません、認知症があります")
    await reporter.taps("missing110:yes", "はい、連絡しました")
    await reporter.says("世田谷一郎です")
    asked = await reporter.says("せたがやいちろう")
    assert "ご関係" in text_of(asked)
    thanks = await reporter.says("ありがとうございます")
    assert text_of(thanks) == text_of(asked)
    assert "relationship" not in (await intake_of(session, thanks)).fields
    told = await reporter.says("つまです")
    assert "お電話番号" in text_of(told) and (await intake_of(session, told)).fields["relationship"] == "つま"
