"""Saved segments: any user of a site saves the view's filters under a name; its creator or an admin deletes it."""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import QueryParams

from dashboard.web.context import Denied, Web
from dashboard.web.i18n import _
from dashboard.web.view_state import parse_state
from storage.segments import create_segment, delete_segment, list_segments
from storage.users import User

MAX_VIEW_QUERY = 50_000


def build_segment_router(web: Web) -> APIRouter:
    """Form posts under /sites/<domain>/segments."""
    router = APIRouter(include_in_schema=False)
    FormReader = Annotated[User, Depends(web.form_reader)]

    @router.post("/sites/{domain}/segments")
    def save(
        request: Request,
        domain: str,
        user: FormReader,
        name: Annotated[str, Form(max_length=200)] = "",
        view: Annotated[str, Form(max_length=MAX_VIEW_QUERY)] = "",
    ) -> Response:
        site = web.site(domain)
        state = parse_state(QueryParams(view), site, web.today(site), f"/sites/{site.domain}")
        filters = [[operator, key, list(values)] for operator, key, values in state.all_filters()]
        try:
            create_segment(web.store, site.domain, name, filters, user.email)
        except ValueError as error:
            raise Denied(400, str(error)) from None
        return RedirectResponse(state.url(), status_code=303)

    @router.post("/sites/{domain}/segments/delete")
    def delete(
        request: Request,
        domain: str,
        user: FormReader,
        segment_id: Annotated[str, Form(max_length=100)] = "",
        view: Annotated[str, Form(max_length=MAX_VIEW_QUERY)] = "",
    ) -> Response:
        site = web.site(domain)
        found = [segment for segment in list_segments(web.store, site.domain) if segment.id == segment_id]
        if not found:
            raise Denied(404, _("There is no such segment."))
        if not (user.is_admin or user.email == found[0].created_by):
            raise Denied(403, _("Only its creator or an admin may delete a segment."))
        delete_segment(web.store, found[0])
        query = urlencode(list(QueryParams(view).multi_items()))
        return RedirectResponse(f"/sites/{site.domain}" + (f"?{query}" if query else ""), status_code=303)

    return router
