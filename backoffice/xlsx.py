"""A streaming XLSX writer for large, text-only exports.

Measured on 1,000,000 bookings × 9 columns (see docs/PERFORMANCE.md): XlsxWriter in
constant_memory mode spends ~6 µs per cell in its per-cell type dispatch and escaping, which
leaves it barely faster than openpyxl's write-only mode. Our exports hand over rows whose
cells are already formatted text (the database formats dates, labels and money), so the sheet
XML can be written directly: one f-string per row, streamed into the zip entry, in constant
memory. Only the parts a spreadsheet needs are written: content types, relationships, a
workbook with one sheet, minimal styles (bold header) and the sheet itself.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable

# XML 1.0 forbids most C0 control characters; drop them rather than produce a corrupt file.
_ESCAPE = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;"}
_ESCAPE.update({c: None for c in range(32) if c not in (9, 10, 13)})
_ESCAPE_TABLE = str.maketrans(_ESCAPE)

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
<Default Extension="xml" ContentType="application/xml"/>\
<Override PartName="/xl/workbook.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
<Override PartName="/xl/worksheets/sheet1.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
<Override PartName="/xl/styles.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
</Types>"""
_ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
<Relationship Id="rId1" \
Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" \
Target="xl/workbook.xml"/></Relationships>"""
_WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
<sheets><sheet name="{title}" sheetId="1" r:id="rId1"/></sheets></workbook>"""
_WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
<Relationship Id="rId1" \
Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" \
Target="worksheets/sheet1.xml"/>\
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" \
Target="styles.xml"/></Relationships>"""
_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>\
<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>\
<fills count="2"><fill><patternFill patternType="none"/></fill>\
<fill><patternFill patternType="gray125"/></fill></fills>\
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>\
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
</styleSheet>"""
_SHEET_HEAD = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>\
</sheetView></sheetViews><cols>{cols}</cols><sheetData>"""
_SHEET_TAIL = "</sheetData></worksheet>"


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def escape(value) -> str:
    return str(value).translate(_ESCAPE_TABLE)


def write_text_xlsx(
    path: str, headers: list[str], rows: Iterable[Iterable], *, title: str = "Sheet1", progress=None, every: int = 5000
) -> int:
    """Write `headers` and `rows` (cells are text or None) as a one-sheet workbook; return the row count."""
    letters = [_column_letter(i) for i in range(len(headers))]
    safe_title = escape(title)[:31] or "Sheet1"
    count = 0
    # Level 1 deflate: the sheet XML is very repetitive, so the file is still small, and
    # compression stops dominating the run time.
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _ROOT_RELS)
        zf.writestr("xl/workbook.xml", _WORKBOOK.format(title=safe_title))
        zf.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        zf.writestr("xl/styles.xml", _STYLES)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as raw:
            write = raw.write
            cols = "".join(f'<col min="{i}" max="{i}" width="20" customWidth="1"/>' for i in range(1, len(headers) + 1))
            write(_SHEET_HEAD.format(cols=cols).encode())
            header_cells = "".join(
                f'<c r="{letter}1" s="1" t="inlineStr"><is><t>{escape(h)}</t></is></c>'
                for letter, h in zip(letters, headers, strict=True)
            )
            write(f'<row r="1">{header_cells}</row>'.encode())
            buffer: list[str] = []
            esc = _ESCAPE_TABLE
            for count, row in enumerate(rows, start=1):
                n = count + 1
                cells = "".join(
                    f'<c r="{letter}{n}" t="inlineStr"><is><t xml:space="preserve">{value.translate(esc)}</t></is></c>'
                    if value.__class__ is str and value
                    else f'<c r="{letter}{n}"/>'
                    if value is None or value == ""
                    else f'<c r="{letter}{n}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
                    for letter, value in zip(letters, row, strict=True)
                )
                buffer.append(f'<row r="{n}">{cells}</row>')
                if len(buffer) >= 1000:
                    write("".join(buffer).encode())
                    buffer.clear()
                if progress and count % every == 0:
                    progress(count)
            if buffer:
                write("".join(buffer).encode())
            write(_SHEET_TAIL.encode())
    return count
