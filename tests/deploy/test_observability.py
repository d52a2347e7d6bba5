"""The Grafana dashboard and the Prometheus alert rules in docs/deployment: the rules pass
``promtool check rules``, and every metric either of them queries is one the gateway exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from adapters.errors import BankUnavailable
from tests.gateway.operator_app import FullHarness

DOCS = Path(__file__).resolve().parents[2] / "docs" / "deployment"
RULES = DOCS / "alerts.yml"
DASHBOARD = DOCS / "grafana-dashboard.json"
FROM_PROMETHEUS = {"up"}  # made by Prometheus itself for every scrape target
_NAME = re.compile(r"\b((?:fdxgw|process)_[a-z0-9_]+|up)\b")


def queried_metrics() -> set[str]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    expressions = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    expressions.append(RULES.read_text(encoding="utf-8"))
    return {name for text in expressions for name in _NAME.findall(text)}


def exported_metrics() -> set[str]:
    """Sample names of a scrape after traffic of every kind, and those each TYPE line's family
    has in the text format (so a family with no sample yet still counts)."""
    full = FullHarness()
    _, token = full.grant()
    full.get("/fdx/v6/accounts", token)
    full.bank.fail = BankUnavailable("down")
    full.get("/fdx/v6/accounts", token)
    page = full.client.get("/metrics").text
    out = set(re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", page, re.MULTILINE))
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", page, re.MULTILINE):
        if kind == "histogram":
            out.update(name + s for s in ("_bucket", "_sum", "_count"))
        elif kind == "counter":
            out.add(name if name.endswith("_total") else name + "_total")
        else:
            out.add(name)
    return out


def test_the_alert_rules_pass_promtool():
    """Debian's prometheus package: `promtool check rules` (installed by .ci/run)."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is not installed (apt-get install prometheus; .ci/run does)")

    answer = subprocess.run(
        [promtool, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60
    )

    assert 0 == answer.returncode, answer.stdout + answer.stderr


def test_the_alerts_fire_when_they_should_and_only_then():
    """`promtool test rules` over alerts.test.yml: the §1033 rate alert fires at 98 % (two
    instances reporting the same counters) and not at 99.9 %; the adapter alert fires after
    two minutes of DOWN and not before; the key alert past 80 days."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is not installed (apt-get install prometheus; .ci/run does)")

    answer = subprocess.run(
        [promtool, "test", "rules", "alerts.test.yml"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=DOCS,
    )

    assert 0 == answer.returncode, answer.stdout + answer.stderr


def test_every_metric_the_dashboard_and_rules_query_is_exported():
    """A renamed series would leave a panel empty and an alert silent: none is missing."""
    queried = queried_metrics() - FROM_PROMETHEUS

    assert set() == queried - exported_metrics()
    assert {"fdxgw_cfpb_1033_response_rate", "fdxgw_adapter_status"} <= queried


def test_the_dashboard_is_a_grafana_dashboard():
    """Importable: a title, a uid, a Prometheus datasource variable, panels with queries."""
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))

    assert ("FDX gateway", "fdxgw") == (dashboard["title"], dashboard["uid"])
    assert "datasource" == dashboard["templating"]["list"][0]["type"]
    assert all(
        p["targets"] and p["datasource"]["type"] == "prometheus" for p in dashboard["panels"]
    )
