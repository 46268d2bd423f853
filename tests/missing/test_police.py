"""Reading 「110番通報の有無」 (別紙8-3; Setagaya 003 §1(2)⑤イ) from a reporter's own words."""

import pytest

from handoff.missing.police import police_called


@pytest.mark.parametrize(
    "text",
    [
        "さっき警察には電話しました",
        "110番しました",
        "けいさつにでんわした",
        "北沢警察署に届けを出しました",
        "捜索願を出しました",
        "交番に行ってきました",
        "警察の人が来てくれてます",
        "警察に電話したけどまだ見つかってない",
        "はい、連絡しました",
        "missing110:yes",
    ],
)
def test_told(text: str) -> None:
    assert police_called(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "まだです",
        "いいえ、まだしてません",
        "警察にはまだ連絡していません",
        "警察行ってない",
        "警察に電話したほうがいいですか",
        "警察に届けるべきですか",
        "警察には電話がつながらない",
        "missing110:no",
    ],
)
def test_not_yet(text: str) -> None:
    assert police_called(text) is False


@pytest.mark.parametrize("text", ["父の名前は世田谷太郎、82歳です", "ありがとうございます", "主人が朝から帰りません。認知症です"])
def test_not_said(text: str) -> None:
    assert police_called(text) is None
