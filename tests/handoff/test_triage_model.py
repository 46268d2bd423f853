"""The trained risk model (issue 14 §1, §2, §4): its data, its blind figures, the rules as a
floor, the check-in band and the conversation as the unit.

Blind sets (bench/data/triage_dev/, written by writers who never saw the training data, the
rules or the exemplars; tests/handoff/triage_holdout.yaml, the issue-4 hold-out) are only
measured: aggregates are asserted, no message is ever printed. The floors are the figures
reached (bench/RESULTS.md) minus a small margin."""

from __future__ import annotations

import copy
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml
from pydantic import ValidationError

from handoff.triage import Triage
from handoff.triage.evaluate import TARGETS, Outcome, figures
from handoff.triage.model import RiskScores, Thresholds, fold_of, load_or_train
from handoff.triage.training import TRAINING_DIR, Example, load_examples, read_jsonl
from handoff.urgency import Urgency

DEV_SET = Path(__file__).resolve().parents[2] / "bench" / "data" / "triage_dev"
HELD_DIR = Path(__file__).resolve().parents[2] / "bench" / "data" / "writers_heldout"
OLD_HOLDOUT = Path(__file__).with_name("triage_holdout.yaml")


@pytest.fixture(scope="module")
def triage(decider) -> Triage:  # noqa: ANN001
    assert decider.triage.model is not None, "the trained model did not load"
    return decider.triage


def test_training_data_size_mix_and_schema() -> None:
    examples = load_examples()
    levels = Counter(e.level for e in examples)
    assert len(examples) >= 5000, len(examples)
    assert sum(e.tricky for e in examples) / len(examples) >= 0.40  # "at least 40% tricky non-urgent" (issue 14 §1)
    assert levels["urgent"] > 0.15 * len(examples) and levels["emergency"] > 0.15 * len(examples)
    assert {e.subject for e in examples} == {"self", "other", "unknown"}
    assert {e.tenant for e in examples} == {"kashiwa", "setagaya", "any"}
    assert len(list(TRAINING_DIR.glob("*.jsonl"))) >= 5  # several writers, one file each


def test_blind_sets_never_overlap_the_training_data() -> None:
    train = {e.text for e in load_examples()}
    dev = {e.text for e in load_examples(DEV_SET)}
    old = {c["text"] for c in yaml.safe_load(OLD_HOLDOUT.read_text(encoding="utf-8"))}
    # The held-out writers' development sets too: a set moved into training leaves bench/.
    held = {e.text for path in sorted(HELD_DIR.glob("held*.jsonl")) for e in load_examples(path)}
    assert len(dev) >= 600 and len(held) >= 3000
    # counts only: a blind set's messages are never printed
    assert (len(train & dev), len(train & old), len(train & held)) == (0, 0, 0)


