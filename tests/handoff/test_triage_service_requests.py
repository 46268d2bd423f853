"""Ordinary service requests must not be flagged: a resident cancelling phone visits
(「もうやめたい」) is not in crisis. Run with the semantic model, as in production."""

from __future__ import annotations

import pytest

from handoff.urgency import Urgency

pytestmark = pytest.mark.slow

SERVICE_REQUESTS = [
    "でんわほうもん、もうやめたい",
    "電話訪問はもう結構です。やめさせてください",
    "安心コールの電話、来月から休みたいんだけど",
    "ステッカーもう使わないので返したい",
    "ボランティアさんに来てもらうの、もう終わりにしたい",
    "母が施設に入ったので見守りの電話はやめてください",
    "毎週の電話、しんどいから月1回に減らしてほしい",
    "チャットの使い方がわからなくて死ぬほど困った（笑）もう大丈夫です",
    "苦情です。電話の人の言い方がきつかった",
    "父が亡くなったので電話訪問の登録を消してください",
]


@pytest.mark.parametrize(
    "text",
    [
        "電話訪問はもうやめたい。生きていても仕方ないから",
        "ボランティアさんを断った。もう全部終わりにしたい、薬もためてある",
    ],
)
def test_a_service_request_does_not_hide_a_crisis_beside_it(decider, text):  # noqa: ANN001
    assert decider.triage.assess(text).level != Urgency.NONE


# Elderly residents tell the 安心コール about their day as they would a familiar person, often
# in hiragana with spaces between words. Before the everyday-life writers (2026-12-07) the
# model read that style itself as danger (「となりの おくさんから みかんを もらいました」 was an
# emergency) and a quarter of such lines in held8 got a check-in question (bench/RESULTS.md,
# "Everyday life and schedules"). Written for this test, not taken from any data set. Not
# asserted: some of them are still asked the check-in question.
EVERYDAY_TALK = [
    "きょうは デイサービスで カラオケを しました",
    "あさ はやく めが さめて しまいました",
    "となりの おくさんから みかんを もらいました",
    "こんしゅうの もくようびは びょういんなので るすです",
    "むすめが らいげつ ひっこして きます",
    "ゆうべは さむくて なんども おきました",
    "さいきん テレビの 音が きこえにくいです",
    "土よう日は しょうがっこうの うんどうかいを みにいきます",
]


@pytest.mark.parametrize("text", [*SERVICE_REQUESTS, *EVERYDAY_TALK])
def test_service_requests_and_everyday_talk_stay_none(decider, text):  # noqa: ANN001
    assert decider.triage.assess(text).level == Urgency.NONE


# Real cases told in the plain kana style of an elderly resident's everyday talk (held8's
# style, bench/RESULTS.md "Everyday life and schedules"), written for this test.
@pytest.mark.parametrize(
    "text",
    [
        "おっとが いきを してない",
        "ころんで たてません たすけて",
        "もう みっか なにも たべるものが ありません おかねも ない",
    ],
)
def test_real_cases_in_plain_kana_are_raised(decider, text):  # noqa: ANN001
    assert decider.triage.assess(text).level != Urgency.NONE
