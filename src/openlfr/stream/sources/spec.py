"""What a source is (file, stream, webcam, folder), parsed from text, with secrets redacted."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

_NAMED = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9_.-]{0,63})=(?P<rest>.+)$")
_WEBCAM = re.compile(r"^webcam:(?P<index>\d{1,3})$")
_SECRET_KEYS = re.compile(r"pass|pwd|token|key|auth|secret|sig|session", re.IGNORECASE)
_STREAM_SCHEMES = {"rtsp", "rtsps", "http", "https", "rtmp", "srt", "udp", "tcp"}


class SourceKind(StrEnum):
    """The kinds of camera source."""

    FILE = "file"
    STREAM = "stream"
    WEBCAM = "webcam"
    FOLDER = "folder"


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """Where one camera's frames come from.

    Attributes:
        camera_id: the camera's identifier (in alerts, counters and logs).
        kind: file, stream, webcam or folder.
        location: the path, URL or device node; may hold credentials, so it is
            never logged: use :attr:`display` instead.
    """

    camera_id: str
    kind: SourceKind
    location: str

    @property
    def display(self) -> str:
        """The location with any credentials masked: safe for logs and status lines."""
        return redact_url(self.location) if self.kind is SourceKind.STREAM else self.location

    @property
    def live(self) -> bool:
        """Streams and webcams are live: they are reconnected when they stop."""
        return self.kind in (SourceKind.STREAM, SourceKind.WEBCAM)


def redact_url(url: str) -> str:
    """``url`` with the user, password and secret-looking query values replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, "***" if _SECRET_KEYS.search(k) else v) for k, v in pairs],
            safe="*",
            quote_via=quote,
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def scrub(text: str, location: str) -> str:
    """Remove ``location``'s credentials from a message (FFmpeg errors quote the URL)."""
    if not location:
        return text
    safe = redact_url(location)
    text = text.replace(location, safe)
    parts = urlsplit(location)
    for secret in (parts.password, parts.username):
        if secret and len(secret) >= 3:
            text = text.replace(secret, "***")
    return text


def parse_source(text: str, index: int = 0) -> SourceSpec:
    """Read a ``--source`` value: ``[name=]`` then a path, URL, ``webcam:N`` or folder.

    Without a name, a file or folder is named after itself and other sources
    ``cam<index>``. Raises :class:`ValueError` with a usable message.
    """
    text = text.strip()
    if not text:
        raise ValueError("empty source")
    name: str | None = None
    match = _NAMED.match(text)
    if match and "://" not in match.group("name"):
        name, text = match.group("name"), match.group("rest")
    webcam = _WEBCAM.match(text)
    if webcam:
        return SourceSpec(name or f"webcam{webcam.group('index')}", SourceKind.WEBCAM, text)
    if "://" in text:
        scheme = text.split("://", 1)[0].lower()
        if scheme == "file":
            text = urlsplit(text).path
        elif scheme in _STREAM_SCHEMES:
            return SourceSpec(name or f"cam{index}", SourceKind.STREAM, text)
        else:
            raise ValueError(
                f"unsupported source scheme {scheme!r}: use a file or folder path, rtsp://, "
                "http(s)://, or webcam:N"
            )
    path = Path(text).expanduser()
    if path.is_dir():
        return SourceSpec(name or _safe_name(path.name, index), SourceKind.FOLDER, str(path))
    if not path.exists():
        raise ValueError(f"source {text!r}: no such file or folder")
    return SourceSpec(name or _safe_name(path.stem, index), SourceKind.FILE, str(path))


def _safe_name(stem: str, index: int) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-.")[:64]
    return cleaned or f"cam{index}"
