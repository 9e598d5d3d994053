"""A small blocking HTTP client for media servers, and the secret it authenticates with.

Blocking on purpose: importers enumerate in a worker thread (`collection_ingest._enumerate`),
and the standard library's client needs no extra dependency. Every way a server can fail to
answer becomes the error "media_server_unreachable" whose case says which (refused, timeout,
tls, auth, dns, network, http), so every command that talks to a server exits 3 with the cause.

The secret travels in a request header only, never in a URL: URLs end up in error messages and
logs, headers never do.
"""

from __future__ import annotations

import http.client
import os
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from consumer.domain.catalog import SecretRef, Source
from consumer.domain.errors import OperationError

Params = Sequence[tuple[str, str]]
MAX_BODY = 256 * 1024 * 1024  # a page of a huge library is a few MB; refuse anything absurd


class NotOnServerError(LookupError):
    """HTTP 404: the server has no such thing (a library removed, an endpoint it lacks)."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes


def read_secret(source: Source) -> str:
    """The token or API key, read from where the source says, at the moment it is needed."""
    assert source.server is not None
    ref: SecretRef = source.server.secret
    if ref.kind == "file":
        try:
            with open(ref.ref, encoding="utf-8") as handle:
                value = handle.read().strip()
        except OSError as exc:
            raise OperationError(
                "media_server_secret_missing",
                case="file",
                source=source.name,
                path=ref.ref,
                problem=exc.strerror or str(exc),
            ) from exc
    else:
        value = os.environ.get(ref.ref, "").strip()
        if not value:
            raise OperationError(
                "media_server_secret_missing", case="env", source=source.name, variable=ref.ref
            )
    if not value:
        raise OperationError(
            "media_server_secret_missing",
            case="file",
            source=source.name,
            path=ref.ref,
            problem="the file is empty",
        )
    return value


class ServerClient:
    """GET requests to one server, with its authentication headers and timeout."""

    def __init__(
        self,
        *,
        server: str,
        source: str,
        base_url: str,
        headers: Mapping[str, str],
        timeout: float,
    ) -> None:
        self.server = server  # "Plex", "Jellyfin": for the operator's message
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers)
        self.timeout = timeout

    def url(self, path: str, params: Params = ()) -> str:
        query = urllib.parse.urlencode(list(params), safe=",|")
        return f"{self.base_url}{path}" + (f"?{query}" if query else "")

    def get(
        self, path: str, params: Params = (), headers: Mapping[str, str] | None = None
    ) -> Response:
        url = self.url(path, params)
        request = urllib.request.Request(url, headers={**self.headers, **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                body = answer.read(MAX_BODY + 1)
                if len(body) > MAX_BODY:
                    raise self.bad_answer(answer.status, "answer too large")
                return Response(answer.status, dict(answer.headers.items()), body)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code in (401, 403):
                raise OperationError(
                    "media_server_unreachable",
                    case="auth",
                    server=self.server,
                    source=self.source,
                    url=self.base_url,
                    status=exc.code,
                ) from None
            if exc.code == 404:
                raise NotOnServerError(path) from None
            raise self.bad_answer(exc.code, str(exc.reason)) from None
        except urllib.error.URLError as exc:
            raise self.unreachable(exc.reason) from None
        except (OSError, http.client.HTTPException) as exc:
            raise self.unreachable(exc) from None

    def bad_answer(self, status: int, detail: str) -> OperationError:
        """An answer that is not what the server's API gives (an error page, a proxy's)."""
        return OperationError(
            "media_server_unreachable",
            case="http",
            server=self.server,
            source=self.source,
            url=self.base_url,
            status=status,
            detail=detail,
        )

    def unreachable(self, reason: object) -> OperationError:
        """No answer at all, in the operator's words: refused, timed out, TLS, DNS, other."""
        s, src, url = self.server, self.source, self.base_url
        if isinstance(reason, ConnectionRefusedError):
            return OperationError(
                "media_server_unreachable", case="refused", server=s, source=src, url=url
            )
        if isinstance(reason, TimeoutError | socket.timeout):
            return OperationError(
                "media_server_unreachable", case="timeout", server=s, source=src, url=url
            )
        if isinstance(reason, ssl.SSLError | ssl.CertificateError):
            why = getattr(reason, "verify_message", None) or getattr(reason, "reason", None)
            return OperationError(
                "media_server_unreachable",
                case="tls",
                server=s,
                source=src,
                url=url,
                detail=str(why or reason),
            )
        if isinstance(reason, socket.gaierror):
            return OperationError(
                "media_server_unreachable", case="dns", server=s, source=src, url=url
            )
        detail = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
        return OperationError(
            "media_server_unreachable",
            case="network",
            server=s,
            source=src,
            url=url,
            detail=detail,
        )
