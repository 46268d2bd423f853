"""First replies to urgent and emergency messages (issue 14 §3): every situation in
handoff/data/first_replies.yaml, for each tenant at an open and a closed hour."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from frontdoor.clock import JST
from frontdoor.tenants import Tenant, load_tenants
from frontdoor.settings import Settings
from handoff.contacts import load_contacts
from handoff.replies import MAX_LINES, FirstRepliesFile, RouteChoice, Situation, first_reply, load_first_replies, route_buttons, waiting_reply
from handoff.triage import SELF_HARM_KINDS, Assessment
from handoff.triage.lexicon import read_yaml
from handoff.urgency import Urgency

TENANTS = load_tenants(Settings(_env_file=None).tenants_dir)
CONTACTS = load_contacts()
# A weekday afternoon (Kashiwa's office is open) and a Sunday night (closed); Setagaya is 24h.
OPEN = datetime(2026, 12, 8, 14, 0, tzinfo=JST)
CLOSED = datetime(2026, 12, 6, 21, 0, tzinfo=JST)
ALLOWED_LATIN = {"DV"}  # the official name 「DV相談ナビ」
CRISIS = "0120-279-338"


def assessment_for(s: Situation) -> Assessment:
    kind = s.kinds[0] if s.kinds else None
    return Assessment(
        level=Urgency(s.level),
        kind=kind,
        self_harm=kind in SELF_HARM_KINDS,
        missing_person=kind == "missing_person",
        signals=(),
        report_category="その他",
        subject=s.subjects[0] if s.subjects else "unknown",
        category_cues=("子ども・子育て",) if s.child else (),
    )


CASES = [
    pytest.param(s, tenant, when, id=f"{s.id}-{tenant.id}-{name}")
    for s in load_first_replies().situations
    for tenant in TENANTS.all()
    for name, when in (("open", OPEN), ("closed", CLOSED))
]


@pytest.mark.parametrize(("situation", "tenant", "when"), CASES)
def test_every_reply_is_short_filled_and_fits_its_case(situation: Situation, tenant: Tenant, when: datetime) -> None:
    a = assessment_for(situation)
    text, buttons = first_reply(a, tenant=tenant, contacts=CONTACTS, now=when)
    lines = text.split("\n")
    assert len(lines) <= MAX_LINES, text
    assert all(line.strip() for line in lines)
    assert "{" not in text and "}" not in text
    assert not any(line.lstrip().startswith(("・", "-")) for line in lines)  # options are buttons
    assert all(w in ALLOWED_LATIN for w in re.findall(r"[A-Za-z]+", text)), text
    kinds = set(situation.kinds)
    # the number fits the case
    assert ("189" in text) == situation.child, text
    assert (CRISIS in text) == (bool(kinds & SELF_HARM_KINDS) and a.subject != "other"), text
    if kinds & {"fire", "medical", "overdose"} and a.level == Urgency.EMERGENCY:
        assert "119番" in text and "110番" not in text
    if kinds & {"medical"}:  # 119 first; #7119 only for the doubt whether it is an emergency
        assert "119番" in text and ("#7119" not in text or text.index("119番") < text.index("#7119") and "迷う" in text), text
    if kinds & {"missing_person"} or (kinds == {"violence", "abuse_dv"} and a.level == Urgency.EMERGENCY):
        assert "110番" in text
    assert "#8008" not in text or (kinds & {"abuse_dv"} and a.subject != "other")
    # a third party is thanked and guided, not consoled as the victim
    if a.subject == "other":
        assert "あなたの命が大切です" not in text and "あなたは悪くありません" not in text
    if a.level == Urgency.EMERGENCY:
        assert "今おつなぎしています" in text
        assert text.endswith("？")
        assert buttons == ([("missing110:yes", "はい、連絡しました"), ("missing110:no", "まだです")] if situation.missing_110 else [])
    else:
        ids = [b[0].removeprefix("route:") for b in buttons]
        assert ids == [r for r in ("chat", "phone", "face_to_face", "email") if r in tenant.routes]
        assert tenant.handoff_hours_text(when) in text  # who answers now and how, from the tenant


def test_setagaya_offers_chat_and_phone_only_and_is_24h() -> None:
    setagaya = TENANTS.get("setagaya")
    urgent = next(s for s in load_first_replies().situations if s.id == "urgent_default")
    text, buttons = first_reply(assessment_for(urgent), tenant=setagaya, contacts=CONTACTS, now=CLOSED)
    assert [b[0] for b in buttons] == ["route:chat", "route:phone"]  # seed 003 ②イ(ウ): phone and FAX
    assert "24時間" in text and setagaya.facts["anshin_call_phone"] in text
    assert "時間外" not in text


def test_kashiwa_says_who_answers_at_night_without_contradicting_itself() -> None:
    kashiwa = TENANTS.get("kashiwa")
    urgent = next(s for s in load_first_replies().situations if s.id == "urgent_default")
    day, _ = first_reply(assessment_for(urgent), tenant=kashiwa, contacts=CONTACTS, now=OPEN)
    night, _ = first_reply(assessment_for(urgent), tenant=kashiwa, contacts=CONTACTS, now=CLOSED)
    assert "時間外" not in day
    assert "時間外" in night and "当番の相談員" in night and kashiwa.facts["night_line_phone"] in night
    assert "ご連絡します" not in night  # no call-back promised without a number


@pytest.mark.parametrize("tenant", ["kashiwa", "setagaya"])
@pytest.mark.parametrize("when", [OPEN, CLOSED], ids=["open", "closed"])
@pytest.mark.parametrize("thanks", [True, False], ids=["thanks", "update"])
def test_while_the_case_waits_the_bot_says_who_answers_now_and_never_goodbye(tenant: str, when: datetime, thanks: bool) -> None:
    """The same hours text as the first reply: Kashiwa's on-call counselor at night, Setagaya's 24h line."""
    shown = TENANTS.get(tenant)
    text, buttons = waiting_reply(shown, when, thanks=thanks, urgent=False)
    assert text.startswith("ありがとうございます。" if thanks else "お知らせありがとうございます。") and text.endswith("このままお待ちください。")
    assert shown.handoff_hours_text(when) in text and "ご利用ありがとうございました" not in text
    assert len(text.splitlines()) <= MAX_LINES and "{" not in text and buttons == []
    assert ("当番の相談員" in text) == (tenant == "kashiwa" and when == CLOSED)
    # An urgent case's first reply offered the routes: they stay on offer, as buttons.
    urgent, routes = waiting_reply(shown, when, thanks=thanks, urgent=True)
    assert urgent.startswith(text) and len(urgent.splitlines()) <= MAX_LINES
    assert [b[0] for b in routes] == [f"route:{r}" for r in shown.routes] and "・" not in urgent


def test_the_question_fits_who_is_at_risk() -> None:
    by_id = {s.id: s for s in load_first_replies().situations}
    kashiwa = TENANTS.get("kashiwa")
    neighbour, _ = first_reply(assessment_for(by_id["medical_other"]), tenant=kashiwa, contacts=CONTACTS, now=OPEN)
    assert neighbour.endswith("その方は息をしていますか？")
    own, _ = first_reply(assessment_for(by_id["violence_self"]), tenant=kashiwa, contacts=CONTACTS, now=OPEN)
    assert own.endswith("今、安全な場所にいますか？")
    missing, buttons = first_reply(assessment_for(by_id["missing_person"]), tenant=kashiwa, contacts=CONTACTS, now=OPEN)
    assert missing.endswith("110番には、もう通報されましたか？") and buttons  # seed 003 ⑤イ(ア)


def test_schema_refuses_bullets_unknown_numbers_and_a_missing_default(tmp_path: Path) -> None:
    raw = read_yaml(Path(__file__).resolve().parents[2] / "handoff" / "data" / "first_replies.yaml")
    FirstRepliesFile.model_validate(raw)
    with pytest.raises(ValidationError):
        Situation(id="x", level="urgent", lines=["・チャットで相談員と話す"])
    with pytest.raises(ValidationError):
        Situation(id="x", level="urgent", lines=["{city_hall}に電話してください"])
    no_default = {**raw, "situations": [s for s in raw["situations"] if s["id"] != "urgent_default"]}
    with pytest.raises(ValidationError):
        FirstRepliesFile.model_validate(no_default)
    # The route choices are data too: each route once, typed words as typed_route compares them.
    without_email = {**raw, "route_choices": [c for c in raw["route_choices"] if c["id"] != "email"]}
    with pytest.raises(ValidationError, match="every route once"):
        FirstRepliesFile.model_validate(without_email)
    with pytest.raises(ValidationError, match="lower case"):
        RouteChoice(id="email", label="メールで相談", typed=["ＭＡＩＬ"])


def test_route_buttons_are_the_tenants_own_in_the_files_order() -> None:
    """Setagaya answers by phone and FAX (003 §1(2)②イ(ウ)): chat and phone, no 面談 or e-mail."""
    assert route_buttons(TENANTS.get("setagaya")) == [("route:chat", "チャットで相談員と話す"), ("route:phone", "電話で折り返し")]
    assert [b[0] for b in route_buttons(TENANTS.get("kashiwa"))] == ["route:chat", "route:phone", "route:face_to_face", "route:email"]
