"""One worker's share of ``/metrics`` under ``fdxgw serve --workers``: prometheus-client's
multiprocess files.

Requests are still counted in ``Metrics``' plain dicts, off any lock; ``WorkerFiles.write``
copies each series' totals into this process's memory-mapped files (one value per counter, one
per histogram bucket and sum, in prometheus-client's layout), once a second and before this
worker answers a scrape. ``registry`` then reads every worker's files through
``MultiProcessCollector``, which adds them up: the answer is the same whichever worker takes
the scrape, and as a worker's file stays after it exits (the supervisor starts a new one, with a
new file), no counter ever goes down while ``fdxgw serve`` runs.

Process figures (``process_*``) follow the same rule: CPU seconds is a counter summed over every
worker that ever ran; memory and open descriptors are summed over the live workers; the start
time is the oldest worker's.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from prometheus_client import CollectorRegistry, ProcessCollector, values
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.utils import floatToGoString

if TYPE_CHECKING:
    from gateway.metrics import Metrics, _Series


class _Value(Protocol):
    def set(self, value: float, timestamp: float | None = None) -> None: ...


# process_* gauges and how workers combine (prometheus-client's multiprocess gauge modes).
_PROCESS_GAUGES = {
    "process_resident_memory_bytes": "livesum",
    "process_virtual_memory_bytes": "livesum",
    "process_open_fds": "livesum",
    "process_start_time_seconds": "min",
}


class WorkerFiles:
    def __init__(self, directory: str) -> None:
        self.directory = directory
        self._value_class = values.MultiProcessValue()
        self._values: dict[tuple[str, str, tuple[str, ...]], _Value] = {}
        self._written: dict[tuple[str, str, tuple[str, ...]], float] = {}
        self._process = ProcessCollector(registry=None)

    def registry(self, *collectors: Any) -> CollectorRegistry:
        """Every worker's files summed, plus ``collectors`` (figures read from storage)."""
        registry = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(registry, path=self.directory)
        for collector in collectors:
            registry.register(collector)
        return registry

    def write(self, metrics: Metrics) -> None:
        from gateway.metrics import BUCKETS

        bounds = [floatToGoString(b) for b in (*BUCKETS, float("inf"))]
        self._histograms(
            "fdxgw_http_request_duration_seconds",
            ("route", "method", "status"),
            metrics.requests,
            bounds,
        )
        for key, series in metrics.requests.items():
            self._set(
                "counter", "fdxgw_http_requests", "_total", ("route", "method", "status"), key,
                series.count,
            )  # fmt: skip
        self._histograms(
            "fdxgw_adapter_call_duration_seconds",
            ("adapter", "operation"),
            metrics.adapter_calls,
            bounds,
        )
        for ekey, n in metrics.adapter_errors.items():
            self._set(
                "counter", "fdxgw_adapter_errors", "_total", ("adapter", "operation", "error"),
                ekey, n,
            )  # fmt: skip
        for grant, n in metrics.tokens.items():
            self._set("counter", "fdxgw_tokens_issued", "_total", ("grant_type",), (grant,), n)
        self._process_figures()

    def close(self) -> None:
        """This worker is stopping: its live gauges (memory, descriptors) stop counting."""
        mark_process_dead(os.getpid(), self.directory)

    def _histograms(
        self,
        name: str,
        labels: Sequence[str],
        data: Mapping[Any, _Series],
        bounds: Sequence[str],
    ) -> None:
        bucket_labels = (*labels, "le")
        for key, series in data.items():
            for bound, n in zip(bounds, series.buckets, strict=True):
                if n:
                    self._set("histogram", name, "_bucket", bucket_labels, (*key, bound), n)
            self._set("histogram", name, "_sum", labels, key, series.sum)

    def _process_figures(self) -> None:
        for family in self._process.collect():
            for sample in family.samples:
                if sample.name == "process_cpu_seconds_total":
                    self._set("counter", "process_cpu_seconds", "_total", (), (), sample.value)
                elif sample.name in _PROCESS_GAUGES:
                    mode = _PROCESS_GAUGES[sample.name]
                    self._set("gauge", sample.name, "", (), (), sample.value, mode=mode)

    def _set(
        self,
        typ: str,
        metric: str,
        suffix: str,
        labels: Sequence[str],
        label_values: Iterable[str],
        value: float,
        *,
        mode: str = "",
    ) -> None:
        key = (metric + suffix, mode, tuple(label_values))
        if self._written.get(key) == value:
            return
        target = self._values.get(key)
        if target is None:
            target = self._values[key] = self._value_class(
                typ, metric, metric + suffix, tuple(labels), key[2], _HELP.get(metric, metric),
                multiprocess_mode=mode,
            )  # fmt: skip
        target.set(value)
        self._written[key] = value


_HELP = {
    "fdxgw_http_request_duration_seconds": (
        "Time to answer an HTTP request, by route template, method and status."
    ),
    "fdxgw_http_requests": "HTTP requests answered, by route template, method and status.",
    "fdxgw_adapter_call_duration_seconds": (
        "Time of each bank adapter call, by adapter and operation."
    ),
    "fdxgw_adapter_errors": (
        "Bank adapter calls that raised, by adapter, operation and error class."
    ),
    "fdxgw_tokens_issued": "Tokens issued, by grant type.",
    "process_cpu_seconds": "Total user and system CPU time spent in seconds (all workers).",
    "process_resident_memory_bytes": "Resident memory size in bytes (live workers).",
    "process_virtual_memory_bytes": "Virtual memory size in bytes (live workers).",
    "process_open_fds": "Number of open file descriptors (live workers).",
    "process_start_time_seconds": "Start time of the oldest worker since unix epoch in seconds.",
}


__all__ = ["WorkerFiles"]
