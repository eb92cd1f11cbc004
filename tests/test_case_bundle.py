"""A submission's bundle: listed, described, downloaded (a disclosure); its PDF a set of real forms in a
Unicode font; its case.json valid against docs/case-bundle.schema.json."""
from __future__ import annotations

import hashlib
import io
import json
import unicodedata
import uuid
import zipfile
from pathlib import Path

import boto3
import jsonschema
import pypdfium2
import pytest
import requests
from pypdf import PdfReader

from app.cases import bundle as bundles
from app.db import TenantContext, tenant_context
from app.documents.storage import S3Storage
from tests.conftest import moto_server, unique_name
from tests.test_cases import shoplifting
from tests.test_documents import principal_of

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "docs" / "case-bundle.schema.json").read_text())
NAMES = [("Łukasz", "Wiśniewski"), ("Siobhán", "Ní Bhriain"), ("Llŷr", "Rhys-Owen"), ("Дмитрий", "Иванов")]
SUMMARY = ("At 14:05 on Saturday the defendant entered the Co-op on Quay Street, took two bottles of gin from the "
           "spirits aisle, concealed them in a rucksack and left without paying; the store detective followed, "
           "identified herself and recovered the bottles, and the defendant admitted the theft in interview. " * 6)


def _text(pdf_bytes: bytes) -> str:
    """The PDF's text with every run of whitespace made one space (wrapped lines joined)."""
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf_bytes)).pages)


def _submitted(north, people=NAMES, witnesses=()):
    inv, suspect, _ = shoplifting(north)
    for role, names in (("suspect", people), ("witness", witnesses)):
        for forenames, surname in names:
            person = north.post("/api/v1/people?confirm_new=true", json={
                "forenames": forenames, "surname": surname, "sex": "male", "date_of_birth": "1988-07-14"}).get_json()
            added = north.post(f"/api/v1/investigations/{inv['id']}/people",
                               json={"person_id": person["id"], "role": role})
            assert added.status_code in (200, 201), added.get_json()
    case = north.post("/api/v1/cases", json={"investigation_id": inv["id"]}).get_json()
    north.patch(f"/api/v1/cases/{case['id']}", headers={"If-Match": '"1"'},
                json={"anticipated_plea": "GAP", "forms": {"MG5": {"summary": SUMMARY}}})
    sent = north.post(f"/api/v1/cases/{case['id']}/submissions", json={"stage": "first_hearing"})
    assert sent.status_code == 201, sent.get_json()
    return case, sent.get_json()


def test_submissions_are_listed_described_and_downloaded_as_a_disclosure(north, south, as_user):
    case, submission = _submitted(north, people=[])
    base = f"/api/v1/cases/{case['id']}/submissions"
    listed = north.get(base).get_json()["items"]
    assert [s["id"] for s in listed] == [submission["id"]]
    assert north.get(f"{base}/{submission['id']}").get_json() == submission
    download = north.get(f"{base}/{submission['id']}/bundle")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert download.headers["ETag"] == f'"{submission["bundle_sha256"]}"'
    with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
        assert {"case.json", "mg-forms.pdf"} <= set(archive.namelist())
    url = north.get(f"{base}/{submission['id']}/bundle-url").get_json()
    assert url["url"].endswith(f"/submissions/{submission['id']}/bundle") and url["expires_in"] == 0
    events = as_user("northshire", "auditor").get(f"/api/v1/audit?record_id={case['id']}").get_json()["items"]
    downloads = [e for e in events if e["action"] == "disclosure" and "via" in (e.get("details") or {})]
    assert {e["details"]["via"] for e in downloads} == {"stream"}
    assert north.get(f"{base}/{uuid.uuid4()}").status_code == 404
    assert north.get(f"{base}/{uuid.uuid4()}/bundle").status_code == 404
    for path in (base, f"{base}/{submission['id']}", f"{base}/{submission['id']}/bundle"):
        assert south.get(path).status_code == 404  # another force's submissions stay with it


def test_the_pdf_prints_every_name_charge_and_the_whole_summary_exactly(north):
    case, submission = _submitted(north)
    download = north.get(f"/api/v1/cases/{case['id']}/submissions/{submission['id']}/bundle")
    with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
        snapshot = json.loads(archive.read("case.json"))
        pdf_bytes = archive.read("mg-forms.pdf")
    text = _text(pdf_bytes)
    for forenames, surname in NAMES:
        assert f"{forenames} {surname}" in text
    assert "1988-07-14" in text and snapshot["urn"] and snapshot["urn"] in text
    for charge in snapshot["forms"]["MG4"]["charges"]:
        assert " ".join(charge["wording"].split()) in text
    assert " ".join(SUMMARY.split()) in text
    reader = PdfReader(io.BytesIO(pdf_bytes))
    for number, page in enumerate(reader.pages, 1):
        page_text = page.extract_text()
        assert snapshot["urn"] in page_text and f"Page {number} of {len(reader.pages)}" in page_text
        assert page_text.count(snapshot["classification"]) >= 2  # header and footer
    assert "Declaration" in text


