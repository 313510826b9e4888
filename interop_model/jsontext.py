"""JSON text in, Python values out: every way the text can be wrong becomes one worded problem.

``json.loads`` raises three unrelated exceptions for text from outside: ``JSONDecodeError``
(with line and column), ``UnicodeDecodeError`` for bytes that are not UTF-8, and
``RecursionError`` for arrays or objects nested deeper than the interpreter's recursion
limit (``"[" * 100000`` is 100 kB). Callers that take documents from users read them here,
so that none of the three reaches a user as a traceback or a server error.
"""

from __future__ import annotations

import json

from interop_model.errors import InvalidJson


def parse_json(text: str | bytes) -> object:
    """Parse JSON ``text`` (UTF-8 when bytes).

    :raises InvalidJson: naming the line and column of a syntax error, the bad UTF-8, or the
        nesting too deep to read (the interpreter's recursion limit, about 900 levels; run
        documents and guidelines nest fewer than ten).
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidJson(f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except UnicodeDecodeError as exc:
        raise InvalidJson(f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    except RecursionError:
        raise InvalidJson(
            "nested too deeply to be read (a run document or guideline nests fewer than ten levels)"
        ) from None
