"""The `frontdoor` command as knowledge authors and evaluation tools use it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
TEST_CACHE = Path(os.environ.get("FRONTDOOR_TEST_CACHE_DIR", Path.home() / ".cache" / "frontdoor-tests"))
STABLE = {"topic", "urgency", "route", "reply", "confidence"}
TRIAGE = {"risk", "check_in", "subject", "kind"}  # issue 14 §2: added, never renamed


def _run(args: list[str], *, stdin: str | None = None, data_dir, extra: dict | None = None) -> subprocess.CompletedProcess:  # noqa: ANN001
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDOOR_")} | (extra or {})
    env["FRONTDOOR_DATA_DIR"] = str(data_dir)
    env["FRONTDOOR_CACHE_PATH"] = str(TEST_CACHE)  # the trained model and vectors, keyed by content
    return subprocess.run(
        [sys.executable, "-m", "frontdoor.cli", *args], input=stdin, env=env, capture_output=True, text=True, timeout=300
    )


def test_ask_json_prints_one_object_with_the_stable_fields(tmp_path):  # noqa: ANN001
    result = _run(["ask", "--tenant", "setagaya", "--json", "見守りステッカーについて教えてください"], data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    answer = json.loads(lines[0])
    assert STABLE | TRIAGE <= set(answer)
    assert 0 <= answer["risk"] <= 1 and answer["check_in"] is False and answer["subject"] in {"self", "other", "unknown"}
    assert answer["topic"] == "setagaya.sticker" and answer["urgency"] == "none" and answer["route"] == "bot"
    assert 0 < answer["confidence"] <= 1 and "ステッカー" in answer["reply"]


def test_ask_jsonl_answers_every_line_in_one_process(tmp_path):  # noqa: ANN001
    questions = [
        {"text": "でんわほうもん、らいしゅうはおやすみしたい"},
        {"text": "じいちゃんがいえのなかでたおれて、いきしてない"},
        {"text": ""},
        {"text": "面談の予約をしたいです"},
    ]
    stdin = "\n".join(json.dumps(q, ensure_ascii=False) for q in questions) + "\nnot json\n"
    result = _run(["ask", "--tenant", "setagaya", "--jsonl"], stdin=stdin, data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 5
    assert rows[0]["urgency"] == "none" and rows[0]["topic"].startswith("setagaya.phone_visit")
    assert rows[1]["urgency"] == "emergency" and rows[1]["route"] != "bot" and "119" in rows[1]["reply"]
    assert rows[1]["kind"] == "medical" and rows[1]["subject"] == "other"
    assert rows[1]["topic"] is not None  # reported even when flagged
    assert "error" in rows[2] and "error" in rows[4]


def test_ask_unknown_tenant_is_a_clear_error(tmp_path):  # noqa: ANN001
    result = _run(["ask", "--tenant", "osaka", "--json", "こんにちは"], data_dir=tmp_path)
    assert result.returncode == 2 and "unknown tenant" in result.stderr


def test_kb_validate_passes_on_the_shipped_knowledge(tmp_path):  # noqa: ANN001
    result = _run(["kb", "validate"], data_dir=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "問題ありません" in result.stdout
    assert "demo value" in result.stdout  # demo phone numbers are flagged until a deployment sets them


def test_ask_conversation_plays_one_residents_turns_and_stores_them(tmp_path):  # noqa: ANN001
    turns = [
        {"text": "認知症の父が昼から帰ってこないんです"},
        {"action": "missing110:yes", "label": "はい、連絡しました"},
        {"text": "ありがとうございます"},
    ]
    stdin = "\n".join(json.dumps(t, ensure_ascii=False) for t in turns) + "\n"
    result = _run(
        ["ask", "--tenant", "setagaya", "--conversation", "--jsonl", "--at", "2026-12-06T21:00:00+09:00"], stdin=stdin, data_dir=tmp_path
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 3
    for row in rows:
        assert STABLE | TRIAGE | {"buttons", "case", "request"} <= set(row)
    first = rows[0]
    assert first["urgency"] == "emergency" and first["kind"] == "missing_person"
    assert first["topic"] == "setagaya.missing_person" and first["case"]
    assert {"id": "missing110:yes", "label": "はい、連絡しました"} in first["buttons"]
    assert rows[1]["case"] == first["case"] and rows[2]["urgency"] == "emergency"  # never lowered without a counselor
    assert (tmp_path / "frontdoor.sqlite3").exists()  # stored like a real conversation


def test_after_an_urgent_reply_a_short_word_starts_nothing_and_asking_for_a_person_shows_the_ways(tmp_path):  # noqa: ANN001
    """At night, after the urgent reply, 「いいえ」 once got a guessed entry's answer and a
    complaint recorded in the resident's name; and 「相談員と話したい」 answered 「選べます」
    with nothing to choose from, because the case was already open."""
    turns = [
        {"text": "もう死にたい"},
        {"text": "いいえ"},
        {"action": "talk_to_human", "label": "相談員と話したい"},
        {"action": "route:chat", "label": "チャットで相談員と話す"},
    ]
    stdin = "\n".join(json.dumps(t, ensure_ascii=False) for t in turns) + "\n"
    result = _run(
        ["ask", "--tenant", "kashiwa", "--conversation", "--jsonl", "--at", "2026-12-07T23:30:00+09:00"], stdin=stdin, data_dir=tmp_path
    )
    assert result.returncode == 0, result.stderr
    urgent, short, person, chat = (json.loads(line) for line in result.stdout.splitlines())
    assert urgent["urgency"] == "urgent" and urgent["case"]
    assert short["request"] is None and short["case"] == urgent["case"]
    assert "記録しました" not in short["reply"]
    # The counselor will read it: no request to rephrase, and the ways to talk stay on offer.
    assert "相談員が読みます" in short["reply"] and "言葉を変えて" not in short["reply"]
    assert {"route:chat", "route:phone"} <= {b["id"] for b in short["buttons"]}
    routes = {b["id"] for b in person["buttons"]}
    assert {"route:chat", "route:phone"} <= routes and "選んでください" in person["reply"]
    assert "番目です" in chat["reply"] and chat["case"] == urgent["case"]
    listed = _run(["requests", "--tenant", "kashiwa", "list", "--json"], data_dir=tmp_path)
    assert listed.returncode == 0 and listed.stdout.strip() == ""


def test_ask_conversation_needs_jsonl_and_a_valid_time(tmp_path):  # noqa: ANN001
    assert _run(["ask", "--tenant", "kashiwa", "--conversation"], stdin="", data_dir=tmp_path).returncode == 2
    bad = _run(["ask", "--tenant", "kashiwa", "--conversation", "--jsonl", "--at", "yesterday"], stdin="", data_dir=tmp_path)
    assert bad.returncode == 2 and "ISO 8601" in bad.stderr


def test_create_user_works_on_a_fresh_data_directory(tmp_path):  # noqa: ANN001
    password = {"FRONTDOOR_NEW_USER_PASSWORD": "kashiwa-night-shift-2026"}
    made = _run(["create-user", "--tenant", "kashiwa", "--login", "k.yamada", "--name", "山田 花子"], data_dir=tmp_path, extra=password)
    assert made.returncode == 0, made.stdout + made.stderr
    assert "k.yamada" in made.stdout
    again = _run(["create-user", "--tenant", "kashiwa", "--login", "k.yamada", "--name", "山田 花子"], data_dir=tmp_path, extra=password)
    assert again.returncode == 2  # one login, one person
    unknown = _run(["create-user", "--tenant", "osaka", "--login", "o.x", "--name", "x"], data_dir=tmp_path, extra=password)
    assert unknown.returncode == 2 and "unknown tenant" in unknown.stdout


def test_an_absence_notice_played_from_the_command_line_shows_in_requests_list(tmp_path):  # noqa: ANN001
    turns = [{"text": "12月10日は留守です。世田谷花子（せたがやはなこ）03-1234-5678"}, {"action": "form:yes", "label": "はい"}]
    stdin = "\n".join(json.dumps(t, ensure_ascii=False) for t in turns) + "\n"
    played = _run(["ask", "--tenant", "setagaya", "--conversation", "--jsonl", "--at", "2026-12-07T10:00:00+09:00"], stdin=stdin, data_dir=tmp_path)
    assert played.returncode == 0, played.stderr
    rows = [json.loads(line) for line in played.stdout.splitlines()]
    assert rows[0]["request"]["status"] == "draft" and rows[1]["request"]["status"] == "open"
    listed = _run(["requests", "list", "--tenant", "setagaya", "--status", "open", "--json"], data_dir=tmp_path)
    assert listed.returncode == 0, listed.stderr
    (request,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert set(request) == {"id", "kind", "status", "created_at", "due_at", "fields"}  # stable names (issue 13)
    assert request["id"] == rows[1]["request"]["id"] and request["kind"] == "setagaya.phone_visit_absence"
    assert request["fields"]["phone"] == "03-1234-5678" and request["due_at"] == "2026-12-08T01:00:05+00:00"  # 24 h, before the day-before 17:00
    assert _run(["requests", "list", "--tenant", "setagaya", "--status", "done", "--json"], data_dir=tmp_path).stdout == ""
    assert _run(["requests", "list", "--tenant", "nowhere"], data_dir=tmp_path).returncode == 2
