"""schemathesis against the app's own OpenAPI document, as an administrator and as an operator.

Every operation goes through schemathesis's phases (its examples, coverage of boundary
values and fuzzing) within a bounded budget: a fixed seed and a few dozen examples per
operation, so that the run fits in CI. A server error, or a response its operation does
not document (status, content type, body schema, headers), fails the test.

It drives schemathesis's own runner (the one its command line uses) on the app in-process:
the runner counts requests and reports each check. Its pytest plugin's lazy loader
(``schemathesis.pytest.from_fixture``) does not run under pytest 9.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.engine import events
from sqlalchemy import select

import openlfr.demokit
from openlfr.api.testing import Api, live_scenario
from openlfr.users.models import ApiToken, User
from openlfr.users.roles import Role

KIT = Path(openlfr.demokit.__file__).parent / "images"
MAX_EXAMPLES = 20
SEED = 11
# An endless server-sent event stream: a request to it never ends by itself.
EXCLUDED = {"/api/v1/alerts/stream"}
# Schema-valid requests these operations refuse (422) by rules no JSON schema can state.
REFUSED_BY_RULE = {
    "POST /api/v1/users": "the password policy (zxcvbn strength, not the username)",
    "PATCH /api/v1/users/{user_id}": "the password policy; an account keeps its kind",
    "POST /api/v1/auth/me/password": "the password policy; the current password must match",
    "POST /api/v1/calibrations": "a calibration document must be internally consistent",
    "POST /api/v1/deployments": "dates in order, a watchlist and calibration that fit",
    "POST /api/v1/subscriptions": "a webhook URL is http(s), which JSON schema's 'uri' is not",
    "POST /api/v1/alerts/{alert_id}/adjudication": "only an engagement has (and needs) an outcome",
    "POST /api/v1/subjects/{subject_id}/images": "the quality gate: photos must show a face",
    "POST /api/v1/watchlists/{watchlist_id}/subjects": "the quality gate, offence categories",
}


class FuzzedApp:
    """The app as schemathesis reaches it, with ``role``'s credential kept working.

    The test's own client already runs the app's lifespan, so this one declines it. Fuzzing
    an administrator's routes disables accounts, changes roles and revokes tokens, its
    own among them: before each request the role's service account and token are put back.
    """

    def __init__(self, api: Api, role: Role) -> None:
        self.api = api
        self.role = role

    def _restore(self) -> None:
        uid = self.api.service_ids[self.role]
        with self.api.plane.database.session() as db:
            user = db.get(User, uid)
            assert user is not None
            user.role, user.active = self.role.value, True
            for token in db.execute(select(ApiToken).where(ApiToken.user_id == uid)).scalars():
                token.revoked_at = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            raise RuntimeError("the test client runs the lifespan")
        if scope["type"] == "http":
            self._restore()
        await self.api.app(scope, receive, send)


@dataclass
class Outcome:
    """What one run made and found."""

    operations: set[str] = field(default_factory=set)
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    refused_by_rule: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)


def fuzz(api: Api, role: Role) -> Outcome:
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "headers": {"Authorization": f"Bearer {api.tokens[role]}"},
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            "phases": {"stateful": {"enabled": False}},
        }
    )
    loaded = schemathesis.openapi.from_asgi("/openapi.json", FuzzedApp(api, role), config=config)
    schema = loaded.exclude(path=sorted(EXCLUDED))
    outcome = Outcome()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.label:
            outcome.operations.add(event.label)
            for interaction in event.recorder.interactions.values():
                outcome.requests += 1
                if interaction.response is not None:
                    outcome.statuses[interaction.response.status_code] += 1
            for case_id, checks in event.recorder.checks.items():
                found = event.recorder.interactions.get(case_id)
                status = found.response.status_code if found and found.response else None
                for check in checks:
                    if check.failure_info is None:
                        continue
                    if (
                        check.name == "positive_data_acceptance"
                        and status == 422
                        and event.label in REFUSED_BY_RULE
                    ):
                        outcome.refused_by_rule.add(event.label)
                    else:
                        failure = check.failure_info.failure
                        outcome.failures.append(
                            f"{event.label} {check.name}: {failure.title} ({status})"
                        )
        elif isinstance(event, events.NonFatalError):
            outcome.errors.append(f"{event.label}: {event.info}")
        elif isinstance(event, events.FatalError):
            outcome.errors.append(f"fatal: {event.exception}")
    return outcome


@pytest.fixture(scope="module")
def seeded(shared_api: Api) -> Api:
    """Something to find behind the ids: a live deployment with an enrolled subject."""
    live_scenario(shared_api, sorted(KIT.glob("*.jpg"))[:1])
    return shared_api


@pytest.mark.slow
@pytest.mark.parametrize("role", [Role.ADMIN, Role.OPERATOR])
def test_openapi_fuzz_finds_no_server_error_or_undocumented_response(
    seeded: Api, role: Role
) -> None:
    outcome = fuzz(seeded, role)
    print(
        f"\n{role.value}: {len(outcome.operations)} operations, {outcome.requests} requests, "
        f"statuses {dict(sorted(outcome.statuses.items()))}; refused by rule: "
        f"{sorted(outcome.refused_by_rule)}"
    )
    assert not outcome.errors
    assert not [s for s in outcome.statuses if s >= 500]
    assert not outcome.failures, "\n".join(sorted(set(outcome.failures)))
