"""``python -m tengr_provider.testing``: the same as the ``tengr-emulator`` console script."""

from __future__ import annotations

import sys

from tengr_provider.testing.cli import main

sys.exit(main())
