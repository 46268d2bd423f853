"""First replies: the right numbers per kind, crisis lines for self-harm, the direct
question, the four routes, honest after-hours text, and no English for residents."""

from __future__ import annotations

import re

import pytest

from handoff.contacts import Contacts, load_contacts
from handoff.responses import ROUTE_CHOICES, emergency_reply, urgent_reply
from handoff.triage import Triage, load_triage
from handoff.urgency import Urgency

# Proper names residents see in Latin letters (the official name "DV相談ナビ").
ALLOWED_LATIN = {"DV"}


@pytest.fixture(scope="module")
def triage() -> Triage:
    return load_triage()


@pytest.fixture(scope="module")
def contacts() -> Contacts:
    return load_contacts()


def no_english(text: str) -> bool:
    return all(word in ALLOWED_LATIN for word in re.findall(r"[A-Za-z]+", text))


def emergency(triage: Triage, contacts: Contacts, text: str) -> str:
    a = triage.assess(text)
    assert a.level == Urgency.EMERGENCY, text
    return emergency_reply(a, contacts)


@pytest.mark.parametrize(
    ("text", "must", "must_not"),
    [
        ("夫が倒れて息をしていない", ["119"], ["110番", "0120-279-338"]),
        ("台所から煙が出てる、火事です", ["119", "逃げ"], ["110番", "0120-279-338"]),
        ("今夫に殴られてる", ["110"], ["119番", "0120-279-338"]),
        ("薬を全部飲んだ", ["119", "0120-279-338", "0570-783-556"], []),
        ("今から死にます", ["119", "0120-279-338", "0570-783-556"], []),
    ],
)
def test_emergency_reply_numbers_fit_the_kind(triage, contacts, text, must, must_not) -> None:  # noqa: ANN001
    reply = emergency(triage, contacts, text)
    for needle in must:
        assert needle in reply, (needle, reply)
    for needle in must_not:
        assert needle not in reply, (needle, reply)
    assert "担当の相談員に、今おつなぎしています" in reply


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("今から死にます", "今どこにいますか？"),
        ("夫が倒れて動かない", "今どこにいますか？"),
        ("火事です！", "今、安全な場所にいますか？"),
        ("包丁を振り回してる、殺される", "今、安全な場所にいますか？"),
    ],
)
def test_emergency_reply_ends_with_a_short_direct_question(triage, contacts, text, question) -> None:  # noqa: ANN001
    reply = emergency(triage, contacts, text)
    assert reply.endswith(question)
    assert reply.strip() not in ("お待ちください", "少々お待ちください")


def test_missing_person_asks_about_110_and_starts_the_intake(triage, contacts) -> None:  # noqa: ANN001
    reply = emergency(triage, contacts, "認知症の父が朝から帰ってこない")
    assert reply.endswith("110番には、もう通報されましたか？")  # Setagaya 003 ⑤イ(ア)
    assert "行方不明の受付を始めます" in reply


def test_emergency_reply_without_a_kind_still_gives_both_numbers(triage, contacts) -> None:  # noqa: ANN001
    a = triage.assess("はい", prior=Urgency.EMERGENCY)
    reply = emergency_reply(a, contacts)
    assert "119" in reply and "110" in reply and reply.endswith("？")


def test_route_choices_are_data() -> None:
    assert [c.id for c in ROUTE_CHOICES] == ["chat", "phone", "face_to_face", "email"]
    labels = [c.label for c in ROUTE_CHOICES]
    assert labels == ["チャットで相談員と話す", "電話で折り返し", "面談の予約", "メールで相談"]


def test_urgent_reply_offers_the_four_routes_and_asks_number_and_times(triage, contacts) -> None:  # noqa: ANN001
    reply = urgent_reply(triage.assess("一人暮らしの母と3日連絡が取れない"), contacts, staffed=True, next_staffed_text="", on_call_text="")
    for choice in ROUTE_CHOICES:
        assert choice.label in reply
    assert "お電話番号" in reply and "時間帯" in reply
    assert "ご心配ですね" in reply
    assert "受付時間外" not in reply


def test_urgent_reply_outside_hours_is_honest_and_gives_the_24h_line(triage, contacts) -> None:  # noqa: ANN001
    reply = urgent_reply(
        triage.assess("お金がなくて食べるものがない"),
        contacts,
        staffed=False,
        next_staffed_text="次の受付は月曜日の午前8時30分からです",
        on_call_text="夜間は当番の相談員が順番にお返事します。",
    )
    assert "受付時間外" in reply
    assert "夜間は当番の相談員が順番にお返事します。" in reply
    assert "次の受付は月曜日の午前8時30分からです。" in reply
    assert "。。" not in reply
    assert "0120-279-338" in reply and "24時間" in reply


def test_urgent_self_harm_reply_has_crisis_lines_even_when_staffed(triage, contacts) -> None:  # noqa: ANN001
    reply = urgent_reply(triage.assess("死にたい"), contacts, staffed=True, next_staffed_text="", on_call_text="")
    assert "0120-279-338" in reply and "0570-783-556" in reply
    assert "ひとりで抱えなくて大丈夫です" in reply


def test_urgent_abuse_reply_mentions_110_and_189(triage, contacts) -> None:  # noqa: ANN001
    reply = urgent_reply(triage.assess("夫から毎日殴られています"), contacts, staffed=True, next_staffed_text="", on_call_text="")
    assert "110番" in reply and "189" in reply and "あなたは悪くありません" in reply


def test_no_english_in_any_reply(triage, contacts) -> None:  # noqa: ANN001
    import yaml
    from pathlib import Path

    cases = yaml.safe_load((Path(__file__).resolve().parents[2] / "handoff" / "lexicon" / "labelled_messages.yaml").read_text(encoding="utf-8"))
    for case in cases:
        a = triage.assess(case["text"])
        if a.level == Urgency.EMERGENCY:
            reply = emergency_reply(a, contacts)
        elif a.level == Urgency.URGENT:
            reply = urgent_reply(a, contacts, staffed=False, next_staffed_text="次の受付は明日の朝です", on_call_text="当番の相談員がお返事します")
        else:
            continue
        assert no_english(reply), reply
        assert reply.count("\n") <= 12
