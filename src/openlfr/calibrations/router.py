"""Routes for storing and reading calibrations (thin: the service decides)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from openlfr.api.auth import Caller, need
from openlfr.api.params import RowId
from openlfr.calibrations import service
from openlfr.calibrations.models import CalibrationCreate, CalibrationRead
from openlfr.users.roles import Permission as P

router = APIRouter(tags=["calibrations"])
Reader = Annotated[Caller, need(P.DEPLOYMENTS_READ)]
Authoriser = Annotated[Caller, need(P.DEPLOYMENTS_AUTHORISE)]


@router.get("/calibrations", response_model=list[CalibrationRead])
def list_calibrations(caller: Reader) -> list[CalibrationRead]:
    return [CalibrationRead.model_validate(c) for c in service.list_calibrations(caller.ctx)]


@router.post("/calibrations", response_model=CalibrationRead, status_code=201)
def store_calibration(body: CalibrationCreate, caller: Authoriser) -> CalibrationRead:
    """Keep a calibration document ('openlfr calibrate --record FILE') as evidence a
    deployment's threshold can cite; the same document again returns the same record."""
    row = service.store(caller.ctx, body.document, note=body.note)
    return CalibrationRead.model_validate(row)


@router.get("/calibrations/{calibration_id}", response_model=CalibrationRead)
def get_calibration(calibration_id: RowId, caller: Reader) -> CalibrationRead:
    return CalibrationRead.model_validate(service.get(caller.ctx, calibration_id))
