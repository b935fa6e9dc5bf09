# Teller collector image: the server engine (a ClickHouse server via TELLER_CLICKHOUSE_URL).
# The embedded engine is left out: chdb adds ~550 MB, and a container is replaced, scaled and
# restarted independently of its data, which is what a ClickHouse server is for.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/teller
COPY pyproject.toml README.md ./
COPY teller ./teller
COPY collector ./collector
COPY dashboard ./dashboard
COPY storage ./storage
COPY schemas ./schemas
# A regular (non-editable) install; the schemas travel as package data.
RUN /opt/teller/bin/pip install .

FROM python:3.11-slim-bookworm
ENV PATH=/opt/teller/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    TELLER_HOST=0.0.0.0 \
    TELLER_PORT=8000 \
    TELLER_DATA_DIR=/var/lib/teller \
    TELLER_CLICKHOUSE_URL=clickhouse://default:@clickhouse:9000/default
RUN groupadd --system --gid 10001 teller \
    && useradd --system --uid 10001 --gid teller --home-dir /var/lib/teller --shell /usr/sbin/nologin teller \
    && mkdir -p /var/lib/teller \
    && chown teller:teller /var/lib/teller
COPY --from=build /opt/teller /opt/teller
USER 10001:10001
WORKDIR /var/lib/teller
VOLUME ["/var/lib/teller"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('TELLER_PORT', '8000') + '/healthz', timeout=2)"]
ENTRYPOINT ["teller"]
CMD ["serve"]
