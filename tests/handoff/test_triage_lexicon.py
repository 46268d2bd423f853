"""The lexicon is data with a schema: it loads, each rule fires on its examples and not on
its counterexamples, and bad data is refused at load time."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from handoff.triage import LEXICON_DIR, Triage, load_triage
from handoff.urgency import Urgency


@pytest.fixture(scope="module")
def triage() -> Triage:
    return load_triage()


def _rules(triage: Triage):  # noqa: ANN202
    return [(r.id, r) for r in triage.rules.specs]


def test_every_rule_fires_on_its_examples(triage: Triage) -> None:
    failures = []
    for spec in triage.rules.specs:
        for example in spec.examples:
            if spec.id not in triage.assess(example).signals:
                failures.append((spec.id, example))
    assert not failures


def test_no_rule_fires_on_its_counterexamples(triage: Triage) -> None:
    failures = []
    for spec in triage.rules.specs:
        for counter in spec.counterexamples:
            if spec.id in triage.assess(counter).signals:
                failures.append((spec.id, counter))
    assert not failures


def test_load_is_cached_and_validated() -> None:
    assert load_triage() is load_triage()
    assert len(load_triage().rules.specs) >= 20


def _broken_copy(tmp_path: Path, edit) -> Path:  # noqa: ANN001
    target = tmp_path / "lexicon"
    shutil.copytree(LEXICON_DIR, target)
    data = yaml.safe_load((target / "rules.yaml").read_text(encoding="utf-8"))
    edit(data)
    (target / "rules.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


def test_unknown_kind_is_refused(tmp_path: Path) -> None:
    def edit(data: dict) -> None:
        data["rules"][0]["kind"] = "sadness"

    with pytest.raises(ValidationError):
        load_triage(_broken_copy(tmp_path, edit))


def test_bad_regex_is_refused(tmp_path: Path) -> None:
    def edit(data: dict) -> None:
        data["rules"][0]["patterns"].append("死に(たい")

    with pytest.raises(ValueError, match="bad regex"):
        load_triage(_broken_copy(tmp_path, edit))


def test_duplicate_ids_and_unknown_keys_are_refused(tmp_path: Path) -> None:
    def dup(data: dict) -> None:
        data["rules"].append(dict(data["rules"][0]))

    with pytest.raises(ValidationError):
        load_triage(_broken_copy(tmp_path / "a", dup))

    def typo(data: dict) -> None:
        data["rules"][0]["pattern"] = ["x"]

    with pytest.raises(ValidationError):
        load_triage(_broken_copy(tmp_path / "b", typo))


def test_unknown_macro_is_refused(tmp_path: Path) -> None:
    def edit(data: dict) -> None:
        data["rules"][0]["patterns"].append("@{nosuch}たい")

    with pytest.raises(ValueError, match="unknown macro"):
        load_triage(_broken_copy(tmp_path, edit))


def test_assess_is_fast(triage: Triage) -> None:
    """Scored before every answer: well under a millisecond on average (generous bound for CI)."""
    texts = ["死にたいわけじゃない。でも縄はもう買ってある", "介護保険の申請はどこでできますか", "隣のおばあちゃんの新聞がたまってる"] * 100
    start = time.perf_counter()
    for text in texts:
        triage.assess(text)
    per_call = (time.perf_counter() - start) / len(texts)
    assert per_call < 0.002


def test_duplicate_yaml_keys_are_refused(tmp_path: Path) -> None:
    target = tmp_path / "lexicon"
    shutil.copytree(LEXICON_DIR, target)
    rules = target / "rules.yaml"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace("    kind: self_harm\n", "    kind: self_harm\n    kind: fire\n", 1),
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="duplicate keys"):
        load_triage(target)


def test_a_floor_rule_sets_the_floor_only_when_its_context_lets_it_fire(triage: Triage) -> None:
    """`floor: true` (medical.collapsed_now): a present collapse raises the floor as a hard rule
    does, but a denial, the past or a what-if in its clause drops it, as for any soft rule."""
    now = triage.rules.evaluate("見つかったけど倒れている")
    assert now.floor.value == "emergency" and "medical.collapsed_now" in now.hard
    for settled in ["倒れてるわけじゃないので心配しないで", "去年、倒れてる隣のおばあちゃんを見つけました", "もし倒れてるのを見つけたらどうすれば"]:
        findings = triage.rules.evaluate(settled)
        assert findings.floor.value == "none" and any(s.startswith("medical.collapsed_now:") for s in findings.suppressed), settled


def test_a_rule_cannot_be_both_hard_and_floor(tmp_path: Path) -> None:
    def edit(data: dict) -> None:
        next(r for r in data["rules"] if r.get("hard"))["floor"] = True

    with pytest.raises(ValidationError, match="floor"):
        load_triage(_broken_copy(tmp_path, edit))


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("ききたいことがあるんですが、でんわほうもんの よびを かえたいです", "でんわほうもんの よびを かえたいです"),
        ("ききたいことがあるんですがでんわほうもんをやめたい", "でんわほうもんをやめたい"),
        ("すみません、ちょっとお聞きしたいのですが、窓口は何時までですか", "窓口は何時までですか"),
        ("あの、相談なんですけど　母が最近ものわすれがひどくて", "母が最近ものわすれがひどくて"),
        ("相談したいことがあって電話しました", "電話しました"),
        ("質問いいですか？ステッカーをなくしました", "ステッカーをなくしました"),
        ("教えてほしいんですけど、死にたいときはどこに電話すれば", "死にたいときはどこに電話すれば"),
        # Not an opener, or nothing after it: the whole message.
        ("相談員と話したい", "相談員と話したい"),
        ("ききたいことがあるんですが", "ききたいことがあるんですが"),
        ("ききたいことがあって、", "ききたいことがあって、"),
        ("電話訪問の曜日を変えたいので相談です", "電話訪問の曜日を変えたいので相談です"),
        ("・母 83 要介護1\n・一人で外出するのを怖がる", "・母 83 要介護1\n・一人で外出するのを怖がる"),
    ],
)
def test_the_models_read_the_question_after_an_opener(triage: Triage, text: str, question: str) -> None:
    """context.yaml `openers`: the words of 「ききたいことがあるんですが、」 say nothing about the
    need, so the risk model and its topic head read what follows (RuleEngine.question)."""
    assert triage.rules.question(text) == question


def test_the_rules_still_read_the_opener_and_all(triage: Triage) -> None:
    # A plan after an opener is the rules' as much as without it.
    plain = triage.assess("遺書を書きました。今夜死にます")
    opened = triage.assess("相談なんですけど、遺書を書きました。今夜死にます")
    assert plain.level == opened.level == Urgency.EMERGENCY and set(plain.signals) == set(opened.signals)
