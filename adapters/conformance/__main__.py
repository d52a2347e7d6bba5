"""``python -m adapters.conformance NAME``: the kit without the gateway's settings."""

from __future__ import annotations

import os
import sys

from adapters.conformance.cli import main

sys.exit(main(environ=os.environ))
