"""`python -m frontdoor ...`: the same commands as the `frontdoor` script."""

import sys

from frontdoor.cli import main

sys.exit(main())
