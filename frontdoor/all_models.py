"""Import every domain's models so Base.metadata is complete (Alembic, tests)."""

from bot import deliveries as bot_deliveries  # noqa: F401
from bot import models as bot_models  # noqa: F401
from bot.line import models as line_models  # noqa: F401
from frontdoor import models as core_models  # noqa: F401
from frontdoor.db import Base
from handoff import models as handoff_models  # noqa: F401
from handoff.missing import models as missing_models  # noqa: F401
from knowledge import disaster as knowledge_disaster  # noqa: F401
from handoff.requests import models as request_models  # noqa: F401
from knowledge import gaps as knowledge_gaps  # noqa: F401
from workers import models as worker_models  # noqa: F401

metadata = Base.metadata
