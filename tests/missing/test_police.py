"""Reading 「110番通報の有無」 (別紙8-3; Setagaya 003 §1(2)⑤イ) from a reporter's own words:
True when told, False when not yet, None when the words do not say."""

import pytest

from handoff.missing.police import police_called, police_news

TOLD, NOT_YET, UNSAID = True, False, None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("さっき警察には電話しました", TOLD),
        ("110番しました", TOLD),
        ("けいさつにでんわした", TOLD),
        ("北沢警察署に届けを出しました", TOLD),
        ("捜索願を出しました", TOLD),
        ("交番に行ってきました", TOLD),
        ("警察の人が来てくれてます", TOLD),
        ("警察に電話したけどまだ見つかってない", TOLD),
        ("はい、連絡しました", TOLD),
        ("missing110:yes", TOLD),
        ("まだです", NOT_YET),
        ("いいえ、まだしてません", NOT_YET),
        ("警察にはまだ連絡していません", NOT_YET),
        ("警察行ってない", NOT_YET),
        ("警察に電話したほうがいいですか", NOT_YET),
        ("警察に届けるべきですか", NOT_YET),
        ("警察には電話がつながらない", NOT_YET),
        ("missing110:no", NOT_YET),
        ("父の名前は世田谷太郎、82歳です", UNSAID),
        ("ありがとうございます", UNSAID),
        ("主人が朝から帰りません。認知症です", UNSAID),
    ],
)
def test_reads_whether_the_police_were_told(text: str, expected: bool | None) -> None:
    assert police_called(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("けいさつには もう でんわしました", TOLD),
        ("さっき交番に行ってきました", TOLD),
        ("警察の人が来てくれました", TOLD),
        ("おまわりさんが来てくれました", TOLD),
        ("まだ警察には電話してません", NOT_YET),
        ("はい", UNSAID),  # the answer to the question being asked, not news about the police
        ("いいえ", UNSAID),
        ("しました", UNSAID),
        ("せたがや はなこです", UNSAID),
    ],
)
def test_reads_news_about_the_police_only_where_the_police_are_named(text: str, expected: bool | None) -> None:
    """What a reporter says about the police while another item of the intake is asked."""
    assert police_news(text) is expected
