"""``python -m devstack``: the whole stack with the demo fleet, as ``make run`` starts it."""

import sys

from devstack.demo import main

sys.exit(main())