def test_example_schema_refuses_inconsistent_labels(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        Example(text="死にたい", level="urgent", subject="self")  # urgent needs a kind
    with pytest.raises(ValidationError):
        Example(text="死にたい", level="urgent", kind="self_harm", subject="self", tricky=True)
    with pytest.raises(ValidationError):
        Example(text="x", level="none", kind="earthquake", subject="self")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok", "level": "none", "subject": "self"}\n{"text": "no"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="bad.jsonl:2"):
        read_jsonl(bad)


def _outcomes(triage: Triage, texts: list[str]) -> list[Outcome]:
    out = []
    for text in texts:
        a = triage.assess(text)
        out.append(Outcome(str(a.level), a.check_in, a.kind, a.subject))
    return out


def _assert_floors(examples: list[Example], outcomes: list[Outcome], floors: dict[str, float]) -> None:
    """Each figure on the right side of its floor, the side issue 14's TARGETS name; the figures
    (never a message) are shown when one is not."""
    result = figures(examples, outcomes).as_dict()
    shown = {k: v for k, v in result.items() if isinstance(v, float)}
    for name, floor in floors.items():
        assert (result[name] >= floor) if TARGETS[name][0] == ">=" else (result[name] <= floor), (name, shown)


@pytest.mark.slow
def test_blind_development_set_figures(triage: Triage) -> None:
    dev = load_examples(DEV_SET)
    _assert_floors(dev, _outcomes(triage, [e.text for e in dev]), DEV_FLOORS)


@pytest.mark.slow
def test_issue4_holdout_figures(triage: Triage) -> None:
    cases = yaml.safe_load(OLD_HOLDOUT.read_text(encoding="utf-8"))
    examples = [Example(text=c["text"], level=c["level"], kind="self_harm" if c["level"] != "none" else None, subject="unknown") for c in cases]
    _assert_floors(examples, _outcomes(triage, [c["text"] for c in cases]), OLD_FLOORS)


@pytest.mark.slow
def test_everyday_life_set_figures(triage: Triage) -> None:
    """held8: ordinary days, plans and homes told in passing, and real cases in the same plain
    style (bench/data/writers_heldout/README.md). A development set: aggregates only."""
    held = load_examples(HELD_DIR / "held8.jsonl")
    _assert_floors(held, _outcomes(triage, [e.text for e in held]), EVERYDAY_FLOORS)


# Reached figures minus a margin (bench/RESULTS.md, "Triage (issue 14)": dev 0.986 / 0.990 /
# 0.040 / 0.003; issue-4 hold-out 1.000 / 0.988 / 0.023).
DEV_FLOORS = {"emergency_recall": 0.96, "urgent_recall": 0.97, "false_alarms": 0.06, "missed": 0.015}
OLD_FLOORS = {"emergency_recall": 0.95, "urgent_recall": 0.95, "false_alarms": 0.05}
# held8, 2026-12-07 ("Everyday life and schedules", "Graph 2 and the everyday writers back"):
# 1.000 / 0.983 / 0.055 / 0.000 reached with the everyday writers' data (0.085 false alarms
# without it).
EVERYDAY_FLOORS = {"emergency_recall": 0.95, "urgent_recall": 0.95, "false_alarms": 0.075, "missed": 0.02}


def test_hard_rules_are_a_floor_the_model_cannot_lower(triage: Triage) -> None:
    for text in ("縄はもう買ってある", "くすりぜんぶのんだ", "今から飛び降ります"):
        a = triage.assess(text)
        assert a.level == Urgency.EMERGENCY, text
        assert a.risk == 1.0
    assert triage.assess("こんにちは", prior=Urgency.EMERGENCY).level == Urgency.EMERGENCY


def test_assessment_carries_risk_subject_and_kind(triage: Triage) -> None:
    a = triage.assess("となりのおばあちゃんが庭で倒れてて、呼んでも返事がないんです")
    assert a.level == Urgency.EMERGENCY and a.kind == "medical" and a.subject == "other"
    calm = triage.assess("電話訪問の曜日を火曜日に変えたいです")
    assert calm.level == Urgency.NONE and not calm.check_in and calm.risk < 0.3
    assert all("倒れ" not in s for s in a.signals)  # ids, never resident text


def _scores(risk: float) -> RiskScores:
    return RiskScores((1 - risk, risk, 0.0), "self_harm", "self")


def _with_thresholds(triage: Triage, **values: float) -> Triage:
    model = copy.copy(triage.model)
    model.thresholds = Thresholds(**values)  # type: ignore[union-attr]
    return Triage(triage.rules, model, triage.embedder)


def test_low_grade_turns_add_up_to_urgent(triage: Triage) -> None:
    t = _with_thresholds(triage, emergency=0.9, urgent=0.6, check_in=0.25)
    findings = t.rules.evaluate("なんだか毎日さびしい")
    one = t._combine(findings, _scores(0.3), Urgency.NONE, (), True)  # noqa: SLF001
    assert one.level == Urgency.NONE and one.check_in
    three = t._combine(findings, _scores(0.3), Urgency.NONE, (0.3, 0.35), True)  # noqa: SLF001
    assert three.level == Urgency.URGENT and "conversation.accumulated" in three.signals
    calm_history = t._combine(findings, _scores(0.3), Urgency.NONE, (0.05, 0.1, 0.1), True)  # noqa: SLF001
    assert calm_history.level == Urgency.NONE  # ordinary turns do not add up
    no_repeat = t._combine(findings, _scores(0.3), Urgency.NONE, (), False)  # noqa: SLF001
    assert not no_repeat.check_in and no_repeat.worrying


def test_a_calm_turn_in_a_flagged_conversation_keeps_the_conversations_kind(triage: Triage) -> None:
    """A missing-person reporter's 「ありがとうございます」: the kind head alone reads a thank-you
    as a farewell (self-harm); with nothing alarming in the turn, the conversation's kind stands,
    even when its earlier turns add up (issue 14 §2)."""
    t = _with_thresholds(triage, emergency=0.9, urgent=0.6, check_in=0.25)
    findings = t.rules.evaluate("ありがとうございます")
    calm = t._combine(findings, _scores(0.03), Urgency.EMERGENCY, (0.99, 0.33), True, prior_kind="missing_person")  # noqa: SLF001
    assert calm.level == Urgency.EMERGENCY and calm.kind == "missing_person" and not calm.self_harm
    alarming = t._combine(findings, _scores(0.7), Urgency.EMERGENCY, (), True, prior_kind="missing_person")  # noqa: SLF001
    assert alarming.kind == "self_harm"  # a turn that says something alarming itself is read as such


def test_a_reply_to_a_check_in_worries_by_its_own_risk_not_the_conversations(triage: Triage) -> None:
    """Issue 14 §2: はい, or risk in the reply, raises a pending check-in. The reply's own risk:
    with the earlier turn counted, every reply but いいえ raised it (「つえに はってたやつです」 after a
    lost sticker opened an urgent missing-person case)."""
    t = _with_thresholds(triage, emergency=0.9, urgent=0.6, check_in=0.25)
    findings = t.rules.evaluate("つえに はってたやつです")
    assert not t._combine(findings, _scores(0.05), Urgency.NONE, (0.3,), False).worrying  # noqa: SLF001
    assert t._combine(findings, _scores(0.3), Urgency.NONE, (0.3,), False).worrying  # noqa: SLF001


@pytest.mark.parametrize(
    "text",
    ["ありがとう", "ありがとね🙏", "アリガトウゴザイマシタ！", "たすかりました", "わかりました",
     "きいてみたいことがある", "すみません、ちょっと質問いいですか", "あのー相談があるんですが", "おしえてほしいことがあります"],
)  # fmt: skip
def test_a_bare_thank_you_or_opener_carries_no_risk_of_its_own(triage: Triage, text: str) -> None:
    """Thanking everyone is one sign of a farewell; a resident's closing 「ありがとう」 is not one,
    and must not be asked whether they want to die; nor must a resident who has only said they
    have a question (handoff/lexicon/context.yaml courtesies and openers)."""
    thanks = triage.assess(text)
    assert thanks.risk == 0.0 and not thanks.check_in and thanks.level == Urgency.NONE


def test_a_farewell_that_says_more_than_thanks_is_still_read(triage: Triage) -> None:
    assert triage.assess("みなさん今までありがとう。今夜でおわりにします").level == Urgency.EMERGENCY
    assert triage.assess("相談があります。もう死にたい").level != Urgency.NONE  # an opener with more to it
    assert triage.assess("だれかに話を聞いてほしい").risk > 0.0  # a wish to be heard is read, not an opener


def test_model_is_deterministic_and_cached(triage: Triage, tmp_path: Path) -> None:
    sample = [e for i, e in enumerate(load_examples()) if i % 40 == 0][:150]
    a = load_or_train(sample, triage.rules, triage.embedder, tmp_path)
    b = load_or_train(sample, triage.rules, triage.embedder, tmp_path, force=True)
    assert a.key == b.key and a.thresholds == b.thresholds
    cached = load_or_train(sample, triage.rules, triage.embedder, tmp_path)
    assert cached.thresholds == a.thresholds and list(tmp_path.glob("triage/risk-*.pkl"))
    changed = load_or_train(sample[:-1], triage.rules, triage.embedder, tmp_path)
    assert changed.key != a.key
    asked = load_or_train(sample, triage.rules, triage.embedder, tmp_path, questions=[("すてっかー なくした", "setagaya.sticker_lost")])
    assert asked.key != a.key and asked.info["topic_questions"] == 1  # the questions are part of what the cache is keyed by


def test_the_thresholds_do_not_follow_the_order_of_the_training_files(triage: Triage, tmp_path: Path) -> None:
    """bench/RESULTS.md, "The same data in another order": renaming two files (the same messages)
    moved the emergency threshold from 0.255 to 0.266. A message's fold now follows from its
    text alone, and the rows are fitted in one order whatever order they came in ("One model on
    every CPU": reversed, they moved the check-in threshold in the fourth decimal), so the same
    messages in any order give the same model."""
    sample = [e for i, e in enumerate(load_examples()) if i % 40 == 7][:160]
    a = load_or_train(sample, triage.rules, triage.embedder, tmp_path / "a")
    b = load_or_train(sample[::-1], triage.rules, triage.embedder, tmp_path / "b")
    assert a.key == b.key
    assert a.thresholds == b.thresholds
    assert np.array_equal(a.topic_head.clf.coef_, b.topic_head.clf.coef_)
    assert np.array_equal(a.kind_clf.coef_, b.kind_clf.coef_)
    folds = fold_of([e.text for e in sample], 5)
    assert dict(zip([e.text for e in sample], folds)) == dict(zip([e.text for e in sample[::-1]], fold_of([e.text for e in sample[::-1]], 5)))
    assert set(folds) == set(range(5))
    assert (fold_of([e.text for e in sample], 5, draw=1) != folds).mean() > 0.5  # the thresholds average two assignments


def test_a_cached_model_keeps_no_hot_path_state_and_scores_the_same_after_loading(triage: Triage) -> None:
    """Analyzer closures and transposed copies are rebuilt per loaded model (DerivedOnLoad):
    a model that has scored pickles without them, and the reloaded one scores alike."""
    import pickle

    from handoff.triage.model import Inputs, model_text

    texts = ["母が台所で倒れてる", "でんわほうもん しばらく やすみたい"]
    x = Inputs(
        [model_text(triage.rules, t) for t in texts],
        np.asarray([triage.embed(t) for t in texts], dtype=np.float32),
        [triage.model.features.row(triage.rules.evaluate(t), triage.rules.frames(t)) for t in texts],
        [triage.analyzer.analyze(t) for t in texts],
    )
    before = triage.model.score(x)
    state = triage.model.__getstate__()
    assert not {"stacked_heads", "ngram_analyzer"} & set(state)
    assert "lean" not in state["topic_head"].__getstate__()
    reloaded = pickle.loads(pickle.dumps(triage.model))
    assert reloaded.score(x) == before


def test_the_stacked_heads_score_exactly_as_scikit_learn(triage: Triage) -> None:
    """The hot path scores the level model and the kind and subject heads in one product
    (issue 9); its figures must be scikit-learn's to the last bit."""
    from handoff.triage.model import Inputs, StackedHeads, model_text

    model = triage.model
    texts = ["しにたい", "となりの子がずっと泣いてて怒鳴り声がする", "配食サービスってありますか", "母の通帳をとられた、どうしたらええんやろ", "もう限界。今夜終わりにします"]
    x = Inputs(
        [model_text(triage.rules, t) for t in texts],
        np.asarray([triage.embed(t) for t in texts], dtype=np.float32),
        [model.features.row(triage.rules.evaluate(t), triage.rules.frames(t)) for t in texts],
        [triage.analyzer.analyze(t) for t in texts],
    )
    stacked = StackedHeads.of(model)
    assert stacked is not None, "the chosen linear model should take the stacked path"
    heads = model._head_matrix(x)
    proba, kinds, subjects = stacked.predict(heads)
    assert np.array_equal(proba, model.approach.predict_proba(x))
    assert np.array_equal(kinds, model.kind_clf.predict(heads))
    assert np.array_equal(subjects, model.subject_clf.predict(heads))


def test_the_topic_heads_lean_path_scores_as_scikit_learn(triage: Triage) -> None:
    """The topic head's own transforms skip scikit-learn's per-call checks (the hot path);
    the probabilities must still be scikit-learn's."""
    from handoff.triage.model import Inputs, model_text

    model, head = triage.model, triage.model.topic_head
    texts = ["でんわほうもん しばらく やすみたい", "見守りステッカーをなくしました", "ちちが きのうから かえってきません", "😢", "ｱﾝｼﾝｺｰﾙは何時まで？"]
    analyses = [triage.analyzer.analyze(t) for t in texts]
    x = Inputs(
        [model_text(triage.rules, t) for t in texts],
        np.asarray([triage.embed(t) for t in texts], dtype=np.float32),
        [model.features.row(triage.rules.evaluate(t), triage.rules.frames(t)) for t in texts],
        analyses,
    )
    heads = model._head_matrix(x)
    expected = head.clf.predict_proba(head.matrix(heads, analyses))
    assert np.allclose(head.predict_proba(heads, analyses), expected, rtol=1e-5, atol=1e-7)


def test_the_topic_head_does_not_read_the_risk_words(triage: Triage) -> None:
    """The rule findings (死にたい, 倒れた, 詐欺) pulled topics toward the crisis entries when the
    message asked about something else (bench/RESULTS.md): the topic head reads the shared
    embedding and n-grams only, so the same text with other rule findings gets the same topics."""
    from handoff.triage.model import Inputs, model_text

    model = triage.model
    text = "いのちの電話って夜中でもつながりますか"
    analyses = [triage.analyzer.analyze(text)]
    vectors = np.asarray([triage.embed(text)], dtype=np.float32)
    found = model.features.row(triage.rules.evaluate(text), triage.rules.frames(text))
    alarmed = model.features.row(triage.rules.evaluate("死にたい 今から飛び降りる"), triage.rules.frames("死にたい 今から飛び降りる"))
    assert found != alarmed
    topics = [
        model.topic_head.predict_proba(model._head_matrix(Inputs([model_text(triage.rules, text)], vectors, [row], analyses)), analyses)
        for row in (found, alarmed)
    ]
    assert np.array_equal(topics[0], topics[1])
