"""First replies for emergency and urgent assessments (issue 4).

Plain, polite Japanese in short sentences; every number comes from the contacts data, never
typed here. Kashiwa 002 §7(1): urgent cases caught by the chat are connected to face-to-face,
phone or e-mail support — hence the four route choices. Setagaya 003 §1(2)②キ / ③ケ:
emergencies are reported at once — hence "担当者に今おつなぎしています" and a direct
question, never only "please wait". Setagaya 003 §1(2)⑤イ(ア): for a missing person, ask
whether 110 has been called and start the intake.
"""

from __future__ import annotations

from dataclasses import dataclass

from handoff.contacts import Contacts
from handoff.triage import Assessment


@dataclass(frozen=True, slots=True)
class RouteChoice:
    id: str  # chat | phone | face_to_face | email (handoff.models.Route values)
    label: str  # button text
    prompt: str  # what the resident is asked after choosing


ROUTE_CHOICES: tuple[RouteChoice, ...] = (
    RouteChoice("chat", "チャットで相談員と話す", "このまま相談員におつなぎします。"),
    RouteChoice("phone", "電話で折り返し", "お電話番号と、つながりやすい時間帯を教えてください。"),
    RouteChoice("face_to_face", "面談の予約", "ご都合のよい日にちと時間帯を教えてください。"),
    RouteChoice("email", "メールで相談", "ご連絡先のメールアドレスを教えてください。"),
)

CONNECTING = "担当の相談員に、今おつなぎしています。"
ASK_WHERE = "今どこにいますか？"
ASK_SAFE = "今、安全な場所にいますか？"
ASK_POLICE_CALLED = "110番には、もう通報されましたか？"


def _call(contacts: Contacts, contact_id: str) -> str:
    """「119番」 for three-digit numbers, the number as is otherwise (#7119)."""
    number = contacts[contact_id].number
    return f"{number}番" if len(number) == 3 else number


def _crisis_lines(contacts: Contacts) -> str:
    yorisoi, inochi = contacts["yorisoi"], contacts["inochi_navi"]
    return (
        "話を聞いてくれる電話もあります。"
        f"{yorisoi.name} {yorisoi.number}（{yorisoi.hours}）、"
        f"{inochi.name} {inochi.number}（{inochi.hours}）。"
    )


def emergency_reply(assessment: Assessment, contacts: Contacts) -> str:
    """The first reply to an emergency: what to do now, who is coming, one direct question."""
    kind = assessment.kind
    ambulance, police = _call(contacts, "fire_ambulance"), _call(contacts, "police")
    lines: list[str] = []
    question = ASK_WHERE
    if assessment.missing_person or kind == "missing_person":
        lines += [
            "すぐにお知らせくださって、ありがとうございます。",
            f"まだでしたら、今すぐ{police}（警察）に電話して、行方不明の届けを出してください。",
            "こちらでも、行方不明の受付を始めます。いなくなった方のお名前と、最後に見かけた場所と時間を教えてください。",
        ]
        question = ASK_POLICE_CALLED
    elif kind == "overdose":
        lines += [
            "知らせてくださって、ありがとうございます。あなたの命が大切です。",
            f"薬をたくさん飲んだときは、すぐに{ambulance}に電話して、救急車を呼んでください。",
        ]
    elif kind == "self_harm" or (assessment.self_harm and kind is None):
        lines += [
            "知らせてくださって、ありがとうございます。あなたの命が大切です。",
            f"命の危険がせまっているときは、すぐに{ambulance}に電話してください。",
        ]
    elif kind == "fire":
        lines += [
            "まず、すぐに安全な場所へ逃げてください。",
            f"逃げたら、すぐに{ambulance}に電話してください。",
        ]
        question = ASK_SAFE
    elif kind in ("violence", "abuse_dv"):
        lines += [
            f"危ないときは、すぐに{police}に電話してください。",
            "逃げられるなら、安全な場所へ逃げてください。",
        ]
        question = ASK_SAFE
    elif kind == "medical":
        lines += [
            f"すぐに{ambulance}に電話して、救急車を呼んでください。",
            "電話の指示に従ってください。",
        ]
    else:
        lines += [
            "すぐに対応が必要な状況だと受け止めました。",
            f"命の危険があるときは{ambulance}、事件や暴力のときは{police}に電話してください。",
        ]
        question = ASK_SAFE
    if assessment.self_harm and not assessment.missing_person:
        lines.append(_crisis_lines(contacts))
    lines.append(CONNECTING)
    lines.append(question)
    return "\n".join(lines)


_EMPATHY = {
    "self_harm": "つらい気持ちを教えてくださって、ありがとうございます。ひとりで抱えなくて大丈夫です。",
    "overdose": "つらい気持ちを教えてくださって、ありがとうございます。ひとりで抱えなくて大丈夫です。",
    "abuse_dv": "話してくださって、ありがとうございます。あなたは悪くありません。",
    "basic_needs": "大変な中、連絡をくださってありがとうございます。今日からできることを一緒に考えます。",
    "isolation": "ご心配ですね。知らせてくださって、ありがとうございます。",
    "worried_about_other": "ご心配ですね。知らせてくださって、ありがとうございます。",
    "missing_person": "ご心配ですね。知らせてくださって、ありがとうございます。",
}
_DEFAULT_EMPATHY = "話してくださって、ありがとうございます。"


def _sentence(text: str) -> str:
    text = text.strip().rstrip("。")
    return f"{text}。" if text else ""


def urgent_reply(
    assessment: Assessment,
    contacts: Contacts,
    *,
    staffed: bool,
    next_staffed_text: str,
    on_call_text: str,
) -> str:
    """Empathy, the four ways to reach a person (Kashiwa 002 §7(1)), and — outside staffed
    hours — who will answer and when, plus a line that is open around the clock."""
    kind = assessment.kind
    lines = [_EMPATHY.get(kind or "", _DEFAULT_EMPATHY), "相談員と直接お話しできます。ご希望の方法を選んでください。"]
    for choice in ROUTE_CHOICES:
        hint = "（お電話番号と、つながりやすい時間帯を教えてください）" if choice.id == "phone" else ""
        lines.append(f"・{choice.label}{hint}")
    if not staffed:
        lines.append("ただいまは、相談員の受付時間外です。")
        if on_call_text.strip():
            lines.append(_sentence(on_call_text))
        if next_staffed_text.strip():
            lines.append(_sentence(next_staffed_text))
    if kind == "missing_person":
        lines.append(f"警察（{_call(contacts, 'police')}）には、もう相談されましたか？")
    elif kind in ("isolation", "worried_about_other"):
        lines.append(f"倒れているなど命に関わるときは、すぐに{_call(contacts, 'fire_ambulance')}に電話してください。")
    elif kind == "abuse_dv":
        lines.append(f"危ないときは、すぐに{_call(contacts, 'police')}に電話してください。")
        child = contacts["child_abuse"]
        lines.append(f"子どもへの虐待は {child.number}（{child.hours}）でも相談できます。")
    if assessment.self_harm:
        lines.append(_crisis_lines(contacts))
    elif not staffed:
        for line in contacts.always_open():
            lines.append(f"今すぐ誰かと話したいときは、{line.name} {line.number}（{line.hours}）にお電話ください。")
    return "\n".join(lines)
