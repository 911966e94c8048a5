"""One error body for every failure, and the handlers that map exceptions to it."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from openlfr.privacy.crypto import DecryptionError
from openlfr.storage.blobs import BlobNotFound
from openlfr.storage.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyAttempts,
    Unauthorised,
    Unavailable,
)
from openlfr.users.service import LoginFailed
from openlfr.watchlist_records.enrolment import EnrolmentRefused

log = logging.getLogger(__name__)


class FieldError(BaseModel):
    field: str = Field(description="Where: 'body.threshold', 'query.limit', 'path.alert_id'.")
    message: str


class ImageRejection(BaseModel):
    image: str
    reason: str = Field(description="Stable code, e.g. 'no_face', 'face_too_small'.")
    message: str = Field(description="What to do about it.")


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, machine-readable error code.")
    message: str
    fields: list[FieldError] = Field(default_factory=list)
    rejections: list[ImageRejection] = Field(default_factory=list)


class ErrorBody(BaseModel):
    """Every non-2xx response has this shape."""

    error: ErrorDetail


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    fields: list[FieldError] | None = None,
    rejections: list[ImageRejection] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(
        error=ErrorDetail(
            code=code, message=message, fields=fields or [], rejections=rejections or []
        )
    )
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


_STATUS: list[tuple[type[DomainError], int]] = [
    (LoginFailed, 401),
    (Unauthorised, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (EnrolmentRefused, 422),
    (InvalidInput, 422),
    (TooManyAttempts, 429),
    (Unavailable, 503),
]

ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in (
        (400, "Malformed request: a body that cannot be decoded (e.g. not UTF-8)."),
        (401, "No valid credentials."),
        (403, "The caller's role lacks the permission this route declares."),
        (404, "Not found."),
        (409, "Conflicts with the record's state."),
        (413, "The request body is larger than this route accepts (settings: http)."),
        (422, "Invalid input: see fields / rejections."),
        (429, "Too many failed attempts: wait the Retry-After seconds."),
        (503, "Unavailable until an administrator acts (e.g. the audit log's head is missing)."),
    )
}


def _domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = next((s for cls, s in _STATUS if isinstance(exc, cls)), 400)
    fields = []
    if isinstance(exc, InvalidInput) and exc.field:
        fields.append(FieldError(field=f"body.{exc.field}", message=exc.message))
    rejections = []
    if isinstance(exc, EnrolmentRefused):
        rejections = [
            ImageRejection(image=r.source, reason=str(r.reason), message=r.message)
            for r in exc.rejections
        ]
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(exc, TooManyAttempts):
        headers = {"Retry-After": str(int(exc.retry_after_s))}
    return error_response(
        status, exc.code, exc.message, fields=fields, rejections=rejections, headers=headers
    )


def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [
        FieldError(field=".".join(str(p) for p in e.get("loc", ())), message=str(e.get("msg")))
        for e in exc.errors()
    ]
    summary = "; ".join(f"{f.field}: {f.message}" for f in fields[:5])
    return error_response(422, "validation_error", f"invalid request: {summary}", fields=fields)


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
    headers = dict(exc.headers) if exc.headers else {}
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return error_response(
        exc.status_code,
        codes.get(exc.status_code, "http_error"),
        str(exc.detail),
        headers=headers or None,
    )


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette names only the first route's,
    and FastAPI makes one route per method)."""
    methods: set[str] = set()
    for route in request.scope["router"].routes:
        path_regex = getattr(route, "path_regex", None)
        if path_regex is not None and path_regex.match(request.scope["path"]):
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def _out_of_range(request: Request, exc: Exception) -> JSONResponse:
    """A value the database cannot hold that no declared bound caught (every integer and
    text the API takes is bounded and checked before it gets here: this is the backstop)."""
    log.warning("value refused by the database on %s: %s", request.url.path, exc)
    return error_response(
        422, "out_of_range", "a value in the request is out of range for the database"
    )


def _blob_missing(request: Request, exc: Exception) -> JSONResponse:
    return error_response(404, "purged", str(exc))


def _tampered(request: Request, exc: Exception) -> JSONResponse:
    log.error("stored biometric blob failed authentication: %s", exc)
    return error_response(
        500, "integrity_error", "a stored encrypted record failed its integrity check"
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(BlobNotFound, _blob_missing)
    app.add_exception_handler(DecryptionError, _tampered)
    app.add_exception_handler(DataError, _out_of_range)  # PostgreSQL: integer out of range
    app.add_exception_handler(OverflowError, _out_of_range)  # SQLite: beyond 64 bits
