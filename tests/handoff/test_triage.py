"""Triage against the labelled set and the context rules of issue 4 (pure logic, no I/O)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from handoff.triage import KINDS, REPORT_CATEGORIES, Assessment, Triage, load_triage
from handoff.triage.text import MAX_EMBED_CHARS
from handoff.urgency import Urgency

CASES_FILE = Path(__file__).resolve().parents[2] / "handoff" / "lexicon" / "labelled_messages.yaml"
CASES = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def triage() -> Triage:
    return load_triage()


def level(triage: Triage, text: str, **kw) -> Urgency:  # noqa: ANN003
    return triage.assess(text, **kw).level


# ---------------------------------------------------------------- the labelled set


def test_labelled_set_shape() -> None:
    assert len(CASES) >= 150
    levels = Counter(c["level"] for c in CASES)
    assert set(levels) <= {"none", "urgent", "emergency"}
    assert levels["urgent"] + levels["emergency"] >= len(CASES) / 3
    tricky = [c for c in CASES if c["level"] == "none" and str(c.get("note", "")).startswith("tricky")]
    assert len(tricky) >= len(CASES) / 3
    texts = [c["text"] for c in CASES]
    assert len(texts) == len(set(texts)), "duplicate messages in the labelled set"


def _scores(triage: Triage) -> dict[str, float]:
    got = [(Urgency(c["level"]), triage.assess(c["text"]).level) for c in CASES]
    emergencies = [g for want, g in got if want == Urgency.EMERGENCY]
    positives = [g for want, g in got if want >= Urgency.URGENT]
    negatives = [g for want, g in got if want == Urgency.NONE]
    return {
        "emergency_recall": sum(g == Urgency.EMERGENCY for g in emergencies) / len(emergencies),
        "urgent_or_higher_recall": sum(g >= Urgency.URGENT for g in positives) / len(positives),
        "false_alarm_rate": sum(g >= Urgency.URGENT for g in negatives) / len(negatives),
    }


def test_recall_and_false_alarms_over_the_whole_set(triage: Triage) -> None:
    scores = _scores(triage)
    misses = [
        (c["level"], str(triage.assess(c["text"]).level), c["text"])
        for c in CASES
        if triage.assess(c["text"]).level != Urgency(c["level"])
    ]
    assert scores["emergency_recall"] == 1.0, misses
    assert scores["urgent_or_higher_recall"] >= 0.97, misses
    assert scores["false_alarm_rate"] <= 0.05, misses


# ---------------------------------------------------------------- context handling


def test_negation_is_scoped_to_its_clause(triage: Triage) -> None:
    assert level(triage, "死にたいわけじゃない") == Urgency.NONE
    a = triage.assess("死にたいわけじゃない。でも縄はもう買ってある")
    assert a.level == Urgency.EMERGENCY and a.self_harm
    assert "self_harm.wish:negation" in a.suppressed
    assert level(triage, "死にたいとは思わないけど、毎日つまらない") == Urgency.NONE
    assert level(triage, "死にたいとは思わない。でも消えたい") == Urgency.URGENT


def test_double_negation_is_not_a_negation(triage: Triage) -> None:
    assert level(triage, "死にたくないわけじゃない") == Urgency.URGENT


def test_hard_rules_are_never_lowered_by_negation(triage: Triage) -> None:
    for text in ("薬をためてるわけじゃない", "縄を買ったとかじゃないけど", "薬を全部飲んだわけではない"):
        a = triage.assess("死にたい。" + text)
        assert a.level == Urgency.EMERGENCY, text
    # …nor by a past marker or an information frame in the same clause
    assert level(triage, "昔から薬をためてる") == Urgency.EMERGENCY
    assert level(triage, "友達に教えたいけど、縄はもう買ってある") == Urgency.EMERGENCY


def test_idioms(triage: Triage) -> None:
    for text in ("死ぬほど暇", "笑い死にしそう", "死ぬ気でがんばる", "締め切りに殺される", "縄跳びの縄を買った", "スマホが死んだ"):
        assert level(triage, text) == Urgency.NONE, text


def test_past_and_resolved_events(triage: Triage) -> None:
    assert level(triage, "去年倒れたが今は元気") == Urgency.NONE
    assert level(triage, "3年前に父が倒れました") == Urgency.NONE
    assert level(triage, "認知症の父がいなくなったけど、無事に見つかりました") == Urgency.NONE
    # "since" is not the past
    assert level(triage, "去年からずっと死にたい") == Urgency.URGENT
    # self-harm thoughts are not settled by 今は大丈夫 in the same breath
    assert level(triage, "死にたい。今は大丈夫") == Urgency.URGENT


def test_informational_and_third_party_questions(triage: Triage) -> None:
    for text in ("DVの窓口を友人に教えたい", "119って何番？", "虐待防止の研修に出ます", "火事のときの避難場所は？", "ニュースで自殺の話を見た"):
        assert level(triage, text) == Urgency.NONE, text
    # …but a resident's own report next to a question stays
    assert level(triage, "夫から暴力を受けています。相談窓口を教えて") == Urgency.URGENT
    # asking where to turn with one's own suicidal feelings stays urgent
    assert level(triage, "死にたい時の相談先を教えて") == Urgency.URGENT


def test_maybe_is_not_a_hypothesis(triage: Triage) -> None:
    # 「かもしれない」 contains もし; a suspicion of abuse is still a report, not a "what if"
    assert level(triage, "子どものあざが気になる。夫が叩いてるのかもしれない") == Urgency.URGENT
    assert level(triage, "もし夫に殴られたらどこに逃げればいい？") == Urgency.NONE


def test_settled_abuse_and_told_stories_are_not_alarms(triage: Triage) -> None:
    assert level(triage, "元夫のDVで別れて3年、今は平和に暮らしてます") == Urgency.NONE
    assert level(triage, "空襲で家が燃えたと祖母がよく話していた") == Urgency.NONE
    assert level(triage, "防災訓練で煙の中を歩いた") == Urgency.NONE


def test_third_parties_count(triage: Triage) -> None:
    assert level(triage, "夫が倒れて動かない") == Urgency.EMERGENCY
    assert level(triage, "隣の人が返事をしない") >= Urgency.URGENT
    a = triage.assess("娘が死にたいって言ってる")
    assert a.level == Urgency.URGENT and a.self_harm


def test_indirect_signals(triage: Triage) -> None:
    for text in ("薬をためている", "最後に挨拶したくて", "遺書を書きました", "💊ぜんぶのんだ"):
        a = triage.assess(text)
        assert a.level == Urgency.EMERGENCY and a.self_harm, text


def test_method_plan_and_time_words_raise_self_harm_to_emergency(triage: Triage) -> None:
    assert level(triage, "死にたい") == Urgency.URGENT
    assert level(triage, "死にたい。今夜やる") == Urgency.EMERGENCY
    assert level(triage, "今から死にます") == Urgency.EMERGENCY
    # a later turn with a time word, in a self-harm conversation
    assert level(triage, "今夜やる", prior=Urgency.URGENT, prior_kind="self_harm") == Urgency.EMERGENCY
    assert level(triage, "今夜やる") == Urgency.NONE


def test_an_act_told_after_the_first_message_is_an_emergency_of_its_own_kind(triage: Triage) -> None:
    """Medicine taken, in a self-harm conversation, is an overdose though the amount is not said;
    stabbed is an act, where an insect or the idiom 釘を刺す is not."""
    took = triage.assess("もう薬はのんだ", prior=Urgency.EMERGENCY, prior_kind="self_harm")
    assert took.level == Urgency.EMERGENCY and took.kind == "overdose" and took.floor == Urgency.EMERGENCY
    assert triage.assess("もう薬はのんだ", prior=Urgency.EMERGENCY, prior_kind="medical").floor == Urgency.NONE  # her heart pills
    stabbed = triage.assess("いま刺されました")
    assert stabbed.level == Urgency.EMERGENCY and stabbed.kind == "violence"
    for text in ("蜂に刺された", "上司に釘を刺された", "蚊にさされて かゆい", "はち さされた 息 くるしい", "刺されたっていうのは蚊です"):
        assert triage.assess(text).floor == Urgency.NONE, text
    # A kana insect counts only as the word itself: 8時, あぶない and ぼくも are not stings (the
    # first version dropped the rule on any はち / あぶ / くも in the clause).
    for text in ("はちじごろ 夫に刺された", "あぶない さされた たすけて", "ぼくも さされた"):
        assert triage.assess(text).floor == Urgency.EMERGENCY, text


def test_normalisation_katakana_hiragana_kanji_and_width(triage: Triage) -> None:
    for text in ("死にたい", "しにたい", "シニタイ", "ｼﾆﾀｲ", "死にた〜い"):
        assert level(triage, text) == Urgency.URGENT, text


def test_a_long_message_is_embedded_by_its_head_and_its_tail(triage: Triage) -> None:
    # handoff/triage/text.py EMBED_HEAD_CHARS: the situation comes first and the wish last, so
    # the one embedding (risk model, topic head, retrieval) keeps both ends of a long message.
    situation = "母は九十歳で一人暮らしです。毎週木曜日に電話訪問をしていただいていて、とても喜んでいます。"
    wish = "来週は検査入院するので、お電話をお休みしたいです。"
    for text in (situation + wish, "すみません、ちょっとお聞きしたいのですが、" + situation + wish):
        embedded = triage.embedding_input(text)
        assert embedded.startswith("母は九十歳で一人暮らしです") and embedded.endswith(wish)
        assert len(embedded) <= MAX_EMBED_CHARS + len(" … ")
    assert triage.embedding_input(wish) == wish  # a short message is embedded whole


# ---------------------------------------------------------------- prior and result shape


@pytest.mark.parametrize("prior", list(Urgency))
def test_level_never_goes_below_prior(triage: Triage, prior: Urgency) -> None:
    for text in ("こんにちは", "死ぬほど暇", "死にたいわけじゃないです", "ありがとう、もう大丈夫です"):
        assert level(triage, text, prior=prior) >= prior


def test_assessment_fields(triage: Triage) -> None:
    a = triage.assess("認知症の母が朝から帰ってこない")
    assert isinstance(a, Assessment)
    assert a.level == Urgency.EMERGENCY and a.kind == "missing_person" and a.missing_person
    assert not a.self_harm
    assert a.report_category == "高齢"
    assert all(s.startswith(("missing.", "escalate.")) for s in a.signals)
    with pytest.raises(AttributeError):
        a.level = Urgency.NONE  # type: ignore[misc]


def test_signals_never_hold_resident_text(triage: Triage) -> None:
    ids = {r.id for r in triage.rules.specs} | {"escalate.self_harm_plan", "escalate.abuse_now"}
    for case in CASES:
        a = triage.assess(case["text"])
        assert set(a.signals) <= ids
        assert a.kind is None or a.kind in KINDS
        assert a.report_category in REPORT_CATEGORIES


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("死にたい", "こころ"),
        ("お金がなくて食べるものがない", "生活困窮"),
        ("認知症の父と3日連絡が取れない", "高齢"),
        ("子どもを叩いてしまう", "子ども・子育て"),
        ("障害者手帳の更新をしたい", "障害"),
        ("介護に疲れて死にたい", "複合"),
        ("こんにちは", "その他"),
    ],
)
def test_report_category(triage: Triage, text: str, category: str) -> None:
    assert triage.assess(text).report_category == category


# ---------------------------------------------------------------- Urgency


def test_urgency_orders_by_severity_not_alphabet() -> None:
    assert Urgency.NONE < Urgency.URGENT < Urgency.EMERGENCY
    assert Urgency.EMERGENCY > Urgency.URGENT  # alphabetically "emergency" < "urgent"
    assert Urgency.max(Urgency.URGENT, Urgency.EMERGENCY, Urgency.NONE) == Urgency.EMERGENCY
    assert Urgency.max() == Urgency.NONE
    assert Urgency.max("urgent", Urgency.NONE) == Urgency.URGENT
    assert [u.rank for u in Urgency] == [0, 1, 2]
    assert Urgency("emergency") == "emergency" and str(Urgency.URGENT) == "urgent"
    assert sorted([Urgency.EMERGENCY, Urgency.NONE, Urgency.URGENT]) == [Urgency.NONE, Urgency.URGENT, Urgency.EMERGENCY]
