"""Reading import files (CSV in any usual encoding and delimiter, or .xlsx) and writing .xlsx exports."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils.exceptions import InvalidFileException

from enrollment.import_rules import IMPORT_FIELDS

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_BINARY_MAGIC = (b"%PDF", b"\xd0\xcf\x11\xe0", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"Rar!", b"7z")


class UnsupportedFile(ValueError):
    """The upload is neither CSV nor .xlsx (or is damaged)."""


@dataclass(frozen=True)
class FileInfo:
    """What was detected about an upload."""

    format: str  # csv | xlsx
    encoding: str | None = None
    delimiter: str | None = None


def detect(file: IO[bytes]) -> FileInfo:
    """The format, encoding and delimiter of an upload; raises UnsupportedFile for anything else."""
    file.seek(0)
    head = file.read(4096)
    file.seek(0)
    if not head:
        raise UnsupportedFile("The file is empty.")
    if head.startswith(b"PK\x03\x04"):
        if not zipfile.is_zipfile(file):
            raise UnsupportedFile("The file looks like .xlsx but is damaged.")
        file.seek(0)
        return FileInfo("xlsx")
    if head.startswith(_BINARY_MAGIC) or b"\x00" in head:
        raise UnsupportedFile("Only CSV and Excel (.xlsx) files can be imported.")
    encoding = _encoding(file)
    sample = head.decode(encoding if encoding != "utf-8-sig" else "utf-8", errors="ignore").lstrip("\ufeff")
    return FileInfo("csv", encoding, _delimiter(sample.splitlines()[0] if sample else ""))


def _encoding(file: IO[bytes]) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes as such, else Windows-1252."""
    head = file.read(3)
    file.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := file.read(1 << 20):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1252"
    finally:
        file.seek(0)
    return "utf-8-sig" if head == codecs.BOM_UTF8 else "utf-8"


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_rows(file: IO[bytes], info: FileInfo) -> Iterator[list[str]]:
    """Every row of the file as text cells (header first), streamed."""
    file.seek(0)
    if info.format == "xlsx":
        yield from _xlsx_rows(file)
        return
    text = io.TextIOWrapper(file, encoding=info.encoding or "utf-8", newline="", errors="replace")
    try:
        for cells in csv.reader(text, delimiter=info.delimiter or ","):
            yield [c.strip() for c in cells]
    except csv.Error as exc:
        raise UnsupportedFile(f"The CSV file cannot be read: {exc}") from exc
    finally:
        text.detach()


def _xlsx_rows(file: IO[bytes]) -> Iterator[list[str]]:
    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise UnsupportedFile("The Excel file cannot be read.") from exc
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell_text(v) for v in values]
    finally:
        workbook.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def sheet_text(value: str) -> str:
    """Text a sheet can hold: characters XML 1.0 forbids (control characters) become U+FFFD."""
    return str(ILLEGAL_CHARACTERS_RE.sub("\ufffd", value))


def write_xlsx(headers: list[str], rows: Iterable[list[Any]], out: IO[bytes], title: str = "Studenten") -> None:
    """Write a one-sheet workbook; every text is a text cell, which no spreadsheet runs as a formula."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.append(headers)
    for row in rows:
        cells = []
        for value in row:
            if value is not None and not isinstance(value, (str, int, float, date, datetime)):
                value = str(value)  # a stored value of an unexpected shape still reads as something
            if isinstance(value, str):
                # A typed text cell is shown as entered ("=1+1" stays text); no quote prefix needed.
                cell = WriteOnlyCell(sheet, value=None)
                cell.value = sheet_text(value)
                cell.data_type = "s"
            else:
                cell = WriteOnlyCell(sheet, value=value)
            cells.append(cell)
        sheet.append(cells)
    workbook.save(out)


EXAMPLE_ROWS = [
    ["100234", "Sanne", "de Vries", "sanne.devries@student.example.nl", "V", "14-03-2006", "25604", "2024",
     "VIG3-2024A", "klas", "", "", ""],
    ["100235", "Mohammed", "El Amrani", "m.elamrani@student.example.nl", "M", "2-9-2005", "25604", "2024",
     "VIG3-2024A", "klas", "", "", ""],
]


def example_headers() -> list[str]:
    """The headers of the example import file: one column per field, named as the mapping suggests."""
    return [f.label for f in IMPORT_FIELDS]


def example_csv() -> bytes:
    """The downloadable example file (semicolon-separated, UTF-8 with BOM so Excel opens it right)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(example_headers())
    writer.writerows(EXAMPLE_ROWS)
    return codecs.BOM_UTF8 + out.getvalue().encode()


def example_xlsx() -> bytes:
    """The example file as .xlsx."""
    out = io.BytesIO()
    write_xlsx(example_headers(), EXAMPLE_ROWS, out)
    return out.getvalue()
