"""Pure import rules: Dutch dates, header suggestions, gender values, formula neutralising, file detection."""

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from enrollment.files import UnsupportedFile, detect, read_rows, write_xlsx
from enrollment.import_rules import parse_date, suggest_gender, suggest_mapping
from enrollment.models import fold, search_terms


@pytest.mark.parametrize(("text", "expected"), [
    ("14-03-2006", date(2006, 3, 14)), ("4-3-2006", date(2006, 3, 4)), ("14/03/2006", date(2006, 3, 14)),
    ("14.03.2006", date(2006, 3, 14)), ("2006-03-14", date(2006, 3, 14)), ("14 maart 2006", date(2006, 3, 14)),
    ("1 okt 2005", date(2005, 10, 1)), ("14-03-06", date(2006, 3, 14)), ("14-03-98", date(1998, 3, 14)),
])
def test_dutch_dates(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["31-02-2005", "13/13/2005", "morgen", "2005"])
def test_not_dates(text: str) -> None:
    with pytest.raises(ValueError):
        parse_date(text)


def test_headers_suggest_fields_once() -> None:
    assert suggest_mapping(["Leerlingnummer", "Roepnaam", "Achternaam", "E-mailadres", "Geslacht", "Klas",
                            "Naam", "Praktijkopleider"]) == {
        "0": "student_code", "1": "first_name", "2": "last_name", "3": "email", "4": "gender", "5": "group",
        "7": "workplace_trainer"}


def test_gender_values() -> None:
    assert [suggest_gender(v) for v in ("M", "v", "Vrouw", "X", "jongen", "?")] == [
        "male", "female", "female", "other", "male", None]


@pytest.mark.parametrize("value", ["=1+1", "+31", "-2", "@SUM(A1)", "=HYPERLINK(\"http://x\")"])
def test_formulas_are_stored_as_text_cells_reading_as_entered(value: str) -> None:
    out = io.BytesIO()
    write_xlsx(["Naam", "Getal"], [[value, 5]], out)
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    cell = sheet.cell(row=2, column=1)
    assert (cell.value, cell.data_type) == (value, "s")  # text, never a formula, and no apostrophe added
    assert sheet.cell(row=2, column=2).value == 5


def test_control_characters_a_sheet_cannot_hold_do_not_break_the_sheet() -> None:
    out = io.BytesIO()
    write_xlsx(["Naam"], [["An\x0ena"], ["Bo\x00b"]], out)
    rows = list(load_workbook(io.BytesIO(out.getvalue())).active.iter_rows(values_only=True))
    assert rows[1:] == [("An\ufffdna",), ("Bo\ufffdb",)]


def test_search_folds_accents_and_case() -> None:
    assert fold("Çelik") == "celik" and fold("ZOË Müller") == "zoe muller"
    assert search_terms("A-12", "Zoë", "Çelik") == ["a-12", "celik", "zoe"]


def test_windows_1252_semicolons_are_detected() -> None:
    file = io.BytesIO("a;b\r\nZoë;Müller\r\n".encode("cp1252"))
    info = detect(file)
    assert (info.format, info.encoding, info.delimiter) == ("csv", "cp1252", ";")
    assert list(read_rows(file, info)) == [["a", "b"], ["Zoë", "Müller"]]


def test_binary_files_are_refused() -> None:
    with pytest.raises(UnsupportedFile):
        detect(io.BytesIO(b"%PDF-1.4"))
    with pytest.raises(UnsupportedFile):
        detect(io.BytesIO(b""))
