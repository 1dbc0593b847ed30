"""``python -m devstack``: run the whole stack locally with the demo fleet (what ``make run`` does)."""

import sys

from devstack.demo import main

sys.exit(main())
