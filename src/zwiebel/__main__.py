"""``python -m zwiebel``: the same as the ``zwiebel`` command."""

import sys

from zwiebel.app.main import main

sys.exit(main())
