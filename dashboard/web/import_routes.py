"""Imports and exports of a site for admins: upload a Plausible export (with progress), list, delete, download.

The upload is the zip itself as the request body (not a multipart form), so its size is checked while it
streams to a temporary file, before anything parses it; the import then runs in a thread and the page
polls its progress. Progress is kept in the database (storage/import_progress.py), so a poll that
reaches another serving process than the one running the import sees it too.
"""

import datetime as dt
import tempfile
import threading
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse

from dashboard.json_response import json_error, json_response
from dashboard.plausible_export import archive_name, export_range, write_export
from dashboard.web.context import Web
from dashboard.web.i18n import _
from dashboard.web.render import html
from storage.import_progress import ImportProgress
from storage.imported import delete_import, list_imports
from storage.plausible_import import ImportRefused, import_plausible_zip
from storage.store import StoreError
from storage.users import User

MAX_UPLOAD_BYTES = 256 * 1024 * 1024


def build_import_router(web: Web) -> APIRouter:
    """Routes under /sites/<domain>/imports and /sites/<domain>/plausible-export.zip, for admins only."""
    router = APIRouter(include_in_schema=False)
    Admin = Annotated[User, Depends(web.admin)]
    FormAdmin = Annotated[User, Depends(web.form_admin)]
    jobs = ImportProgress(web.store)

    @router.get("/sites/{domain}/imports")
    def imports_page(request: Request, domain: str, user: Admin) -> Response:
        site = web.site(domain)
        records = list_imports(web.store, site.domain)
        context = web.page_context(request, user)
        return html(web.env, "imports.html", 200, **context, site=site, imports=records, max_mb=MAX_UPLOAD_BYTES >> 20)

    @router.post("/sites/{domain}/imports")
    async def upload(request: Request, domain: str, user: Admin) -> Response:
        site = web.site(domain)
        web.check_form(request, request.headers.get("x-csrf-token", ""))
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_UPLOAD_BYTES):
            return json_error(413, _("the file is larger than %(size)s MiB", size=MAX_UPLOAD_BYTES >> 20))
        spool = tempfile.TemporaryFile()  # noqa: SIM115 - the import thread closes it
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                spool.close()
                return json_error(413, _("the file is larger than %(size)s MiB", size=MAX_UPLOAD_BYTES >> 20))
            spool.write(chunk)
        if not size:
            spool.close()
            return json_error(400, _("no file was sent"))
        spool.seek(0)
        name = request.headers.get("x-file-name", "upload.zip")[:200]
        job = jobs.start(site.domain, 0)

        def run() -> None:
            try:
                result = import_plausible_zip(
                    web.store, site.domain, spool, name, lambda done, total: jobs.update(job, done=done, total=total)
                )
                jobs.update(job, state="done", rows=result.total_rows)
            except ImportRefused as error:
                jobs.update(job, state="failed", error=str(error), status=error.status)
            except StoreError as error:
                jobs.update(job, state="failed", error=f"the database refused the import: {error}", status=503)
            finally:
                spool.close()

        threading.Thread(target=run, name=f"import-{job}", daemon=True).start()
        return json_response(202, {"job": job, "progress": f"/sites/{site.domain}/imports/progress/{job}"})

    @router.get("/sites/{domain}/imports/progress/{job}")
    def progress(domain: str, job: str, user: Admin) -> Response:
        site = web.site(domain)
        found = jobs.get(site.domain, job[:100])
        if found is None:
            return json_error(404, _("no such import"))
        return json_response(200, found)

    @router.post("/sites/{domain}/imports/delete")
    def delete(request: Request, domain: str, user: FormAdmin, import_id: Annotated[int, Form()] = 0) -> Response:
        site = web.site(domain)
        delete_import(web.store, site.domain, import_id)
        return RedirectResponse(f"/sites/{site.domain}/imports", status_code=303)

    @router.get("/sites/{domain}/plausible-export.zip")
    def download(domain: str, user: Admin) -> Response:
        site = web.site(domain)
        first, last = export_range(web.store, site.domain, site.timezone)
        spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115 - the response closes it
        try:
            write_export(web.store, site.domain, site.timezone, first, last, spool)
        except StoreError:
            spool.close()
            return json_error(503, _("the database could not answer"))
        spool.seek(0)
        name = archive_name(site.domain, dt.date.today())
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        return StreamingResponse(_chunks(spool), media_type="application/zip", headers=headers)

    return router


def _chunks(spool: Any) -> Any:
    """A file's bytes in 64 kB pieces, closing it at the end."""
    try:
        while chunk := spool.read(1 << 16):
            yield chunk
    finally:
        spool.close()
