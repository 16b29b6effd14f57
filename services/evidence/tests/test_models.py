"""Pure rules: file names, content types, tus metadata, byte ranges."""

from __future__ import annotations

import base64

import pytest

from evidence.api import parse_range
from evidence.models import content_disposition, detect_content_type, parse_tus_metadata, safe_filename
from kit.errors import Problem


@pytest.mark.parametrize(("raw", "kept"), [
    ("verslag.pdf", "verslag.pdf"),
    ("C:\\Users\\jan\\foto.jpg", "foto.jpg"),
    ("../../etc/passwd", "passwd"),
    ("a\r\nb\x00c.txt", "abc.txt"),
    ("\u202egnp.exe", "gnp.exe"),
    ("   ", "bestand"),
    ("..", "bestand"),
    ("x" * 300 + ".mp4", "x" * 251 + ".mp4"),
    ('re"port<1>.pdf', "re_port_1_.pdf"),
])
def test_safe_filename(raw: str, kept: str) -> None:
    assert safe_filename(raw) == kept


def test_content_disposition_is_ascii_and_encodes_the_real_name() -> None:
    header = content_disposition("Überzicht ✓.pdf")
    header.encode("latin-1")  # a valid header value
    assert "filename*=UTF-8''%C3%9Cberzicht%20%E2%9C%93.pdf" in header


def test_detect_content_type_from_bytes() -> None:
    assert detect_content_type(b"%PDF-1.4 rest") == "application/pdf"
    assert detect_content_type(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20) == "image/png"
    assert detect_content_type("Gewone tekst met é".encode()) == "text/plain"
    assert detect_content_type(bytes(range(256))) == "application/octet-stream"


def test_tus_metadata() -> None:
    encoded = base64.b64encode("video ✓.mp4".encode()).decode()
    assert parse_tus_metadata(f"filename {encoded},flag") == {"filename": "video ✓.mp4", "flag": ""}
    with pytest.raises(ValueError):
        parse_tus_metadata("filename not-base64!")


def test_parse_range() -> None:
    assert parse_range(None, 100) is None
    assert parse_range("bytes=0-9", 100) == (0, 9)
    assert parse_range("bytes=90-200", 100) == (90, 99)
    assert parse_range("bytes=-5", 100) == (95, 99)
    assert parse_range("bytes=0-1,5-6", 100) is None  # multi-range: the whole file
    with pytest.raises(Problem):
        parse_range("bytes=100-", 100)


@pytest.mark.parametrize(("roles", "edits", "reads"), [
    ({"school_admin"}, True, True),
    ({"school_supervisor"}, True, True),
    ({"assessor"}, False, True),
    ({"exam_board"}, False, True),
    ({"student"}, False, False),
    ({"workplace_trainer"}, False, False),
    (set(), False, False),
])
def test_who_may_attach_to_and_read_the_assignment_bank(roles: set[str], edits: bool, reads: bool) -> None:
    from evidence.models import may_edit_bank, may_see_bank_file
    from kit.auth import Principal, Role

    principal = Principal("u1", "user", {"sch-1": frozenset(Role(r) for r in roles),
                                         "sch-2": frozenset(Role)})
    assert may_edit_bank(principal, "sch-1") is edits
    assert may_see_bank_file(principal, "sch-1") is reads
    outsider = Principal("u2", "user", {"sch-2": frozenset(Role)})
    assert not may_edit_bank(outsider, "sch-1") and not may_see_bank_file(outsider, "sch-1")


def test_every_problem_type_evidence_raises_has_its_own_title() -> None:
    import pathlib
    import re

    import evidence
    from kit.errors import TITLES

    source = "".join(p.read_text() for p in pathlib.Path(evidence.__file__).parent.rglob("*.py"))
    raised = set(re.findall(r'Problem\(\s*\d+,\s*"([a-z_]+)"', source))
    assert {"not_found", "conflict", "gone", "checksum_mismatch", "range_not_satisfiable"} <= raised
    assert raised - set(TITLES) == set()  # none falls back to its status's (or the 5xx) title
