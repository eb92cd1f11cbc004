"""The MG forms as a PDF, made with fpdf2: each form rendered generically from its contents (a scalar is a
labelled field, a dict a section, a list of dicts a table), Noto Sans embedded so every name in any script it
covers (Latin with Latin Extended, Greek, Cyrillic) prints exactly, the URN and page number on every page, and
the handling marking in header and footer."""
from __future__ import annotations

import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any

import fontpkg_noto_sans
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

FONT = "Noto"
TABLE_COLUMNS = 6  # a list with more columns than this is set out item by item (label | value)

TITLES = {
    "MG1": "File front sheet", "MG2": "Special measures assessment", "MG3": "Report to CPS for a charging decision",
    "MG3A": "Further report to CPS for a charging decision", "MG4": "Charge(s)", "MG4A": "Conditional bail",
    "MG5": "Case summary", "MG6": "Case file information", "MG6A": "Pre-interview briefing",
    "MG6B": "Police officer's disciplinary record", "MG6C": "Schedule of non-sensitive unused material",
    "MG6D": "Schedule of sensitive material", "MG6E": "Disclosure officer's report", "MG7": "Remand application",
    "MG8": "Breach of bail conditions", "MG9": "Witness list", "MG10": "Witness non-availability",
    "MG11": "Witness statement", "MG12": "Exhibit list",
}

# Forms that carry an officer's declaration; a form's own "declaration" field, where it has one, is used instead.
DECLARATIONS = {
    "MG5": "I certify that this summary is an accurate account of the evidence available at the time of signing.",
    "MG6C": "I certify that to the best of my knowledge and belief all relevant material which has been retained "
            "and made available to me has been revealed in accordance with the Criminal Procedure and "
            "Investigations Act 1996 Code of Practice.",
    "MG6D": "I certify that to the best of my knowledge and belief all sensitive material which has been retained "
            "and made available to me has been revealed in accordance with the Criminal Procedure and "
            "Investigations Act 1996 Code of Practice.",
    "MG6E": "I certify that to the best of my knowledge and belief the material listed has been examined and "
            "revealed in accordance with the Criminal Procedure and Investigations Act 1996 Code of Practice.",
    "MG11": "This statement is true to the best of my knowledge and belief and I make it knowing that, if it is "
            "tendered in evidence, I shall be liable to prosecution if I have wilfully stated in it anything "
            "which I know to be false, or do not believe to be true (Criminal Justice Act 1967 s.9; Magistrates' "
            "Courts Act 1980 s.5B; Criminal Procedure Rules 2020 r.16.2).",
}


@lru_cache(maxsize=1)
def _font_file() -> Path:
    return next(Path(fontpkg_noto_sans.ROOT, "files").glob("NotoSans[[]*.ttf"))


def _label(key: str) -> str:
    """A field's key as a label: `date_of_birth` -> `Date of birth`, `pnc_id` -> `PNC ID`."""
    words = key.replace("_", " ").split()
    known = {"pnc": "PNC", "id": "ID", "urn": "URN", "cjs": "CJS", "dob": "DOB", "oic": "OIC"}
    out = [known.get(w.lower(), w) for w in words]
    return " ".join(out)[:1].upper() + " ".join(out)[1:] if out else key


def _is_record_id(key: str, value: Any) -> bool:
    """A record's internal id (a UUID under an `…_id` key): not for the reader of the form."""
    if not key.endswith("_id") or not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value) if value else "(none)"
    if isinstance(value, dict):
        return "; ".join(f"{_label(k)}: {_text(v)}" for k, v in value.items() if not _is_record_id(k, v))
    return str(value)


def _row(item: dict[str, Any]) -> dict[str, Any]:
    """A row as shown: record ids left out, a person's forenames and surname shown together as one name."""
    row = {k: v for k, v in item.items() if not _is_record_id(k, v)}
    if "forenames" in row and "surname" in row:
        name = " ".join(str(x) for x in (row.pop("forenames"), row.pop("surname")) if x)
        row = {"name": name, **row}
    return row


