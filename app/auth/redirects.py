"""Where to go after a form that was given `next=`: a path of this site, never another site."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

MAX_LENGTH = 2000
_PATH = re.compile(r"[^?#]*")


def safe_next(target: str | None, default: str) -> str:
    """`target` when it is a path of this site, else `default`.

    Browsers are lenient: they drop tabs and line breaks inside a URL (`/\\t/evil.example` becomes
    `//evil.example`, another site), read a backslash as a slash (`/\\evil.example`), and a header with CR/LF could
    be split. So a path is followed only when it starts with one slash, holds no backslash, no space or control
    character (nor any Unicode one), and names neither a scheme nor a host; and its path, decoded once more
    (`/%09/evil.example`, should anything on the way decode it again), passes the same checks.
    """
    if not target or len(target) > MAX_LENGTH or not _is_local_path(target):
        return default
    if not _is_local_path(unquote(_PATH.match(target).group())):
        return default
    return target


def _is_local_path(target: str) -> bool:
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    if any(character.isspace() or not character.isprintable() for character in target):
        return False
    try:
        parts = urlsplit(target)
    except ValueError:
        return False
    return not parts.scheme and not parts.netloc
