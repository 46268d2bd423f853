from __future__ import annotations

import pytest

from tests.bot.conftest import fake_line, line_server  # noqa: F401  (the LINE fixtures, for the daily check on LINE)
from tests.handoff.staff import make_staff


@pytest.fixture
async def counselor(session):  # noqa: ANN001, ANN201
    return (await make_staff(session, tenant_id="setagaya")).id