class _FormsPdf(FPDF):
    def __init__(self, urn: str, marking: str, version: int):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.urn, self.marking, self.version = urn, marking, version
        self.add_font(FONT, "", str(_font_file()))
        # one weight: instancing the variable font's bold costs seconds a document; headings stand out by size
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(15, 20, 15)
        self.alias_nb_pages()

    def header(self) -> None:
        self.set_font(FONT, "", 9)
        self.set_y(8)
        self.cell(0, 5, self.marking, align="C", new_x=XPos.LMARGIN, new_y=YPos.TOP)
        self.set_font(FONT, "", 8)
        self.cell(0, 5, f"URN {self.urn}", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(4)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(FONT, "", 8)
        self.cell(0, 5, f"URN {self.urn} · case file version {self.version}", align="L",
                  new_x=XPos.LMARGIN, new_y=YPos.TOP)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="R", new_x=XPos.LMARGIN, new_y=YPos.TOP)
        self.set_font(FONT, "", 9)
        self.cell(0, 5, self.marking, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def heading(self, text: str, size: float) -> None:
        self.set_font(FONT, "", size)
        self.multi_cell(0, size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1.5)

    def field(self, label: str, value: Any) -> None:
        self.set_font(FONT, "", 9.5)
        top, page = self.get_y(), self.page
        self.multi_cell(55, 5, label, new_x=XPos.RIGHT, new_y=YPos.TOP)
        self.set_font(FONT, "", 9.5)
        if self.page != page:
            top = self.t_margin + 9
        self.set_xy(self.l_margin + 55, top)
        self.multi_cell(0, 5, _text(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def table_of(self, rows: list[dict[str, Any]]) -> None:
        columns = list(dict.fromkeys(k for row in rows for k in row))
        if len(columns) > TABLE_COLUMNS:
            for number, row in enumerate(rows, 1):
                self.set_font(FONT, "", 9.5)
                self.cell(0, 6, f"Item {number}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                self.pairs(row)
            return
        self.set_font(FONT, "", 8.5)
        # each column as wide as its longest text wants (within bounds), so wordings get room and codes do not
        widths = tuple(min(max([len(_label(c)), *(len(_text(row.get(c))) for row in rows)]), 60) + 6 for c in columns)
        with self.table(col_widths=widths, line_height=4.5, text_align="LEFT", first_row_as_headings=True,
                        headings_style=FontFace(emphasis=None, fill_color=(225, 225, 225))) as table:
            heading = table.row()
            for column in columns:
                heading.cell(_label(column))
            for row in rows:
                cells = table.row()
                for column in columns:
                    cells.cell(_text(row.get(column)))
        self.ln(3)

    def pairs(self, row: dict[str, Any]) -> None:
        self.set_font(FONT, "", 8.5)
        with self.table(col_widths=(1, 2.5), line_height=4.5, text_align="LEFT", first_row_as_headings=False) as table:
            for key, value in row.items():
                cells = table.row()
                cells.cell(_label(key))
                cells.cell(_text(value))
        self.ln(3)

    def declaration(self, text: str, signatory: Any) -> None:
        self.ln(2)
        self.heading("Declaration", 11)
        self.set_font(FONT, "", 9.5)
        self.multi_cell(0, 5, text, border=1, padding=2, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)
        self.field("Signed", signatory or "")
        self.field("Date", "")


def _contents(doc: _FormsPdf, values: dict[str, Any], depth: int) -> None:
    for key, value in values.items():
        if key == "declaration" or _is_record_id(key, value):
            continue
        if isinstance(value, dict):
            doc.heading(_label(key), 12 - depth)
            _contents(doc, value, depth + 1)
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            doc.heading(_label(key), 12 - depth)
            doc.table_of([_row(v) for v in value])
        elif isinstance(value, list) and not value:
            doc.field(_label(key), "(none)")
        else:
            doc.field(_label(key), value)


def render(forms: dict[str, Any], *, urn: str, marking: str, version: int, order: tuple[str, ...] = ()) -> bytes:
    """The PDF of the MG forms, in `order` first (then any others), each from a new page."""
    doc = _FormsPdf(urn, marking, version)
    doc.set_title(f"Case file {urn}")
    doc.set_creator("Concord")
    for name in [*(f for f in order if f in forms), *(f for f in forms if f not in order)]:
        form = forms[name]
        doc.add_page()
        doc.heading(f"{name}  {TITLES.get(name, '')}".strip(), 16)
        if isinstance(form, dict):
            _contents(doc, form, 0)
            declaration = form.get("declaration") or DECLARATIONS.get(name)
            if declaration:
                doc.declaration(_text(declaration), form.get("officer_in_charge") or forms.get("MG1", {})
                                .get("officer_in_charge"))
        else:
            doc.field("Contents", form)
    return bytes(doc.output())
