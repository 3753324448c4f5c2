"""``python -m cityscore``: the ``cityscore`` command line."""

import sys

from cityscore.cli.main import main

sys.exit(main())
