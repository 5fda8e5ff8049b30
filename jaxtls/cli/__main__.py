"""``python -m jaxtls.cli``: the ``jaxtls`` command."""

import sys

from . import main

sys.exit(main())
