"""A document's file name is shown to every officer who opens the record: it must not be able to lie about itself;
nor may its content type be anything but a media type, since it is served back as one."""
from __future__ import annotations

import io

import pytest
from werkzeug.datastructures import FileStorage


@pytest.mark.parametrize("filename", ["invoice\u202efdp.exe", "photo\u2067gpj.scr\u2069", "statement\u202dx.txt"])
def test_an_upload_named_with_a_direction_override_is_422_naming_the_file(north, filename):
    """U+202E makes 'invoice\u202efdp.exe' read 'invoiceexe.pdf': people's names refuse these characters
    (app/people/identifiers.py CONTROLS); documents' names let them through to the console and Content-Disposition."""
    person = north.create_person()
    answer = north.post("/api/v1/documents", content_type="multipart/form-data", data={
        "record_type": "person", "record_id": person["id"],
        "file": FileStorage(io.BytesIO(b"MZ"), filename=filename, content_type="application/pdf")})
    assert answer.status_code == 422, answer.get_json()
    assert "file" in answer.get_json()["errors"]


@pytest.mark.parametrize("media_type", ["text/" + "x" * 5000, "pdf", "application/", "text/pl ain"])
def test_an_upload_whose_content_type_is_not_a_media_type_is_422_naming_the_file(north, media_type):
    person = north.create_person()
    answer = north.post("/api/v1/documents", content_type="multipart/form-data", data={
        "record_type": "person", "record_id": person["id"],
        "file": FileStorage(io.BytesIO(b"%PDF-1.7"), filename="statement.pdf", content_type=media_type)})
    assert answer.status_code == 422, answer.get_json()
    assert "file" in answer.get_json()["errors"]
