"""Keep passwords out of logs and terminal output."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

MASK = "****"

# user:password@ inside any URL-looking token, for free text such as exception messages.
_USERINFO = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@\s]*)@"
)


def mask_url(url: str) -> str:
    """Replace the password of a URL with `****`; a URL without one is returned unchanged.

    >>> mask_url("amqp://guest:secret@rabbit:5672/vhost")
    'amqp://guest:****@rabbit:5672/vhost'
    >>> mask_url("sqlite+aiosqlite:////config/apollonia.db")
    'sqlite+aiosqlite:////config/apollonia.db'
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return mask_text(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = f"{parts.username or ''}:{MASK}@{host}"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None:
        netloc += f":{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def mask_text(text: str) -> str:
    """Mask every `scheme://user:password@` occurring in free text."""
    return _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
