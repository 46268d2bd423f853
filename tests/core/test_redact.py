from frontdoor.redact import redact


def test_phone_numbers_and_email_are_masked():
    text = "母の番号は０９０－１２３４－５６７８です。メールは taro.yamada@example.jp、〒154-8504"
    out = redact(text)
    assert "5678" not in out and "example.jp" not in out and "8504" not in out
    assert "〔電話番号〕" in out and "〔メール〕" in out


def test_plain_text_is_kept():
    assert redact("見守りステッカーを申し込みたい") == "見守りステッカーを申し込みたい"
