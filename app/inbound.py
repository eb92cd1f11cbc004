"""What a request may bring, checked once before any route runs: a body no larger than its route accepts, JSON
that parses into values the database can hold, and a query string of only the parameters the operation
declares (webargs would drop unknown ones silently: it loads query strings with unknown=EXCLUDE).

Every reader of the body (webargs, the idempotency fingerprint) comes later, so none of them meets a body
that failed here: JSON nested past MAX_JSON_DEPTH or not JSON at all is a 400; an integer longer than
MAX_INTEGER_DIGITS, a number too large for a float, a lone UTF-16 surrogate or a NUL character is a 422
naming the field by its path (``other_names.0.surname``), because PostgreSQL could not store it and Python
would fail converting it.
"""
from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from typing import Any, Callable, TypeVar

from flask import Flask, current_app, jsonify, request
from flask_smorest import Blueprint as ApiBlueprint
from werkzeug.exceptions import RequestEntityTooLarge

from app.config import Settings
from app.errors import ApiError, InvalidInput, payload

MAX_JSON_DEPTH = 20  # arrays and objects inside each other; the deepest body Concord takes is 4
MAX_INTEGER_DIGITS = 100  # far above any integer field's range, far below Python's 4,300-digit conversion limit
# How much more than its file a multipart upload may carry: the form fields and the multipart framing.
FORM_ALLOWANCE = 64 * 1024
SURROGATE = re.compile("[\ud800-\udfff]")
LIMIT_ATTRIBUTE = "_concord_body_limit"

F = TypeVar("F", bound=Callable[..., Any])


class Malformed(ApiError):
    """The body is not JSON this API can read (400)."""

    status = 400


class _Unholdable:
    """A number the JSON held that no field can take; named in the 422 with `reason`."""

    def __init__(self, reason: str):
        self.reason = reason


def upload_limit(max_file_bytes: int, what: str = "file") -> Callable[[F], F]:
    """Let a multipart route take a body of one file of up to `max_file_bytes` (plus its form fields)."""

    def decorator(view: F) -> F:
        setattr(view, LIMIT_ATTRIBUTE, (max_file_bytes + FORM_ALLOWANCE, f"a {what} of at most {size(max_file_bytes)}"))
        return view

    return decorator


def size(n: int) -> str:
    """Bytes for a person: 1 MiB, 50 MiB, 2048 bytes."""
    mib = 1024 * 1024
    return f"{n // mib} MiB" if n % mib == 0 else f"{n // 1024} KiB" if n % 1024 == 0 else f"{n} bytes"


