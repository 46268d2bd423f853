"""`frontdoor users list|disable|enable|reset-password` as a command on a fresh data directory
(issue 11; Kashiwa 002 §10(2)オ: individual IDs, unneeded IDs removed)."""

from __future__ import annotations

import asyncio

import pytest

from frontdoor.db import create_engine, session_factory
from frontdoor.settings import Settings
from handoff import accounts
from tests.workers.test_retention import _cli

pytestmark = pytest.mark.slow


def _account(data_dir, login: str):  # noqa: ANN001, ANN202
    async def _load():  # noqa: ANN202
        engine = create_engine(Settings(data_dir=data_dir, _env_file=None).resolved_database_url())
        try:
            async with session_factory(engine)() as session:
                return await accounts.by_login(session, login=login)
        finally:
            await engine.dispose()

    return asyncio.run(_load())


def test_users_list_disable_enable_and_reset_password(tmp_path):  # noqa: ANN001
    assert _cli(["create-user", "--tenant", "setagaya", "--login", "s.kato", "--name", "加藤 光"], data_dir=tmp_path).returncode == 0
    listed = _cli(["users", "list", "--tenant", "setagaya"], data_dir=tmp_path)
    assert listed.returncode == 0 and "s.kato\t加藤 光\t相談員\t有効" in listed.stdout
    disabled = _cli(["users", "disable", "--login", "s.kato"], data_dir=tmp_path)
    assert disabled.returncode == 0 and "無効にしました" in disabled.stdout
    assert not _account(tmp_path, "s.kato").active
    assert "無効（" in _cli(["users", "list"], data_dir=tmp_path).stdout
    twice = _cli(["users", "disable", "--login", "s.kato"], data_dir=tmp_path)
    assert twice.returncode == 2 and "すでに無効" in twice.stdout
    assert _cli(["users", "enable", "--login", "s.kato"], data_dir=tmp_path).returncode == 0
    reset = _cli(["users", "reset-password", "--login", "s.kato"], data_dir=tmp_path)
    assert reset.returncode == 0 and "仮パスワード" in reset.stdout
    account = _account(tmp_path, "s.kato")
    assert account.active and account.must_change_password
    assert "要パスワード変更" in _cli(["users", "list"], data_dir=tmp_path).stdout
    missing = _cli(["users", "disable", "--login", "nobody"], data_dir=tmp_path)
    assert missing.returncode == 2 and "ありません" in missing.stdout


def test_create_user_refuses_a_weak_or_demo_password(tmp_path):  # noqa: ANN001
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDOOR_")}
    env |= {"FRONTDOOR_DATA_DIR": str(tmp_path)}
    for password, reason in (("demo-password-2026", "デモ用"), ("short-pw", "12文字以上")):
        result = subprocess.run(
            [sys.executable, "-m", "frontdoor.cli", "create-user", "--tenant", "kashiwa", "--login", "k.x", "--name", "x"],
            env=env | {"FRONTDOOR_NEW_USER_PASSWORD": password}, capture_output=True, text=True, timeout=300,
        )
        assert result.returncode == 2 and reason in result.stdout


def test_create_user_without_a_terminal_or_password_says_how_to_give_one(tmp_path):  # noqa: ANN001
    # A provisioning script with no terminal and nothing on stdin: a clear message, no
    # traceback, and no account (getpass raised EOFError before).
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDOOR_")}
    result = subprocess.run(
        [sys.executable, "-m", "frontdoor.cli", "create-user", "--tenant", "kashiwa", "--login", "k.x", "--name", "柏 花子"],
        env=env | {"FRONTDOOR_DATA_DIR": str(tmp_path)}, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 2
    assert "FRONTDOOR_NEW_USER_PASSWORD" in result.stdout and "Traceback" not in result.stderr
    assert "Warning" not in result.stderr  # no English from getpass for the operator to puzzle over
    # A script may pipe the password in instead: one line on stdin.
    piped = subprocess.run(
        [sys.executable, "-m", "frontdoor.cli", "create-user", "--tenant", "kashiwa", "--login", "k.piped", "--name", "柏 花子"],
        env=env | {"FRONTDOOR_DATA_DIR": str(tmp_path)}, input="Kashiwa-piped-2026\n", capture_output=True, text=True, timeout=300,
    )
    assert piped.returncode == 0 and "k.piped" in piped.stdout, piped.stdout + piped.stderr
