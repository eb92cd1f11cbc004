"""The MG forms as a PDF, made with fpdf2: each form rendered generically from its contents (a scalar is a
labelled field, a dict a section, a list of dicts a table), Noto Sans embedded (Latin with Latin Extended, Greek,
Cyrillic) with Noto fallbacks for Arabic, Chinese and Japanese, and Korean, so that every name prints exactly,
the URN and page number on every page, and the handling marking in header and footer.

A fallback font is loaded only into a document whose text has a character that the fonts before it lack and it
has: the CJK fonts are 10-17 MiB, which a file of Latin names never parses. They are used from a copy without
their variation and layout tables (made once per machine in the temporary directory), which halves the time of
embedding them. Text shaping (HarfBuzz: Arabic's joined letters, right to left) is on only for the text that has
a character of a font that needs it, since shaping every cell costs more than the rest of the PDF."""
from __future__ import annotations

import os
import tempfile
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any

import fontpkg_noto_sans
import fontpkg_noto_sans_arabic
import justmytype_intl_cjk
from fontTools.ttLib import TTFont
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


_CJK = Path(justmytype_intl_cjk.__file__).parent / "fonts" / "ofl"
# The fallbacks, in the order they are tried for a character Noto Sans lacks: (name, file, needs shaping)
FALLBACKS: tuple[tuple[str, Path, bool], ...] = (
    ("NotoArabic", next(Path(fontpkg_noto_sans_arabic.ROOT, "files").glob("NotoSansArabic[[]*.ttf")), True),
    ("NotoSC", _CJK / "notosanssc" / "NotoSansSC[wght].ttf", False),  # Han ideographs, kana
    ("NotoKR", _CJK / "notosanskr" / "NotoSansKR[wght].ttf", False),  # Hangul
)


@lru_cache(maxsize=None)
def _shaped(path: Path) -> frozenset[int]:
    """The code points for which a font that needs shaping is used (those Noto Sans lacks)."""
    return _coverage(path) - _coverage(_font_file())


@lru_cache(maxsize=None)
def _coverage(path: Path) -> frozenset[int]:
    """The code points a font has glyphs for (its cmap, read once per process)."""
    return frozenset(TTFont(path, lazy=True).getBestCmap())


@lru_cache(maxsize=None)
def _light(path: Path) -> Path:
    """A copy of a CJK font without its variation tables (the default weight stays), layout tables (CJK names
    need none) and glyph names: the same glyphs, much less for fpdf2 to read and subset."""
    light = Path(tempfile.gettempdir(), "concord-fonts", f"{path.stem}-{path.stat().st_size}-light.ttf")
    if not light.exists():
        font = TTFont(path)
        for tag in ("gvar", "HVAR", "MVAR", "STAT", "avar", "fvar", "cvar", "GSUB", "GPOS", "GDEF"):
            if tag in font:
                del font[tag]
        font["post"].formatType = 3.0
        light.parent.mkdir(exist_ok=True)
        partial = light.with_suffix(f".{os.getpid()}.part")
        font.save(partial)
        os.replace(partial, light)  # another process making it too writes the same bytes
    return light


def _characters(value: Any) -> set[str]:
    """Every character of every key and value in the forms."""
    if isinstance(value, dict):
        return set().union(*(_characters(k) | _characters(v) for k, v in value.items()))
    if isinstance(value, list):
        return set().union(*(_characters(v) for v in value))
    return set(str(value))


def _fallbacks_for(text: set[str]) -> list[tuple[str, Path, bool]]:
    """The fallback fonts the text needs: each that has a character the fonts before it lack."""
    lacking = {ord(c) for c in text if not c.isspace()} - _coverage(_font_file())
    needed = []
    for name, path, shaping in FALLBACKS:
        if lacking & _coverage(path):
            needed.append((name, path, shaping))
            lacking -= _coverage(path)
    return needed


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
    def __init__(self, urn: str, marking: str, version: int, fallbacks: list[tuple[str, Path, bool]]):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.urn, self.marking, self.version = urn, marking, version
        self.add_font(FONT, "", str(_font_file()))
        for name, path, shaping in fallbacks:
            self.add_font(name, "", str(path if shaping else _light(path)))
        if fallbacks:
            self.set_fallback_fonts([name for name, _, _ in fallbacks], exact_match=False)
        self.shaped = frozenset().union(*(_shaped(path) for _, path, shaping in fallbacks if shaping))

    def multi_cell(self, w: float, h: float | None = None, text: str = "", *args: Any, **kwargs: Any) -> Any:
        """Every text of the forms (fields and table cells) comes here: shaped where it needs to be."""
        if self.shaped:
            self.set_text_shaping(not self.shaped.isdisjoint(map(ord, text)))
        return super().multi_cell(w, h, text, *args, **kwargs)
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
    doc = _FormsPdf(urn, marking, version, _fallbacks_for(_characters(forms) | set(urn + marking)))
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
