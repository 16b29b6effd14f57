"""The contracts: every event has a sample the current code still reads the same way."""

import json
from datetime import UTC, datetime

import pytest
from pydantic import Field, ValidationError

from contracts import Envelope, Event, lookup, register
from contracts.platform import ProbeSentV1
from contracts.schemas import (
    SAMPLES_DIR,
    breaking_changes,
    contract_events,
    file_stem,
    load_sample,
    write_schemas,
)


@pytest.mark.parametrize("cls", contract_events(), ids=lambda c: file_stem(c))
def test_every_event_has_a_sample_that_still_reads_back(cls: type[Event]) -> None:
    sample = load_sample(cls)
    assert (sample.type, sample.version) == (cls.TYPE, cls.VERSION)
    assert breaking_changes(cls, sample) == []


def test_every_sample_belongs_to_a_registered_event() -> None:
    known = {file_stem(cls) for cls in contract_events()}
    assert {p.stem for p in SAMPLES_DIR.glob("*.json")} <= known


def _probe_sample() -> Envelope:
    return load_sample(ProbeSentV1)


def test_adding_an_optional_field_is_not_breaking() -> None:
    class ProbeWithExtra(ProbeSentV1):
        colour: str | None = None

    assert breaking_changes(ProbeWithExtra, _probe_sample()) == []


def test_adding_a_required_field_is_breaking() -> None:
    class ProbeWithRequired(ProbeSentV1):
        colour: str

    assert breaking_changes(ProbeWithRequired, _probe_sample()) == ["colour: Field required"]


def test_changing_a_field_type_is_breaking() -> None:
    class ProbeRetyped(Event):
        TYPE = "platform.probe_sent"
        VERSION = 1
        probe_id: int
        sent_at: datetime
        note: str | None = None

    assert breaking_changes(ProbeRetyped, _probe_sample())


def test_removing_a_field_is_breaking() -> None:
    class ProbeWithoutNote(Event):
        TYPE = "platform.probe_sent"
        VERSION = 1
        probe_id: str
        sent_at: datetime

    assert breaking_changes(ProbeWithoutNote, _probe_sample()) == ["note: removed"]


def test_consumers_ignore_unknown_fields() -> None:
    data = dict(_probe_sample().data, added_later="x")
    assert ProbeSentV1.model_validate(data).probe_id == "probe-1"


def test_envelope_round_trips_and_normalises_to_utc() -> None:
    event = ProbeSentV1(probe_id="p", sent_at=datetime(2026, 1, 1, tzinfo=UTC))
    env = Envelope.wrap(event, producer="identity", subject="p", school_id="s1")
    again = Envelope.from_bytes(env.to_bytes())
    assert again == env
    assert again.occurred_at.tzinfo is not None
    assert lookup(env.type, env.version) is ProbeSentV1


@pytest.mark.parametrize(
    "patch",
    [{"type": "NoDot"}, {"version": 0}, {"occurred_at": "2026-01-01T00:00:00"}, {"subject": ""}],
)
def test_malformed_envelopes_are_refused(patch: dict[str, object]) -> None:
    raw = json.loads(_probe_sample().model_dump_json()) | patch
    with pytest.raises(ValidationError):
        Envelope.model_validate(raw)


def test_registering_a_different_class_under_a_taken_name_fails() -> None:
    class Impostor(Event):
        TYPE = "platform.probe_sent"
        VERSION = 1
        probe_id: str = Field()

    with pytest.raises(ValueError, match="registered twice"):
        register(Impostor)


def test_schemas_are_written_per_event(tmp_path) -> None:
    paths = write_schemas(tmp_path)
    assert {p.name for p in paths} == {f"{file_stem(c)}.schema.json" for c in contract_events()}
    schema = json.loads(paths[0].read_text())
    assert schema["properties"]["data"]["type"] == "object"


def test_published_schemas_in_docs_are_up_to_date(tmp_path) -> None:
    from pathlib import Path

    docs = Path(__file__).resolve().parents[4] / "docs" / "events"
    fresh = {p.name: p.read_text() for p in write_schemas(tmp_path)}
    committed = {p.name: p.read_text() for p in docs.glob("*.schema.json")}
    assert committed == fresh, "run `make contracts` and commit docs/events"


@pytest.mark.parametrize("cls", contract_events(), ids=lambda c: file_stem(c))
def test_every_event_names_the_required_field_that_is_its_subject(cls: type[Event]) -> None:
    field = cls.model_fields.get(cls.SUBJECT)
    assert field is not None and field.is_required(), f"{cls.__name__}.SUBJECT must name a required field"


def test_an_event_gives_its_subject_and_school() -> None:
    from contracts.enrollment import PersonLinkedV1
    from contracts.identity import UserCreatedV1

    linked = PersonLinkedV1(student_id="stu-1", school_id="sch-1", user_id="usr-9", relation="assessor")
    assert (linked.subject_id(), linked.school_of()) == ("stu-1", "sch-1")
    user = UserCreatedV1(user_id="usr-2", email="a@example.nl", display_name="A")
    assert (user.subject_id(), user.school_of()) == ("usr-2", None)


def test_an_event_without_a_subject_field_says_so() -> None:
    class Loose(Event):
        TYPE = "kittest.loose"
        VERSION = 1

    with pytest.raises(TypeError, match="SUBJECT"):
        Loose().subject_id()
