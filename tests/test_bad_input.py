"""Bad input never gives a 500: what a client sees for hostile JSON, oversized bodies, implausible dates and
unknown query parameters. Each answer is the one JSON error shape, naming the field and the reason."""
from __future__ import annotations

import io
import re
import uuid

import pytest

from app.documents import service as documents_service
from tests.conftest import unique_name

JSON = {"Content-Type": "application/json"}


def person_body(**fields):
    return {"surname": unique_name("Bad"), "forenames": "Input", "sex": "female", **fields}


def assert_error(response, status: int, field: str | None = None, reason: str = ""):
    """The one error shape, with the field named and the reason given."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert {"code", "status", "message", "request_id"} <= set(body), body
    assert body["code"] == status and body["request_id"]
    if field is not None:
        assert field in body.get("errors", {}), body
        assert reason.lower() in " ".join(map(str, body["errors"][field])).lower(), body
    return body


# --- hostile JSON ---------------------------------------------------------------------------------------------

def test_json_nested_a_hundred_thousand_deep_is_400(north):
    deep = "[" * 100_000 + "]" * 100_000
    body = assert_error(north.post("/api/v1/people", data=deep, headers=JSON), 400)
    assert "nested" in body["message"]


def test_json_nested_deeper_than_the_limit_inside_a_field_is_400(north):
    response = north.post("/api/v1/people", data='{"surname": ' + "[" * 50 + "]" * 50 + "}", headers=JSON)
    assert "nested" in assert_error(response, 400)["message"]


def test_an_integer_of_five_thousand_digits_is_422_naming_the_field(north):
    raw = '{"surname": "Digits", "forenames": "Many", "sex": "male", "height_cm": ' + "9" * 5000 + "}"
    assert_error(north.post("/api/v1/people", data=raw, headers=JSON), 422, "height_cm", "digits")


def test_a_huge_integer_deep_in_a_list_is_named_by_its_path(north):
    raw = '{"surname": "Digits", "forenames": "Many", "sex": "male", "other_names": [{"kind": "alias", ' \
          '"surname": ' + "1" * 5000 + "}]}"
    assert_error(north.post("/api/v1/people", data=raw, headers=JSON), 422, "other_names.0.surname", "digits")


def test_a_huge_integer_in_the_query_string_is_422(north):
    assert_error(north.get("/api/v1/people?page=" + "9" * 5000), 422, "page")


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "x\\udc00y"])
def test_a_lone_surrogate_in_a_string_is_422_naming_the_field(north, escape):
    raw = '{"surname": "Lone", "forenames": "' + escape + '", "sex": "male"}'
    assert_error(north.post("/api/v1/people", data=raw, headers=JSON), 422, "forenames", "surrogate")


def test_a_surrogate_pair_is_a_character_and_accepted(north):
    raw = '{"surname": "' + unique_name("Pair") + '", "forenames": "Ann", "marks": "\\ud83d\\ude00", "sex": "male"}'
    response = north.post("/api/v1/people", data=raw, headers=JSON)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["marks"] == "\U0001F600"


def test_a_lone_surrogate_anywhere_in_any_record_is_422(north):
    raw = '{"event_type": "theft", "occurred_at": "2024-01-01T10:00:00+00:00", "summary": "\\ud800"}'
    assert_error(north.post("/api/v1/events", data=raw, headers=JSON), 422, "summary", "surrogate")


def test_a_nul_character_is_422_naming_the_field_in_a_body_or_a_query(north):
    raw = '{"event_type": "theft", "occurred_at": "2024-01-01T10:00:00+00:00", "summary": "a\\u0000b"}'
    assert_error(north.post("/api/v1/events", data=raw, headers=JSON), 422, "summary", "NUL")
    assert_error(north.get("/api/v1/people/search?name=Smith%00"), 422, "name", "NUL")


def test_nan_and_infinity_are_not_json(north):
    raw = '{"surname": "A", "forenames": "B", "sex": "male", "height_cm": NaN}'
    assert_error(north.post("/api/v1/people", data=raw, headers=JSON), 400)


def test_a_number_too_large_for_a_float_is_422(north):
    raw = '{"surname": "A", "forenames": "B", "sex": "male", "height_cm": 1e999}'
    assert_error(north.post("/api/v1/people", data=raw, headers=JSON), 422, "height_cm", "too large")


def test_invalid_utf8_is_400(north):
    assert_error(north.post("/api/v1/people", data=b'{"surname": "\xed\xa0\x80"}', headers=JSON), 400)


# --- body limits ----------------------------------------------------------------------------------------------

class CountingStream(io.RawIOBase):
    """A request body of `size` bytes that counts how much of it the server read."""

    def __init__(self, size: int, prefix: bytes = b""):
        self.size, self.read_bytes, self.prefix = size, 0, prefix

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:  # the test client measures the body this way
        self.read_bytes = {0: offset, 1: self.read_bytes + offset, 2: self.size + offset}[whence]
        return self.read_bytes

    def tell(self) -> int:
        return self.read_bytes

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.size - self.read_bytes)
        start = self.read_bytes
        data = self.prefix[start:start + n]
        buffer[:n] = data + b" " * (n - len(data))
        self.read_bytes += n
        return n


def test_a_json_body_over_the_limit_is_413_before_it_is_read(north, settings):
    stream = CountingStream(settings.max_json_bytes + 1)
    response = north.post("/api/v1/people", input_stream=stream,
                          headers={**JSON, "Content-Length": str(stream.size)})
    body = assert_error(response, 413)
    assert "1 MiB" in body["message"] or str(settings.max_json_bytes) in body["message"]
    assert stream.read_bytes == 0


def test_a_json_body_over_the_limit_without_a_length_is_413_while_streaming(north, settings):
    stream = CountingStream(settings.max_json_bytes * 4)
    # chunked: no Content-Length, the server (gunicorn) ends the stream and says so
    environ = {"wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"}
    response = north.post("/api/v1/people", input_stream=stream, headers=JSON, environ_overrides=environ)
    assert_error(response, 413)
    assert stream.read_bytes <= settings.max_json_bytes + 64 * 1024


def test_a_json_body_just_under_the_limit_is_read(north, settings):
    padding = " " * (settings.max_json_bytes - 200)
    raw = '{"surname": "' + unique_name("Big") + '", "forenames": "Body", "sex": "male"}' + padding
    assert north.post("/api/v1/people", data=raw, headers=JSON).status_code == 201


def test_an_upload_over_its_own_limit_is_413_before_it_is_read(north):
    stream = CountingStream(documents_service.MAX_BYTES + 1024 * 1024)
    response = north.post("/api/v1/documents", input_stream=stream, headers={
        "Content-Type": "multipart/form-data; boundary=x", "Content-Length": str(stream.size)})
    body = assert_error(response, 413)
    assert "50 MiB" in body["message"]
    assert stream.read_bytes == 0


def test_a_chunked_upload_over_its_limit_is_413_while_streaming(north):
    head = b'--x\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'
    stream = CountingStream(documents_service.MAX_BYTES * 2, prefix=head)
    response = north.post("/api/v1/documents", input_stream=stream, headers={
        "Content-Type": "multipart/form-data; boundary=x"},
        environ_overrides={"wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"})
    assert_error(response, 413)
    assert stream.read_bytes <= documents_service.MAX_BYTES + 1024 * 1024


def test_an_upload_larger_than_a_json_body_is_accepted(north):
    person = north.create_person()
    content = b"\x89PNG" + b"x" * (2 * 1024 * 1024)
    response = north.post("/api/v1/documents", content_type="multipart/form-data", data={
        "record_type": "person", "record_id": person["id"], "file": (io.BytesIO(content), "still.png")})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["size"] == len(content)


def test_the_json_limit_is_a_documented_setting(settings):
    from app.config import Settings

    assert Settings().max_json_bytes == 1024 * 1024
    assert Settings.from_env({"CONCORD_MAX_JSON_BYTES": "2048"}).max_json_bytes == 2048


# --- query parameters -----------------------------------------------------------------------------------------

def test_every_get_operation_refuses_an_unknown_query_parameter(app, north_admin):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    checked = []
    for path, operations in spec["paths"].items():
        if "get" not in operations:
            continue
        url = re.sub(r"\{[^}]+\}", lambda m: "tri-shire" if m[0] == "{suite}" else str(uuid.uuid4()), path)
        response = north_admin.get(f"{url}?bogus=1")
        assert_error(response, 422, "bogus", "unknown query parameter")
        checked.append(path)
    assert len(checked) >= 20


def test_an_unknown_query_parameter_beside_known_ones_is_named_with_what_the_operation_takes(north):
    body = assert_error(north.get("/api/v1/people?surname=Smith&colour=blue"), 422, "colour", "surname")
    assert "colour" in body["message"]


def test_an_operation_without_a_query_schema_refuses_any_query_parameter(north_admin):
    response = north_admin.post("/api/v1/sharing/agreements?tenant_id=x", json={})
    assert_error(response, 422, "tenant_id", "takes no query parameters")


def test_every_query_schema_is_strict(app):
    from app.schemas import StrictSchema

    loose = []
    for rule in app.url_map.iter_rules():
        cls = getattr(app.view_functions[rule.endpoint], "view_class", None)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            handler = getattr(cls, method.lower(), None)
            for parameter in getattr(handler, "_apidoc", {}).get("arguments", {}).get("parameters", []):
                schema = parameter["schema"]
                if parameter["in"] == "query" and not issubclass(schema if isinstance(schema, type) else
                                                                 type(schema), StrictSchema):
                    loose.append(f"{method} {rule.rule}")
    assert loose == []


# --- dates ----------------------------------------------------------------------------------------------------

RANGE = "between 1900-01-01 and 2100-12-31"


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+00:00", "0001-01-01T00:00:00+01:00", "1899-12-31T23:59:59Z",
                                    "9999-12-31T23:59:59-01:00"])
def test_an_event_at_an_implausible_moment_is_422_with_the_range(north, moment):
    response = north.post("/api/v1/events", json={"event_type": "theft", "occurred_at": moment})
    assert_error(response, 422, "occurred_at", RANGE)


@pytest.mark.parametrize("born", ["1899-12-31", "1899", "1066-10-14"])
def test_a_date_of_birth_before_1900_is_422_with_the_range(north, born):
    assert_error(north.post("/api/v1/people", json=person_body(date_of_birth=born)), 422, "date_of_birth", RANGE)


def test_dates_past_2100_are_422_in_nested_lists_and_queries(north):
    marker = {"code": "VI", "from_date": "2020-01-01", "review_date": "2101-01-01"}
    response = north.post("/api/v1/people", json=person_body(warning_markers=[marker]))
    body = assert_error(response, 422)
    assert RANGE in str(body["errors"]["warning_markers"])
    assert_error(north.get("/api/v1/people?date_of_birth=1800-01-01"), 422, "date_of_birth", RANGE)


def test_the_audit_trail_cannot_be_asked_for_year_one(as_user):
    auditor = as_user("northshire", "force_admin", user="auditor")
    assert_error(auditor.get("/api/v1/audit?from=0001-01-01T00:00:00%2B00:00"), 422, "from", RANGE)


def test_the_edges_of_the_range_are_accepted(north):
    assert north.post("/api/v1/people", json=person_body(date_of_birth="1900-01-01")).status_code == 201
    event = north.post("/api/v1/events", json={"event_type": "theft", "occurred_at": "1900-01-01T00:00:00Z"})
    assert event.status_code == 201, event.get_json()


def test_every_date_an_input_schema_takes_is_held_to_the_range():
    """Every StrictSchema's date and date-time fields (in lists too), found by walking the subclasses."""
    from marshmallow import ValidationError, fields

    from app.schemas import StrictSchema

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    checked = []
    for schema_class in set(subclasses(StrictSchema)):
        schema = schema_class()
        for name, field in schema.load_fields.items():
            inner = field.inner if isinstance(field, fields.List) else field
            if not isinstance(inner, (fields.Date, fields.DateTime)):
                continue
            value = "0001-01-01" if isinstance(inner, fields.Date) else "0001-01-01T00:00:00+00:00"
            key = field.data_key or name
            with pytest.raises(ValidationError) as refused:
                schema.load({key: [value] if inner is not field else value}, partial=True)
            assert RANGE in str(refused.value.messages.get(key)), (schema_class, key, refused.value.messages)
            checked.append(f"{schema_class.__name__}.{key}")
    assert len(checked) >= 20, checked


def test_a_custody_entry_with_a_first_dose_due_in_year_one_is_422(as_user):
    from tests.custody.test_records import NOW, book, entry

    sergeant = as_user("northshire", "custody_officer", user="ps-custody-1")
    record = book(sergeant)
    response = entry(sergeant, record, "medication", NOW, name="insulin", dose="10u", interval_hours=8,
                     first_due_at="0001-01-01T00:00:00+01:00")
    body = assert_error(response, 422)
    assert RANGE in str(body["errors"]["data"]["first_due_at"])


@pytest.mark.parametrize("filename", ["a\x00b.txt", "a\x07b.txt", "tab\there.txt", "esc\x1b[31m.txt"])
def test_an_upload_named_with_control_characters_is_422_naming_the_file(north, filename):
    person = north.create_person()
    response = north.post("/api/v1/documents", content_type="multipart/form-data", data={
        "record_type": "person", "record_id": person["id"], "file": (io.BytesIO(b"x"), filename)})
    assert_error(response, 422, "file", "control characters")
