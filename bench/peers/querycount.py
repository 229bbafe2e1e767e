"""The WSGI entry point every server of bench/pages.py runs behind, ours and the baselines alike:
it loads the Django application named by BENCH_WSGI_APPLICATION ("module:attribute") and
answers each request with an `X-Bench-Queries` header, the number of SQL statements the request
ran on the default database. The same counting for all, server-side, under the real load.

With `BENCH_TOTALS_DIR` set, each worker process also keeps its running totals (requests,
SQL statements) in a file of that directory named by its pid: behind a cache that answers some
page views without the origin (Varnish), the origin's share of a page view is the difference of
the totals over the client's page views, counted however many origin requests (the edge's key
lookup, its ESI includes) one page view takes.

Only the standard library and Django are imported, so the baselines' own venv can load it.
"""

from __future__ import annotations

import importlib
import os

from django.db import connection

HEADER = "X-Bench-Queries"


def _load(target: str):
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute or "application")


_application = _load(os.environ["BENCH_WSGI_APPLICATION"])
_totals_dir = os.environ.get("BENCH_TOTALS_DIR", "")
_totals = [0, 0]  # requests, SQL statements: this process's


def _add_to_totals(queries: int) -> None:
    """A few bytes overwritten per request (tens of microseconds): read by the bench."""
    _totals[0] += 1
    _totals[1] += queries
    path = os.path.join(_totals_dir, str(os.getpid()))  # noqa: PTH118
    with open(path, "w") as handle:  # noqa: PTH123
        handle.write(f"{_totals[0]} {_totals[1]}")


def application(environ, start_response):
    """Django's WSGI handler calls `start_response` once the response is built (middleware,
    session save and all), so the count is complete for every non-streaming page."""
    count = 0

    def counter(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    def counted_start_response(status, headers, exc_info=None):
        if _totals_dir:
            _add_to_totals(count)
        return start_response(status, [*headers, (HEADER, str(count))], exc_info)

    with connection.execute_wrapper(counter):
        return _application(environ, counted_start_response)
