"""``python -m adapters.conformance NAME``: the kit; the spec path comes from the settings."""

from __future__ import annotations

import sys

from adapters.conformance.cli import main
from config.settings import Settings

_openapi = Settings.load().openapi
sys.exit(main(environ={"FDX_OPENAPI": _openapi} if _openapi else {}))
