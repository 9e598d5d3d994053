"""`apollonia health --service ...`: exit 0 when the running service answers, 1 otherwise.

Made for Docker's HEALTHCHECK: it reads the same settings as the service (so it finds the port),
needs no curl, and prints one line.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from enum import StrEnum
from typing import Annotated

import typer

from apollonia.cli.common import JsonOpt, settings_or_exit
from apollonia.cli.output import ExitCode, Output


class Service(StrEnum):
    INGESTOR = "ingestor"
    CONSUMER = "consumer"
    ENRICHER = "enricher"


def health(
    service: Annotated[
        Service,
        typer.Option(
            "--service", metavar="ingestor|consumer|enricher", help="Which service to check."
        ),
    ],
    ready: Annotated[
        bool,
        typer.Option("--ready", help="Check /readyz (broker and database) instead of /healthz."),
    ] = False,
    host: Annotated[
        str, typer.Option("--host", metavar="HOST", help="Where the service listens.")
    ] = "127.0.0.1",
    timeout: Annotated[
        float, typer.Option("--timeout", metavar="SECONDS", help="Seconds to wait.")
    ] = 3.0,
    json_out: JsonOpt = False,
) -> None:
    """Check a running service's health endpoint (for Docker HEALTHCHECK).

    \b
    Examples:
      apollonia health --service consumer --ready
    """
    output = Output(json_out)
    settings = settings_or_exit(output)
    port = settings.service_metrics_port(service.value)
    if port == 0:
        output.fail(
            ExitCode.VALIDATION,
            f"the {service.value} HTTP server is disabled (APOLLONIA_METRICS_PORT=0)",
            error_code="disabled",
        )
    path = "/readyz" if ready else "/healthz"
    url = f"http://{host}:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = json.loads(response.read() or b"{}")
            status = response.status
    except urllib.error.HTTPError as exc:
        try:
            detail = json.loads(exc.read() or b"{}")
        except ValueError:
            detail = {}
        output.fail(
            ExitCode.VALIDATION,
            f"{service.value} unhealthy at {url}: {detail or exc}",
            error_code="unhealthy",
            document={"service": service.value, "detail": detail},
        )
    except (OSError, ValueError) as exc:
        output.fail(
            ExitCode.VALIDATION,
            f"{service.value} not answering at {url}: {exc}",
            error_code="unreachable",
            document={"service": service.value},
        )
    doc = {
        "status": "ok",
        "service": service.value,
        "url": url,
        "http_status": status,
        "detail": body,
    }
    output.emit(doc, lambda c: c.print(f"{service.value} ok ({url})", markup=False))
