"""A small PDF writer for the MG forms: text pages in Helvetica, nothing more (no dependency needed for
plain forms; a force wanting styled forms can replace this module)."""
from __future__ import annotations

LINES_PER_PAGE = 60


def _escape(text: str) -> str:
    """Text as a PDF string literal's content: backslashes and parentheses escaped, Latin-1 only."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return escaped.encode("latin-1", "replace").decode("latin-1")


def render(pages: list[list[str]]) -> bytes:
    """A PDF with one or more A4 pages per list of lines (long lists run onto further pages)."""
    chunks = [page[i:i + LINES_PER_PAGE] or [""] for page in pages for i in range(0, max(len(page), 1), LINES_PER_PAGE)]
    page_ids = []
    font_id = 3
    next_id = 4
    bodies = []
    for lines in chunks:
        stream = "BT /F1 10 Tf 50 800 Td 13 TL " + " ".join(f"({_escape(line[:110])}) '" for line in lines) + " ET"
        content_id, page_id = next_id, next_id + 1
        next_id += 2
        bodies.append((content_id, f"<< /Length {len(stream.encode('latin-1'))} >>\nstream\n{stream}\nendstream"))
        bodies.append((page_id, f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {content_id} 0 R "
                                f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>"))
        page_ids.append(page_id)
    objects_by_id = {1: "<< /Type /Catalog /Pages 2 0 R >>",
                     2: f"<< /Type /Pages /Kids [{' '.join(f'{p} 0 R' for p in page_ids)}] /Count {len(page_ids)} >>",
                     3: "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>", **dict(bodies)}
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for number in sorted(objects_by_id):
        offsets[number] = len(out)
        out += f"{number} 0 obj\n{objects_by_id[number]}\nendobj\n".encode("latin-1")
    xref = len(out)
    count = max(objects_by_id) + 1
    out += f"xref\n0 {count}\n0000000000 65535 f \n".encode()
    for number in range(1, count):
        out += f"{offsets[number]:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {count} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