def _words(text: str) -> str:
    """Text as compared: NFKC (a shaped Arabic letter's presentation form is the letter), control characters
    dropped (fpdf2 maps some of HarfBuzz's zero-width joining glyphs to them), whitespace runs made one space."""
    text = "".join(c for c in unicodedata.normalize("NFKC", text) if unicodedata.category(c) != "Cc")
    return " ".join(text.split())


def test_the_pdf_prints_arabic_chinese_and_korean_names_exactly(north):
    arabic, chinese, korean = ("محمد", "عبد الله"), ("小明", "王"), ("민준", "김")
    case, submission = _submitted(north, people=[arabic, chinese], witnesses=[korean, ("Фатима", "Алиева")])
    download = north.get(f"/api/v1/cases/{case['id']}/submissions/{submission['id']}/bundle")
    with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
        text = _words(_text(archive.read("mg-forms.pdf")))
    for forenames, surname in (chinese, korean, ("Фатима", "Алиева")):
        assert f"{forenames} {surname}" in text  # left to right: extracted as written, letter for letter
    # Arabic is laid right to left, so a left-to-right extractor reads the name's words last to first; each word
    # comes back whole and in its own letters' order (shaped, joined glyphs mapped back to their letters).
    assert " ".join(reversed(f"{arabic[0]} {arabic[1]}".split())) in text


def test_a_page_of_the_pdf_renders_to_an_image_that_is_not_blank():
    forms = {"MG1": {"urn": "01YE0123456", "defendants": [{"forenames": "Łukasz", "surname": "Wiśniewski"}]},
             "MG5": {"summary": SUMMARY}}
    pdf_bytes = bundles.pdf.render(forms, urn="01YE0123456", marking="OFFICIAL-SENSITIVE", version=1)
    page = pypdfium2.PdfDocument(pdf_bytes)[0]
    image = page.render(scale=1).to_pil().convert("L")
    dark = sum(image.histogram()[:128])
    assert image.size[0] > 500 and dark > 1000


def test_case_json_is_valid_against_its_published_schema(north):
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    case, submission = _submitted(north, people=[("Siobhán", unique_name("Ní"))])
    download = north.get(f"/api/v1/cases/{case['id']}/submissions/{submission['id']}/bundle")
    with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
        snapshot = json.loads(archive.read("case.json"))
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(snapshot)
    assert snapshot["version"] == submission["case_version"] and snapshot["case_id"] == case["id"]


@pytest.fixture(scope="module")
def s3():
    """S3 over real HTTP (moto's server); a bucket of its own, since moto's state is one per process."""
    with moto_server() as endpoint:
        kwargs = {"endpoint_url": endpoint, "region_name": "eu-west-2", "aws_access_key_id": "test",
                  "aws_secret_access_key": "test"}
        client = boto3.client("s3", **kwargs)
        key_id = boto3.client("kms", **kwargs).create_key(Description="northshire bundles")["KeyMetadata"]["KeyId"]
        client.create_bucket(Bucket="concord-bundles", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
        yield S3Storage(client, "concord-bundles", "northshire", key_id)


def test_a_bundle_on_s3_is_fetched_by_a_short_lived_url_audited_as_a_disclosure(services, north, s3):
    case, submission = _submitted(north, people=[])
    data = north.get(f"/api/v1/cases/{case['id']}/submissions/{submission['id']}/bundle").data
    digest = submission["bundle_sha256"]
    s3.put(f"sha256/{digest[:2]}/{digest}", data, "application/zip")  # as submit() writes it on S3
    tenant, principal = principal_of(services)
    session = services.databases.session(tenant)
    with tenant_context(TenantContext(tenant.id, "pc-101")):
        found, url = bundles.download_url(session, principal, lambda _: s3, uuid.UUID(case["id"]),
                                          uuid.UUID(submission["id"]))
    session.close()
    assert url is not None and "X-Amz-Signature" in url and "X-Amz-Expires=300" in url
    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200 and hashlib.sha256(fetched.content).hexdigest() == digest
    assert ".zip" in fetched.headers["Content-Disposition"]
