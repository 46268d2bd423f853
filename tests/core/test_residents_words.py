"""Issue 12 (and issue 11's gap log): residents' words stay where they belong — masked for
managers and knowledge editors, out of server logs, never a formula in a workbook."""

from __future__ import annotations

import logging
import uuid

import pytest
from sqlalchemy import select

from bot.engine import Inbound
from bot.models import Message
from frontdoor.clock import utc_now
from frontdoor.models import ChannelKind
from frontdoor.redact import Masker
from handoff.models import AuditLog, Role
from knowledge.gaps import KnowledgeGap, record_gap
from tests.workers.test_dashboard import client_for


MASKER = Masker()

PERSONAL = [
    # (what a resident writes, what must not survive)
    ("となりのたなかさんが倒れた", ["たなか"]),
    ("山田花子です。世田谷区桜新町に住んでます", ["山田", "花子", "桜新町"]),
    ("すずきさまに連絡してほしい", ["すずき"]),
    ("タナカさんのことで相談", ["タナカ"]),
    ("柏市豊四季の佐藤です", ["豊四季", "佐藤"]),
    ("電話は〇九〇の一二三四の五六七八です", ["一二三四", "五六七八"]),
    ("ぜろきゅうぜろ いちにいさんよん ごろくななはち にかけて", ["ごろくななはち"]),
    ("０９０－１２３４－５６７８までお願いします", ["5678", "５６７８"]),
    ("北沢3丁目2番5号の高橋様", ["3丁目", "高橋"]),
    ("メールは taro.yamada@example.jp です", ["example.jp"]),
]


@pytest.mark.parametrize(("text", "secrets"), PERSONAL)
def test_names_places_addresses_phones_and_mail_are_masked(text, secrets):  # noqa: ANN001
    masked = MASKER.mask(text)
    for secret in secrets:
        assert secret not in masked, masked
    assert "〔" in masked


@pytest.mark.parametrize("text", ["見守りステッカーを申し込みたい", "おばあさんが心配です", "みなさんこんにちは", "電話訪問の日にちをかえたい"])
def test_ordinary_questions_are_left_alone(text):  # noqa: ANN001
    assert MASKER.mask(text) == text


async def test_gap_log_stores_and_kb_gaps_prints_only_masked_text(runtime, session):  # noqa: ANN001
    question = "鈴木一郎様の家の裏の空き地の草がのびほうだい 〇九〇の一二三四の五六七八"
    who = uuid.uuid4().hex
    await runtime.conversation_engine.handle_inbound(session, Inbound("setagaya", ChannelKind.WEB, who, question, channel_message_id=who))
    message_id = await session.scalar(select(Message.id).order_by(Message.id.desc()).limit(1))
    await record_gap(session, masker=MASKER, tenant_id="setagaya", message_id=message_id, conversation_id=uuid.uuid4(), text=question, kind="no_match")
    await session.commit()
    stored = list(await session.scalars(select(KnowledgeGap.normalized).where(KnowledgeGap.normalized.contains("空き地"))))
    assert stored
    for row in stored:
        assert "鈴木" not in row and "一郎" not in row and "五六七八" not in row


async def test_managers_unanswered_questions_are_masked_and_the_view_is_audited(live_server, session):  # noqa: ANN001
    # A row recorded before masking existed (stored verbatim) is masked on display.
    month = utc_now().strftime("%Y-%m")
    message_id = await session.scalar(select(Message.id).order_by(Message.id.desc()).limit(1))
    for _ in range(2):
        session.add(KnowledgeGap(tenant_id="kashiwa", message_id=message_id, conversation_id=uuid.uuid4(),
                                 normalized="高橋美咲です 柏市豊四季の家の雨漏り 〇四の七一二三の四五六七", kind="no_match"))
    await session.commit()
    client, manager = await client_for(live_server, session, Role.MANAGER)
    async with client:
        page = await client.get(f"/dashboard/?month={month}")
    assert page.status_code == 200 and "雨漏り" in page.text
    for secret in ("高橋", "美咲", "豊四季", "四五六七"):
        assert secret not in page.text
    actions = list(await session.scalars(select(AuditLog.action).where(AuditLog.counselor_id == manager.id)))
    assert "view_dashboard" in actions


async def test_a_failed_insert_leaves_no_resident_words_in_the_log(runtime, caplog):  # noqa: ANN001
    words = "山田太郎 090-1234-5678 の件"
    log = logging.getLogger("frontdoor.test")
    with caplog.at_level(logging.INFO):
        async with runtime.sessions() as session:
            # No such conversation: the foreign key fails the insert.
            session.add(Message(conversation_id=uuid.uuid4(), channel_id=1, direction="inbound", author="resident", text=words, created_at=utc_now()))
            try:
                await session.commit()
            except Exception:  # noqa: BLE001
                log.exception("message could not be stored")
            else:
                pytest.fail("the insert should have failed")
    text = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert "message could not be stored" in text
    assert "山田太郎" not in text and "1234-5678" not in text and "5678" not in text


FORMULAS = ['=HYPERLINK("http://evil.example/","見る")', "+1+1", "-2+3", "@SUM(A1)", "\t=1+1"]


async def test_no_workbook_cell_or_csv_field_is_a_formula(runtime, session):  # noqa: ANN001
    import csv
    import io

    import openpyxl

    from tests.workers.test_reports import add_conversation, jst
    from workers.reports import storage
    from workers.reports.periods import Month

    for i, evil in enumerate(FORMULAS):
        await add_conversation(
            session, tenant="setagaya", start_jst=jst(2018, 5, 2 + i, 10), category="相談", text=evil,
            case={"urgency": "none", "route": "phone", "status": "closed", "outcome": evil[:60], "closing_note": evil},
        )
        await add_conversation(
            session, tenant="kashiwa", start_jst=jst(2018, 5, 2 + i, 10), category="苦情", topic="kashiwa.complaint", text=evil,
            case={"urgency": "none", "route": "phone", "status": "closed", "outcome": evil[:60], "closing_note": evil},
        )
    content = await storage.build(session, tenant=runtime.tenants.get("setagaya"), month=Month(2018, 5), fmt="xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(content))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.value for c in cells if c.data_type == "f"]
    assert any(str(c.value).startswith("'") for c in cells)
    kashiwa = runtime.tenants.get("kashiwa")
    for fmt in storage.formats_for(kashiwa):
        built = await storage.build(session, tenant=kashiwa, month=Month(2018, 5), fmt=fmt)
        if fmt == "csv":
            fields = [f for row in csv.reader(io.StringIO(built.decode("utf-8-sig"))) for f in row]
        else:
            wb = openpyxl.load_workbook(io.BytesIO(built))
            assert not [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]
            fields = [str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c is not None]
        assert not [f for f in fields if f[:1] in ("=", "+", "@", "\t") or (f.startswith("-") and f[1:2].isdigit())]