def load_json(raw: bytes) -> Any:
    """Parse a JSON body: Malformed (400) unless it is JSON nested at most MAX_JSON_DEPTH deep, InvalidInput
    (422) naming each value that cannot be held."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Malformed(f"Malformed request body: not UTF-8 at byte {exc.start}") from None
    try:
        data = json.loads(text, parse_int=_integer, parse_float=_float, parse_constant=_constant)
    except RecursionError:
        raise Malformed(f"Malformed request body: nested more than {MAX_JSON_DEPTH} deep") from None
    except ValueError as exc:
        raise Malformed(f"Malformed request body: {exc}") from None
    problems = _problems(data, check_text="\\u" in text)  # NUL and surrogates only reach a string escaped
    if problems:
        raise InvalidInput(f"Invalid input: {', '.join(sorted(problems))}", problems)
    return data


def _integer(digits: str) -> Any:
    if len(digits.lstrip("-")) > MAX_INTEGER_DIGITS:
        return _Unholdable(f"an integer of at most {MAX_INTEGER_DIGITS} digits")
    return int(digits)


def _float(literal: str) -> Any:
    value = float(literal)
    return value if math.isfinite(value) else _Unholdable("is too large a number")


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _problems(data: Any, check_text: bool) -> dict[str, list[str]]:
    """Path to reason for every value that cannot be held; Malformed when nested too deep."""
    problems: dict[str, list[str]] = {}
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth >= MAX_JSON_DEPTH:
                raise Malformed(f"Malformed request body: nested more than {MAX_JSON_DEPTH} deep")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if check_text and isinstance(key, str) and text_problem(key):
                    problems.setdefault(path or "json", []).append(f"a field name {text_problem(key)}")
                    continue
                stack.append((item, f"{path}.{key}" if path else str(key), depth + 1))
        elif isinstance(value, _Unholdable):
            problems.setdefault(path or "json", []).append(value.reason)
        elif check_text and isinstance(value, str):
            reason = text_problem(value)
            if reason:
                problems.setdefault(path or "json", []).append(reason)
    return problems


def text_problem(value: str) -> str | None:
    """Why PostgreSQL could not store this text, or None."""
    if "\x00" in value:
        return "must not contain the NUL character (U+0000)"
    if SURROGATE.search(value):
        return "is not valid Unicode: it holds a lone UTF-16 surrogate (U+D800 to U+DFFF)"
    return None


def _handler() -> Callable[..., Any] | None:
    """The function serving this request (a MethodView's method), or None."""
    view = current_app.view_functions.get(request.endpoint or "")
    cls = getattr(view, "view_class", None)
    if cls is None:
        return view
    method = request.method.lower()
    return getattr(cls, method, None) or (getattr(cls, "get", None) if method == "head" else None)


def _limit(settings: Settings) -> tuple[int, str]:
    """(bytes, what for a person) this request's body may be."""
    limit = getattr(_handler(), LIMIT_ATTRIBUTE, None)
    return limit or (settings.max_json_bytes,
                     f"{size(settings.max_json_bytes)} ({settings.max_json_bytes} bytes) of JSON")


def _check_body(settings: Settings) -> None:
    limit, _ = _limit(settings)
    request.max_content_length = limit  # enforced on Content-Length and, for a chunked body, while it streams
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()
    if request.is_json and (request.content_length or request.environ.get("wsgi.input_terminated")):
        raw = request.get_data(cache=True)
        if request.content_length is None and len(raw) >= limit:
            raise RequestEntityTooLarge()  # a chunked body: werkzeug stops reading at the limit without a word
        if raw.strip():
            load_json(raw)


@lru_cache(maxsize=None)  # one entry per operation
def _declared_query(handler: Callable[..., Any] | None) -> frozenset[str]:
    """The query parameters a flask-smorest operation declares (@blp.arguments(..., location="query"))."""
    names: set[str] = set()
    for parameter in getattr(handler, "_apidoc", {}).get("arguments", {}).get("parameters", []):
        if parameter.get("in") == "query":
            schema = parameter["schema"]
            schema = schema() if isinstance(schema, type) else schema
            names |= {f.data_key or name for name, f in schema.fields.items() if not f.dump_only}
    return frozenset(names)


def _check_query() -> None:
    problems: dict[str, list[str]] = {}
    for name, value in request.args.items(multi=True):
        if text_problem(name):
            problems.setdefault("query", []).append(f"a parameter name {text_problem(name)}")
        elif text_problem(value):
            problems.setdefault(name, []).append(str(text_problem(value)))
    blueprint = current_app.blueprints.get(request.blueprint or "")
    if isinstance(blueprint, ApiBlueprint) and request.method != "OPTIONS":
        declared = _declared_query(_handler())
        takes = f"this operation takes {', '.join(sorted(declared))}" if declared else \
            "this operation takes no query parameters"
        for name in request.args:
            if name not in declared and name not in problems:
                problems[name] = [f"unknown query parameter; {takes}"]
    if problems:
        raise InvalidInput(f"Invalid input: {', '.join(sorted(problems))}", problems)


def register(app: Flask, settings: Settings) -> None:
    """Check every request's body and query before its route runs; answer 413 in the one error shape."""
    app.config["MAX_CONTENT_LENGTH"] = settings.max_json_bytes  # the default for anything read before the hook

    @app.before_request
    def _check_input() -> None:
        if request.url_rule is None:
            return
        _check_body(settings)
        _check_query()

    def too_large(error: RequestEntityTooLarge):
        _, what = _limit(settings)
        response = jsonify(payload(413, f"The request body is larger than this operation accepts: {what}"))
        response.status_code = 413
        return response

    app.register_error_handler(RequestEntityTooLarge, too_large)
