"""Benchmark: from a finalised shoplifting investigation to a first-hearing GAP file, submitted.

The investigation is made as scripts/bench/volume_crime.py makes it, charged (not counted). Then the officer:
builds the case file, gives the anticipated plea and the case summary, checks readiness, submits. The
benchmark counts the API calls and every field the officer typed that Concord already held (a typed value
equal to one the pre-filled file already carried).

Target (issue 7): no field typed that the system knew; <= 10 calls.

Then (issue 15) the PDF of the MG forms for a 3-defendant, 8-witness, 20-exhibit file, rendered in-process
as submit() renders it (names in Polish, Irish, Welsh and Cyrillic; a long MG5 summary). Target: under 1 s.

    .venv/bin/python scripts/bench/case_file.py [--cases 20] [--pdf-only] [--pdf-runs 10]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts" / "bench"))

import bench_support  # noqa: E402
import volume_crime  # noqa: E402
from app import embedded  # noqa: E402
from app.auth import dev_idp  # noqa: E402

TYPED = {"anticipated_plea": "GAP",
         "forms": {"MG5": {"summary": "Seen on CCTV taking two bottles of gin; admitted in interview."}}}


def known_values(forms: dict) -> set[str]:
    """Every scalar the pre-filled file already carries."""
    out: set[str] = set()

    def walk(value):
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif value not in (None, ""):
            out.add(str(value))

    walk(forms)
    return out


def typed_values(body: dict) -> list[str]:
    return [body["anticipated_plea"], *(str(v) for f in body["forms"].values() for v in f.values())]


NAMES = [("Łukasz", "Wiśniewski"), ("Siobhán", "Ní Bhriain"), ("Llŷr", "Rhys-Owen"), ("Дмитрий", "Иванов")]
# the same file with defendants and witnesses in Arabic, Chinese and Korean too: every fallback font loaded
WORLD_NAMES = [("محمد", "عبد الله"), ("小明", "王"), ("민준", "김"), ("Дмитрий", "Иванов")]


def large_snapshot(names: list[tuple[str, str]] = NAMES) -> dict:
    """A 3-defendant, 8-witness, 20-exhibit file as submit() freezes it."""
    ids = [str(uuid.uuid4()) for _ in range(3)]
    defendants = [{"person_id": ids[i], "forenames": names[i][0], "surname": names[i][1],
                   "date_of_birth": f"199{i}-0{i + 1}-1{i}", "pnc_id": f"9{i}/12345{i}A",
                   "address": f"{i + 1} Heol y Llŷr, Caerdydd, CF1{i} 2AB", "custody_number": f"01/2026/00{i}",
                   "arrested_at": "2026-11-28T14:05:00+00:00", "custody_outcome": "charged"} for i in range(3)]
    charges = [{"person_id": ids[i % 3], "wording": f"On 28/11/2026 at Cardiff jointly with others stole goods to the "
                f"value of £{40 * (i + 1)}.00 belonging to Co-operative Group Ltd, contrary to section 1(1) and 7 "
                f"of the Theft Act 1968.", "code": "TH68010", "source": "custody"} for i in range(6)]
    witnesses = [{"person_id": str(uuid.uuid4()), "name": f"{names[i % 4][0]} Witness{i}", "role": "witness",
                  "address": f"{i} Quay Street, NT2 2QS"} for i in range(8)]
    exhibits = [{"document_id": str(uuid.uuid4()), "reference": f"EX{i + 1}",
                 "description": f"CCTV still {i + 1} from camera {i % 4}, spirits aisle, 14:0{i % 10}"}
                for i in range(20)]
    summary = ("At 14:05 the three defendants entered the Co-op on Quay Street, took spirits from the aisle, "
               "concealed them and left without paying; the store detective followed and recovered them. ") * 12
    forms = {
        "MG1": {"urn": "62CF0123456", "defendants": defendants, "anticipated_plea": "NGAP",
                "officer_in_charge": "PC 1234 Llŷr Jones", "solicitor_gender": None},
        "MG3": {"summary": summary, "offence": "46/1"}, "MG4": {"charges": charges},
        "MG5": {"summary": summary, "incident": "Spirits taken from the Co-op"},
        "MG6": {"officer_in_charge": "PC 1234 Llŷr Jones", "reference": "62CF/2026/1"},
        "MG6C": {"items": [{"description": f"Log entry {i}: enquiry made", "source": "investigation log"}
                           for i in range(10)]},
        "MG6D": {"items": []}, "MG9": {"witnesses": witnesses},
        "MG11": {"statements": [{"person_id": w["person_id"], "document_id": str(uuid.uuid4())} for w in witnesses]},
        "MG12": {"exhibits": exhibits}}
    return {"schema_version": 1, "case_id": str(uuid.uuid4()), "version": 4, "stage": "first_hearing",
            "classification": "OFFICIAL-SENSITIVE", "anticipated_plea": "NGAP", "urn": "62CF0123456", "forms": forms}


def bench_pdf(runs: int) -> None:
    bench_pdf_of(runs, large_snapshot(), "names in Latin and Cyrillic")
    bench_pdf_of(runs, large_snapshot(WORLD_NAMES), "names in Arabic, Chinese, Korean and Cyrillic")


def bench_pdf_of(runs: int, snapshot: dict, names: str) -> None:
    from app.cases import bundle

    start = time.perf_counter()
    first = bundle.render_pdf(snapshot)
    cold = time.perf_counter() - start
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        bundle.render_pdf(snapshot)
        times.append(time.perf_counter() - start)
    times.sort()
    print(f"\nMG forms PDF, 3 defendants, 8 witnesses, 20 exhibits, 6 charges, {names} (in-process, as submit() "
          "renders it)")
    print(f"size {len(first) // 1024} KiB; first {cold * 1000:.0f} ms (font loaded); over {runs} runs "
          f"p50 {times[len(times) // 2] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms (target < 1000 ms)")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--pdf-only", action="store_true", help="only the PDF generation time")
    parser.add_argument("--pdf-runs", type=int, default=10)
    args = parser.parse_args()
    if args.pdf_only:
        bench_pdf(args.pdf_runs)
        return
    settings, platform_config = bench_support.database(volume_crime.DATABASE, reload=True)
    token = dev_idp.issue_token(dev_idp.KeyStore(settings.var_dir / "dev-idp"), platform_config.tenants["northshire"],
                                "pc-bench", ["investigator"], lifetime=8 * 3600)
    proc = bench_support.serve("app.wsgi:app", volume_crime.PORT, 2, {
        "DATABASE_URL": settings.database_url, "CONCORD_VAR_DIR": str(settings.var_dir),
        "CONCORD_LOG_LEVEL": "WARNING"})
    results = []
    try:
        for _ in range(args.cases):
            setup = volume_crime.Client(token)
            volume_crime.one_case(setup, charged=True)
            officer = volume_crime.Client(token)
            investigation_id = setup.last_path.split("/")[4]
            case = officer.call("/api/v1/cases", {"investigation_id": investigation_id})
            known = known_values(case["forms"])
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "If-Match": '"1"'}
            start = time.perf_counter()
            officer.conn.request("PATCH", f"/api/v1/cases/{case['id']}", body=json.dumps(TYPED), headers=headers)
            response = officer.conn.getresponse()
            response.read()
            officer.seconds += time.perf_counter() - start
            officer.calls += 1
            start = time.perf_counter()
            officer.conn.request("GET", f"/api/v1/cases/{case['id']}/readiness?stage=first_hearing",
                                 headers={"Authorization": f"Bearer {token}"})
            readiness = json.loads(officer.conn.getresponse().read())
            officer.seconds += time.perf_counter() - start
            officer.calls += 1
            assert readiness["ready"], readiness
            officer.call(f"/api/v1/cases/{case['id']}/submissions", {"stage": "first_hearing"})
            already_known = [v for v in typed_values(TYPED) if v in known]
            results.append((officer.calls, officer.seconds, already_known))
    finally:
        proc.terminate()
        proc.wait()
    calls = {r[0] for r in results}
    times = sorted(r[1] for r in results)
    known_typed = sorted({v for r in results for v in r[2]})
    print(f"\n{args.cases} first-hearing GAP files from finalised shoplifting investigations; gunicorn 2 workers")
    print(f"calls per file: {sorted(calls)} (target <= 10)")
    print(f"fields typed that Concord already held: {len(known_typed)} {known_typed} (target: none)")
    print(f"time per file p50 {times[len(times) // 2] * 1000:.1f} ms, max {times[-1] * 1000:.1f} ms")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    embedded.stop()
    bench_pdf(args.pdf_runs)


if __name__ == "__main__":
    main()
