"""What ``openlfr demo`` tells its user: a readable terminal, or one JSON object per line."""

from __future__ import annotations

import json
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from rich.console import Console
from rich.table import Table

from openlfr.alert_records.models import AlertRecord
from openlfr.config import Settings
from openlfr.demo.setup import DemoState


@dataclass(frozen=True, slots=True)
class StoppedSummary:
    """The demo deployment after the cameras stopped (counts only)."""

    deployment_id: int
    state: str
    planned_end: datetime
    alerts_total: int
    faces_seen: int | None
    end_reason: str | None


class DemoOutput(Protocol):
    def status(self, message: str) -> None: ...

    def ready(self, base: str, state: DemoState, settings: Settings) -> None: ...

    def alert(self, alert: AlertRecord) -> None: ...

    def stopped(self, summary: StoppedSummary, home: Path) -> None: ...


def _cameras(state: DemoState) -> list[dict[str, str]]:
    return [
        {
            "name": "street",
            "shows": f"synthetic street scene, {state.scene.scene.duration_s:.0f} s loop",
        },
        {"name": "intel-street", "shows": "Intel's sample street clip, 11 s loop"},
    ]


class TextOutput:
    """Rich text for a person at a terminal (status lines on stderr, the rest on stdout)."""

    def __init__(self) -> None:
        self._out = Console(highlight=False, soft_wrap=True)
        self._err = Console(stderr=True, highlight=False)
        self._lock = threading.Lock()

    def status(self, message: str) -> None:
        self._err.print(f"[dim]openlfr demo: {message}[/]")

    def ready(self, base: str, state: DemoState, settings: Settings) -> None:
        table = Table(title=None, show_edge=False, pad_edge=False, box=None)
        for column in ("sign in as", "password (this run only)", "authenticator key", "who"):
            table.add_column(column, no_wrap=True)
        for a in state.accounts:
            table.add_row(a.username, a.password, a.totp_key or "—", a.duty)
        how = "reused" if state.reused else "authorised just now"
        with self._lock:
            self._out.print()
            self._out.print(f"[bold green]openlfr demo is running:[/] open [bold]{base}/console/")
            self._out.print(table)
            self._out.print(
                f"Deployment {state.deployment_id} ({how}) is live on two cameras: "
                + "; ".join(f"{c['name']} ({c['shows']})" for c in _cameras(state))
                + ". Sign in as [bold]demo-operator[/] for the alert queue: alerts for the demo "
                "volunteers on the watchlist appear within seconds, side by side with their "
                "watchlist photo; everyone else is forgotten within seconds."
            )
            self._out.print(f"Evidence: {state.evidence}.")
            if any(a.totp_key for a in state.accounts):
                self._out.print(
                    "Accounts with an authenticator key also type a 6-digit code when they "
                    "sign in: add the key to any authenticator app, or print the current "
                    "code with [bold]openlfr user totp-code KEY[/]."
                )
            if state.closed_previous is not None:
                self._out.print(
                    f"The previous demo deployment ({state.closed_previous}) was closed; its "
                    "record is on its page in the console."
                )
            self._out.print(
                f"State: {settings.home} (kept for the next run; 'openlfr demo --reset' starts "
                "afresh). [bold]Ctrl-C[/] stops.\n"
            )

    def alert(self, alert: AlertRecord) -> None:
        with self._lock:
            self._out.print(
                f"{alert.captured_at.astimezone(UTC):%H:%M:%S} alert #{alert.id}: "
                f"{alert.subject_reference} on camera {alert.camera}, score {alert.score:.2f}"
            )

    def stopped(self, summary: StoppedSummary, home: Path) -> None:
        faces = "not recorded" if summary.faces_seen is None else f"{summary.faces_seen}"
        self._out.print(
            f"\nStopped: the cameras of deployment {summary.deployment_id} are off "
            f"({summary.end_reason or 'not started'}); faces seen in this period {faces}, "
            f"alerts so far {summary.alerts_total}."
        )
        if summary.state == "closed":
            self._out.print("The deployment is closed; the next run authorises a new one.")
        else:
            self._out.print(
                f"It stays authorised until {summary.planned_end.astimezone(UTC):%Y-%m-%d %H:%M} "
                "UTC: 'openlfr demo' resumes it. Close it in the console (as demo-officer) to "
                "publish its deployment record."
            )
        self._out.print(
            f"Its record now: OPENLFR_HOME={home} openlfr report deployment "
            f"{summary.deployment_id} --format html --out record.html"
        )


class JsonOutput:
    """One JSON object per line on stdout (``event``: ready, alert, stopped); status on stderr."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def _emit(self, payload: dict[str, Any]) -> None:
        with self._lock:
            sys.stdout.write(json.dumps(payload, default=str) + "\n")
            sys.stdout.flush()

    def status(self, message: str) -> None:
        sys.stderr.write(f"openlfr demo: {message}\n")
        sys.stderr.flush()

    def ready(self, base: str, state: DemoState, settings: Settings) -> None:
        self._emit(
            {
                "event": "ready",
                "url": base,
                "console": f"{base}/console/",
                "deployment_id": state.deployment_id,
                "reused": state.reused,
                "closed_previous": state.closed_previous,
                "evidence": state.evidence,
                "home": str(settings.home),
                "cameras": _cameras(state),
                "listed_walkers": state.scene.scene.listed_walkers(),
                "accounts": [
                    {
                        "username": a.username,
                        "password": a.password,
                        "role": a.role.value,
                        "totp_key": a.totp_key,
                    }
                    for a in state.accounts
                ],
            }
        )

    def alert(self, alert: AlertRecord) -> None:
        self._emit(
            {
                "event": "alert",
                "id": alert.id,
                "deployment_id": alert.deployment_id,
                "camera": alert.camera,
                "subject_reference": alert.subject_reference,
                "score": round(alert.score, 4),
                "captured_at": alert.captured_at.isoformat(),
            }
        )

    def stopped(self, summary: StoppedSummary, home: Path) -> None:
        self._emit(
            {
                "event": "stopped",
                "deployment_id": summary.deployment_id,
                "state": summary.state,
                "alerts_total": summary.alerts_total,
                "faces_seen": summary.faces_seen,
                "end_reason": summary.end_reason,
                "home": str(home),
            }
        )
