"""A closed-hours missing-person report played from the command line shows in `frontdoor
requests list --json` with the stable names other tools read (issue 8)."""

from __future__ import annotations

import json

from tests.test_cli import _run


def test_a_sunday_night_report_played_from_the_command_line_is_listed_with_its_number_and_deadline(tmp_path):  # noqa: ANN001
    turns = [
        {"text": "認知症の母が夕方から帰ってきません"}, {"action": "missing110:yes", "label": "はい、連絡しました"},
        {"text": "世田谷一郎と申します"}, {"text": "せたがやいちろう"}, {"text": "息子です"}, {"text": "03-1234-5678"},
        {"action": "form:yes", "label": "はい"},
    ]
    stdin = "\n".join(json.dumps(t, ensure_ascii=False) for t in turns) + "\n"
    played = _run(["ask", "--tenant", "setagaya", "--conversation", "--jsonl", "--at", "2026-12-06T22:00:00+09:00"], stdin=stdin, data_dir=tmp_path)
    assert played.returncode == 0, played.stderr
    rows = [json.loads(line) for line in played.stdout.splitlines()]
    assert rows[0]["urgency"] == "emergency" and "管理番号「12-1」" in rows[-1]["reply"]
    listed = _run(["requests", "list", "--tenant", "setagaya", "--json"], data_dir=tmp_path)
    assert listed.returncode == 0, listed.stderr
    (request,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert request["kind"] == "missing_person" and request["status"] == "callback"
    assert request["fields"]["management_no"] == "12-1" and request["fields"]["reporter_phone"] == "03-1234-5678"
    assert request["due_at"] == "2026-12-07T00:00:00+00:00"  # ⑤ウ: Monday 9:00 JST, the end of the call-back window
