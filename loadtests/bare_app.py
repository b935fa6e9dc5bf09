"""The framework floor: a FastAPI endpoint that reads and decodes the body like Teller, answers 202, does nothing."""

import orjson
from fastapi import FastAPI, Request, Response

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@app.post("/api/event", status_code=202)
async def record_event(request: Request) -> Response:
    """Decode one event and accept it."""
    orjson.loads(await request.body())
    return Response(b"ok", status_code=202, media_type="text/plain")


@app.post("/api/events", status_code=202)
async def record_events(request: Request) -> Response:
    """Decode a batch and accept every event in it."""
    events = orjson.loads(await request.body())
    return Response(orjson.dumps({"accepted": len(events), "dropped": {}, "errors": []}), status_code=202)


@app.get("/healthz")
async def healthz() -> Response:
    """Readiness for the benchmark."""
    return Response(b"ok")
