"""An adapter for a bank core reached over HTTP (aiohttp), and its reference core dialect."""

from __future__ import annotations

from adapters.base import AdapterOptions, BankAdapter
from adapters.http.bank import HttpBank
from adapters.http.config import HttpCoreConfig
from adapters.http.dialect import CoreDialect, CorePaths


def create(options: AdapterOptions) -> BankAdapter:
    """The registry's factory for ``http``: options are the ``[http]`` table."""
    return HttpBank.from_options(options)


__all__ = ["CoreDialect", "CorePaths", "HttpBank", "HttpCoreConfig", "create"]
