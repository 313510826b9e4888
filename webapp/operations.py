"""What operators watch: health and readiness probes, Prometheus metrics, structured request logs.

* ``GET /healthz``: the process is up and serving (no database access);
* ``GET /readyz``: the database answers and its schema is at the code's revision (one query);
* ``GET /metrics``: Prometheus text format: requests by endpoint, method and status with their
  latencies, uploads accepted and refused, database connections in use. Under gunicorn,
  ``tcup-server serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` so that every worker's figures are
  summed (prometheus-client's multiprocess mode);
* one JSON log line per request on the ``tcup.requests`` logger, with a request id (taken from
  a well-formed ``X-Request-ID`` header, else made up, and sent back in that header). The line
  holds the method, the path without its query string, the status, the time taken and the
  client address; never a header, a cookie, a token or a body.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from webapp import sessions
from webapp.errors import error_response
from webapp.store.database import readiness_problem, watch_pool

REQUEST_ID_HEADER = "X-Request-ID"
_GOOD_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
UPLOAD_ENDPOINTS = {"upload_result": "v1", "upload_run": "v2"}  # view function -> API
UNMATCHED = "<unmatched>"  # the endpoint label of requests no route matched (bounded label values)
request_log = logging.getLogger("tcup.requests")


@dataclass
class Metrics:
    """The app's metrics, in their own registry (so tests can build many apps in one process)."""

    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    uploads: Counter
    pool_in_use: Gauge


def _make_metrics() -> Metrics:
    shared = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if shared:  # multiprocess mode writes each metric to a file there from its creation on
        os.makedirs(shared, exist_ok=True)
    registry = CollectorRegistry(auto_describe=True)
    return Metrics(
        registry=registry,
        requests=Counter(
            "tcup_http_requests",
            "HTTP requests answered, by endpoint (the route's pattern), method and status",
            ["endpoint", "method", "status"],
            registry=registry,
        ),
        latency=Histogram(
            "tcup_http_request_duration_seconds",
            "Time to answer a request, by endpoint, method and status",
            ["endpoint", "method", "status"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=registry,
        ),
        uploads=Counter(
            "tcup_uploads",
            "Uploads of runs, by API (v1, v2) and outcome (accepted, refused)",
            ["api", "outcome"],
            registry=registry,
        ),
        pool_in_use=Gauge(
            "tcup_db_connections_in_use",
            "Database connections checked out of the pool(s) now",
            registry=registry,
            multiprocess_mode="livesum",
        ),
    )


def metrics(app: Flask | None = None) -> Metrics:
    """The :class:`Metrics` of ``app`` (default: the current app)."""
    return (app or current_app).extensions["tcup_metrics"]  # type: ignore[no-any-return]


def register(app: Flask) -> None:
    """Add the probes, ``/metrics``, the request ids and the request log to ``app``."""
    found = _make_metrics()
    app.extensions["tcup_metrics"] = found
    watch_pool(sessions.database(app).engine, found.pool_in_use.inc, found.pool_in_use.dec)
    app.add_url_rule("/healthz", "healthz", healthz)
    app.add_url_rule("/readyz", "readyz", readyz)
    app.add_url_rule("/metrics", "metrics", metrics_page)
    app.before_request(_start_request)
    app.after_request(_finish_request)
    if app.config["REQUEST_LOG"] and not request_log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        request_log.addHandler(handler)
        request_log.setLevel(logging.INFO)
        request_log.propagate = False


def healthz() -> Response:
    """The process is up: no database access, so a slow database never restarts a healthy process."""
    return Response('{"status": "ok"}\n', mimetype="application/json")


def readyz() -> Response:
    """The database answers and is migrated to the code's revision; else 503 saying which."""
    problem = readiness_problem(sessions.database().engine)
    if problem is not None:
        return error_response(503, [problem], title="Not ready")
    return Response('{"status": "ready"}\n', mimetype="application/json")


def metrics_page() -> Response:
    """Every metric, in Prometheus' text format (summed over gunicorn's workers in multiprocess mode)."""
    registry = metrics().registry
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def _start_request() -> None:
    g.tcup_started = time.perf_counter()
    given = request.headers.get(REQUEST_ID_HEADER, "")
    g.tcup_request_id = given if _GOOD_REQUEST_ID.match(given) else uuid.uuid4().hex


def _finish_request(response: Response) -> Response:
    elapsed = time.perf_counter() - g.get("tcup_started", time.perf_counter())
    request_id = g.get("tcup_request_id") or uuid.uuid4().hex
    response.headers[REQUEST_ID_HEADER] = request_id
    endpoint = request.url_rule.rule if request.url_rule is not None else UNMATCHED
    status = str(response.status_code)
    found = metrics()
    if request.endpoint != "metrics":
        found.requests.labels(endpoint, request.method, status).inc()
        found.latency.labels(endpoint, request.method, status).observe(elapsed)
    view = (request.endpoint or "").rpartition(".")[2]
    if request.method == "POST" and view in UPLOAD_ENDPOINTS:
        outcome = "accepted" if response.status_code < 300 else "refused"
        found.uploads.labels(UPLOAD_ENDPOINTS[view], outcome).inc()
    if current_app.config["REQUEST_LOG"] and request.endpoint not in ("healthz", "readyz", "metrics"):
        request_log.info(json.dumps(_log_record(request_id, endpoint, response.status_code, elapsed)))
    return response


def _log_record(request_id: str, endpoint: str, status: int, elapsed: float) -> dict[str, Any]:
    return {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "request_id": request_id,
        "method": request.method,
        "path": request.path,  # NOTE: never the query string, the headers or the body
        "endpoint": endpoint,
        "status": status,
        "duration_ms": round(elapsed * 1000, 1),
        "bytes_in": request.content_length or 0,
        "remote": request.remote_addr,
        "pid": os.getpid(),
    }


__all__ = ["REQUEST_ID_HEADER", "Metrics", "healthz", "metrics", "metrics_page", "readyz", "register"]
