"""The `frontdoor` command as knowledge authors and evaluation tools use it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def _run(args: list[str], *, stdin: str | None = None, data_dir) -> subprocess.CompletedProcess:  # noqa: ANN001
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDOOR_")}
    env["FRONTDOOR_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "frontdoor.cli", *args], input=stdin, env=env, capture_output=True, text=True, timeout=300
    )


def test_ask_json_prints_one_object_with_the_stable_fields(tmp_path):  # noqa: ANN001
    result = _run(["ask", "--tenant", "setagaya", "--json", "見守りステッカーについて教えてください"], data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    answer = json.loads(lines[0])
    assert set(answer) == {"topic", "urgency", "route", "reply", "confidence"}
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
    assert "error" in rows[2] and "error" in rows[4]


def test_ask_unknown_tenant_is_a_clear_error(tmp_path):  # noqa: ANN001
    result = _run(["ask", "--tenant", "osaka", "--json", "こんにちは"], data_dir=tmp_path)
    assert result.returncode == 2 and "unknown tenant" in result.stderr


def test_kb_validate_passes_on_the_shipped_knowledge(tmp_path):  # noqa: ANN001
    result = _run(["kb", "validate"], data_dir=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "問題ありません" in result.stdout
    assert "demo value" in result.stdout  # demo phone numbers are flagged until a deployment sets them
