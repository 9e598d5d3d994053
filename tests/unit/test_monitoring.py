"""The alert rules and the Grafana dashboard only use metrics the services export."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

import consumer.metrics
import ingestor.metrics
import shared.runtime.health  # registers apollonia_ready

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "deploy" / "prometheus" / "rules" / "apollonia.yml"
DASHBOARD = ROOT / "docs" / "grafana-dashboard.json"
OPERATIONS = ROOT / "docs" / "operations.md"
METRIC = re.compile(r"\b(apollonia_[a-z0-9_]+)")
# Series Prometheus itself provides for every target.
PROMETHEUS_OWN = {"up"}

assert shared.runtime.health and consumer.metrics and ingestor.metrics  # imported for registration


def exported() -> set[str]:
    names = set(REGISTRY._names_to_collectors)  # every series name, suffixes included
    assert any(n.startswith("apollonia_consumer") for n in names)
    assert any(n.startswith("apollonia_ingestor") for n in names)
    return names


def alert_expressions() -> list[str]:
    rules = yaml.safe_load(ALERTS.read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]


def test_alert_rules_cover_what_operators_need() -> None:
    names = {
        rule["alert"] for g in yaml.safe_load(ALERTS.read_text())["groups"] for rule in g["rules"]
    }
    assert {
        "ApolloniaCatalogBacklogGrowing",
        "ApolloniaDeadLetters",
        "ApolloniaOutboxStuck",
        "ApolloniaNotReady",
        "ApolloniaEnrichmentFailuresRising",
        "ApolloniaEnrichmentStuck",
    } <= names


def test_the_dashboard_shows_enrichment() -> None:
    expressions = " ".join(dashboard_expressions())
    for metric in (
        "apollonia_enrichment_jobs_total",
        "apollonia_enrichment_jobs_pending",
        "apollonia_qc_failures_total",
        "apollonia_enrichment_probe_seconds_bucket",
    ):
        assert metric in expressions


@pytest.mark.parametrize("source", ["alerts", "dashboard"])
def test_every_referenced_metric_is_exported(source: str) -> None:
    expressions = alert_expressions() if source == "alerts" else dashboard_expressions()
    assert expressions
    known = exported()
    missing = {m for expr in expressions for m in METRIC.findall(expr)} - known
    assert not missing, f"{source} reference metrics nobody exports: {sorted(missing)}"


def test_a_misspelt_metric_would_be_caught() -> None:
    assert set(METRIC.findall("rate(apollonia_consumer_mesages_total[5m])")) - exported()


def test_operations_doc_shows_the_same_rules() -> None:
    text = OPERATIONS.read_text()
    assert ALERTS.read_text().strip() in text
