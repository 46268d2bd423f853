"""LINE message building without I/O: Quick Reply limits, label shortening, postback data,
and the channel's own texts (validated like every content file)."""

from __future__ import annotations

import pytest

from bot.line.messages import LABEL_MAX, MAX_ITEMS, parse_postback, postback_data, quick_reply, short_label, text_messages
from bot.line.texts import LineTexts, load_texts
from frontdoor.settings import Settings
from frontdoor.tenants import load_tenants
from knowledge.catalog import load_catalog


def test_every_button_label_fits_and_stays_understandable():
    titles = [e.title for e in load_catalog()]
    labels = {t: short_label(t) for t in titles}
    assert all(len(s) <= LABEL_MAX for s in labels.values())
    assert labels["ボランティアの訪問援助（電球交換・ごみ出し・買い物など）"] == "ボランティアの訪問援助"
    assert labels["死にたいほどつらいとき（こころの相談電話）"] == "死にたいほどつらいとき"
    assert labels["見守りステッカーを貼った人・物を見つけたとき"] == "見守りステッカーを貼った人・物を見つけ…"
    assert short_label("はい") == "はい" and short_label("電話で折り返し") == "電話で折り返し"
    per_tenant = {}
    for entry in load_catalog():
        per_tenant.setdefault(entry.tenant, []).append(labels[entry.title])
    for tenant, shortened in per_tenant.items():
        assert len(shortened) == len(set(shortened)), f"two {tenant} buttons would read the same"


def test_quick_reply_holds_at_most_13_postbacks_with_the_full_label_as_tapped_text():
    buttons = [(f"topic:kashiwa.t{i}", f"ひとり親家庭の医療費の助成について知りたいこと その{i}") for i in range(20)]
    reply = quick_reply(buttons + buttons[:3])
    assert len(reply.items) == MAX_ITEMS
    first = reply.items[0].action
    assert len(first.label) <= LABEL_MAX and first.display_text == buttons[0][1]
    assert parse_postback(first.data) == buttons[0]
    [message] = text_messages(["どれについてお知りになりたいですか？"], buttons[:2])
    assert message.quick_reply is not None and len(message.quick_reply.items) == 2


@pytest.mark.parametrize("data", ["", "action=buy&itemid=111", "[]", '{"a": 3}', '{"l": "はい"}'])
def test_foreign_postback_data_is_not_a_button(data: str):
    assert parse_postback(data) is None


def test_postback_data_stays_within_300_characters():
    label = "とても長いボタンの名前" * 30
    data = postback_data("topic:setagaya.volunteer", label)
    assert len(data) <= 300 and parse_postback(data)[0] == "topic:setagaya.volunteer"


def test_texts_validate_and_greet_with_hours_emergency_numbers_and_privacy():
    texts = load_texts()
    tenants = load_tenants(Settings(_env_file=None).tenants_dir)
    texts.check_tenants(tenants.all())
    kashiwa = texts.greeting(tenants.get("kashiwa"), privacy_url="https://example.invalid/privacy/kashiwa")
    assert "午前8時30分" in kashiwa and "119番" in kashiwa and "110番" in kashiwa and kashiwa.endswith("/privacy/kashiwa")
    broken = texts.model_dump() | {"hours": {"kashiwa": "{no_such_fact}"}}
    with pytest.raises(ValueError, match="setagaya|no_such_fact"):
        LineTexts.model_validate(broken).check_tenants(tenants.all())
    with pytest.raises(ValueError):
        LineTexts.model_validate(texts.model_dump() | {"follow": "こんにちは"})
