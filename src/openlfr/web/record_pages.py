"""The deployment record in the console: a page, a printable version, and JSON and CSV files.

Anyone who may read deployments may read their records: counts and who
authorised what, never a face. The printable page is the same self-contained
HTML that ``openlfr report deployment --format html`` writes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from openlfr.api.params import RowId
from openlfr.deployments import service as deployments
from openlfr.reports.formats import record_json, records_csv
from openlfr.reports.html import record_body, record_page, style_csp
from openlfr.reports.record import PublishedRecord, build_record
from openlfr.web.access import Page
from openlfr.web.deployment_pages import plane_of
from openlfr.web.guard import Viewer, viewer_of
from openlfr.web.render import render

router = APIRouter()
RecordViewer = Annotated[Viewer, viewer_of(Page.DEPLOYMENTS)]


def _record(request: Request, viewer: Viewer, deployment_id: int) -> PublishedRecord:
    ctx = viewer.caller.ctx
    deployments.get(ctx, deployment_id)  # NotFound → the console's error page
    return build_record(ctx.db, deployment_id, now=plane_of(request).clock.now())


def _download(name: str) -> dict[str, str]:
    return {"content-disposition": f'attachment; filename="{name}"'}


@router.get("/deployments/{deployment_id}/record", response_class=HTMLResponse)
def record_view(request: Request, deployment_id: RowId, viewer: RecordViewer) -> Response:
    record = _record(request, viewer, deployment_id)
    return render(
        request,
        "deployment_record.html",
        viewer,
        title=f"Record of deployment {record.name}",
        r=record,
        body=record_body(record),
    )


@router.get("/deployments/{deployment_id}/record/print", response_class=HTMLResponse)
def record_print(request: Request, deployment_id: RowId, viewer: RecordViewer) -> Response:
    page = record_page(_record(request, viewer, deployment_id))
    # Its own policy: the page's inline style (by hash) and nothing else.
    return HTMLResponse(page, headers={"content-security-policy": style_csp()})


@router.get("/deployments/{deployment_id}/record.json")
def record_json_file(request: Request, deployment_id: RowId, viewer: RecordViewer) -> Response:
    text = record_json(_record(request, viewer, deployment_id))
    return Response(
        text,
        media_type="application/json",
        headers=_download(f"deployment-{deployment_id}-record.json"),
    )


@router.get("/deployments/{deployment_id}/record.csv")
def record_csv_file(request: Request, deployment_id: RowId, viewer: RecordViewer) -> Response:
    text = records_csv([_record(request, viewer, deployment_id)])
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers=_download(f"deployment-{deployment_id}-record.csv"),
    )
