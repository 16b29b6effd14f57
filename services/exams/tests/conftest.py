"""Fixtures for the exams service: the app on the real stand-in servers, a school made known through events."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka.structs import ConsumerRecord

from contracts import Envelope, Event
from contracts.enrollment import (
    GroupChangedV1,
    GroupMembersChangedV1,
    PersonLinkedV1,
    ProgrammeEnabledV1,
    ProgrammePublishedV1,
    StudentCreatedV1,
)
from contracts.identity import MembershipGrantedV1
from exams.app import create_app
from exams.projections.handlers import build_handlers
from exams.settings import ExamsSettings
from kit.auth import Role
from kit.consumer import ConsumerRunner, Outcome
from kit.kafka import create_producer, ensure_topics
from kit.mongo import Client, Db
from kit.settings import KitSettings
from kit.testing.service import service_client
from kit.testing.tokens import TestIssuer

STAFF = {"admin": Role.SCHOOL_ADMIN, "supervisor": Role.SCHOOL_SUPERVISOR, "assessor": Role.ASSESSOR,
         "assessor2": Role.ASSESSOR, "board": Role.EXAM_BOARD, "trainer": Role.WORKPLACE_TRAINER,
         "supervisor2": Role.SCHOOL_SUPERVISOR}


def exam_spec(programme_id: str, code: str = "PVB1", parts: int = 2) -> dict[str, Any]:
    """An exam with one core task and `parts` parts of two criteria each."""
    return {
        "programme_id": programme_id, "code": code, "name": f"Proeve {code}",
        "core_tasks": [{"code": "B1-K1", "name": "Biedt zorg", "work_processes": [
            {"code": "B1-K1-W1", "name": "Onderkent behoeften"}, {"code": "B1-K1-W2", "name": "Plant de zorg"}]}],
        "parts": [{"code": f"p{i}", "name": f"Onderdeel {i}", "core_tasks": ["B1-K1"], "criteria": [
            {"code": f"c{i}a", "text": "Werkt veilig", "work_process": "B1-K1-W1"},
            {"code": f"c{i}b", "text": "Plant de zorg", "work_process": "B1-K1-W2", "scoring": "scale_1_5"}]}
            for i in range(1, parts + 1)],
        "provider_assignments": [{"code": "VAST1", "title": "Vaste opdracht", "text": "Voer de zorg uit."}],
    }


@dataclass
class Student:
    """A student of the school: record, account and their token."""

    student_id: str
    user_id: str
    headers: dict[str, str]


@dataclass
class School:
    """A school with a programme, staff, students and an exam, made through events and the API."""

    world: World
    school_id: str
    programme_id: str
    staff: dict[str, str] = field(default_factory=dict)
    students: list[Student] = field(default_factory=list)
    exam_id: str = ""
    group_id: str = ""

    def h(self, who: str, **kw: Any) -> dict[str, str]:
        """Authorization header of a staff member (by handle), in this school."""
        return self.world.issuer.headers(self.staff[who], {self.school_id: [STAFF[who]]}, **kw)

    async def assert_refused(self, method: str, url: str, body: Any, wrong_roles: list[Role]) -> None:
        """Another school (with every role there), each wrong role here and no token are all refused."""
        http, issuer = self.world.http, self.world.issuer
        everything_elsewhere = issuer.headers(self.staff["admin"], {"sch_elsewhere": list(Role)})
        r = await http.request(method, url, json=body, headers=everything_elsewhere)
        assert r.status_code == 403, (url, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        for role in wrong_roles:
            r = await http.request(method, url, json=body, headers=issuer.headers(self.staff["admin"],
                                                                                  {self.school_id: [role]}))
            assert r.status_code == 403, (role, url, r.text)
        assert (await http.request(method, url, json=body)).status_code == 401

    async def prepare(self, students: list[Student] | None = None, **overrides: Any) -> list[dict[str, Any]]:
        """Prepare an individual assignment for students as the supervisor; returns the assignments."""
        body = {"exam_id": self.exam_id, "student_ids": [s.student_id for s in (students or self.students[:1])],
                "title": "Zorgplan", "text": "Maak en voer een zorgplan uit.", "location": "Zorgcentrum De Linde",
                "first_assessor_id": self.staff["assessor"], "adopter_id": self.staff["board"], **overrides}
        r = await self.world.http.post(f"/v1/schools/{self.school_id}/assignments", json=body,
                                       headers=self.h("supervisor"))
        assert r.status_code == 201, r.text
        return list(r.json())

    async def approve_all(self, assignment: dict[str, Any], student: Student) -> dict[str, Any]:
        """The student, supervisor and trainer approve."""
        path = f"/v1/schools/{self.school_id}/assignments/{assignment['id']}/approve"
        body: dict[str, Any] = {}
        for headers in (student.headers, self.h("supervisor"), self.h("trainer")):
            r = await self.world.http.post(path, json={"confirm": True}, headers=headers)
            assert r.status_code == 200, r.text
            body = r.json()
        return body

    async def adopted(self, student: Student | None = None) -> dict[str, Any]:
        """An assignment prepared, approved and adopted for a student."""
        student = student or self.students[0]
        assignment = (await self.prepare([student]))[0]
        await self.approve_all(assignment, student)
        r = await self.world.http.post(f"/v1/schools/{self.school_id}/assignments/{assignment['id']}/adopt",
                                       headers=self.h("board"))
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def schedule(self, assignment: dict[str, Any], starts_at: datetime | None = None,
                       **overrides: Any) -> list[dict[str, Any]]:
        """Schedule all parts of an assignment as the supervisor."""
        start = starts_at or datetime.now(UTC) + timedelta(days=30)
        body = {"assignment_ids": [assignment["id"]], "all_parts": {
            "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=3)).isoformat()}, **overrides}
        r = await self.world.http.post(f"/v1/schools/{self.school_id}/schedules", json=body,
                                       headers=self.h("supervisor"))
        assert r.status_code == 201, r.text
        return list(r.json())


class World:
    """Feeds events to the real projection handlers (through the consumer runner) and talks to the API."""

    def __init__(self, runner: ConsumerRunner, issuer: TestIssuer, http: httpx.AsyncClient, db: Db) -> None:
        self.runner = runner
        self.issuer = issuer
        self.http = http
        self.db = db
        self.offset = 0
        self.operator = issuer.headers("operator", {}, operator=True)

    async def feed(self, event: Event, school_id: str | None = None) -> Outcome:
        """Hand one event to the handlers as the consumer would."""
        value = Envelope.wrap(event, producer=event.TYPE.split(".")[0], subject="s", school_id=school_id).to_bytes()
        self.offset += 1
        record: ConsumerRecord[bytes, bytes] = ConsumerRecord(
            "test.events", 0, self.offset, 0, 0, b"s", value, None, 0, len(value), [])
        outcome = await self.runner.process(record)
        assert outcome.status == "handled", outcome
        return outcome

    async def school(self, students: int = 2, parts: int = 2) -> School:
        """A school with an enabled programme, staff with roles, linked students in a group, and a published exam."""
        sid, pid = f"sch_{uuid.uuid4().hex[:8]}", f"prg_{uuid.uuid4().hex[:8]}"
        await self.feed(ProgrammePublishedV1(programme_id=pid, crebo="25655", name="Verzorgende-IG", level=3,
                                             cohort=2024))
        await self.feed(ProgrammeEnabledV1(programme_id=pid, school_id=sid), sid)
        school = School(self, sid, pid)
        for handle, role in STAFF.items():
            uid = f"usr_{handle}_{uuid.uuid4().hex[:6]}"
            school.staff[handle] = uid
            await self.feed(MembershipGrantedV1(user_id=uid, school_id=sid, role=role, roles=[role]), sid)
        school.group_id = f"grp_{uuid.uuid4().hex[:8]}"
        await self.feed(GroupChangedV1(group_id=school.group_id, school_id=sid, name="VIG-3A"), sid)
        for n in range(students):
            school.students.append(await self.student(school, n))
        await self.feed(GroupMembersChangedV1(group_id=school.group_id, school_id=sid,
                                              added=[s.student_id for s in school.students]), sid)
        r = await self.http.post("/v1/catalog/exams", json=exam_spec(pid, parts=parts), headers=self.operator)
        assert r.status_code == 201, r.text
        school.exam_id = r.json()["id"]
        return school

    async def student(self, school: School, n: int, link: bool = True) -> Student:
        """A student of the programme with an account, linked to the supervisor, assessor and trainer."""
        sid, uid = f"stu_{uuid.uuid4().hex[:8]}", f"usr_stu_{uuid.uuid4().hex[:6]}"
        await self.feed(StudentCreatedV1(student_id=sid, school_id=school.school_id, student_code=f"{100000 + n}",
                                         first_name="Jan", last_name=f"Student {n}", email=f"s{n}@example.org",
                                         programme_ids=[school.programme_id]), school.school_id)
        await self.feed(MembershipGrantedV1(user_id=uid, school_id=school.school_id, role="student",
                                            roles=["student"], student_id=sid), school.school_id)
        if link:
            for relation, handle in (("school_supervisor", "supervisor"), ("assessor", "assessor"),
                                     ("workplace_trainer", "trainer")):
                await self.feed(PersonLinkedV1(student_id=sid, school_id=school.school_id,
                                               user_id=school.staff[handle], relation=relation), school.school_id)
        headers = self.issuer.headers(uid, {school.school_id: [Role.STUDENT]})
        return Student(sid, uid, headers)


@pytest.fixture
def settings(kit_settings: KitSettings, issuer: TestIssuer) -> ExamsSettings:
    """Exams settings on this test's database, verifying the test issuer's tokens."""
    return ExamsSettings(**kit_settings.model_dump(exclude={"service", "auth_jwks_url"}),
                         service=kit_settings.service, auth_jwks_url=str(issuer.jwks_path))


@pytest.fixture
async def world(settings: ExamsSettings, mongo_client: Client, issuer: TestIssuer) -> AsyncIterator[World]:
    """The exams API and its projections, on this test's database."""
    await ensure_topics(settings, [f"{settings.service}.dlt"])
    producer = create_producer(settings)
    await producer.start()
    db = mongo_client[settings.database]
    runner = ConsumerRunner(settings, mongo_client, db, producer, group=settings.service, topics=["test.events"],
                            handlers=build_handlers(db), backoff_s=0.01)
    try:
        async with service_client(create_app(settings)) as http:
            yield World(runner, issuer, http, db)
    finally:
        await producer.stop()


@pytest.fixture
async def school(world: World) -> School:
    """A ready school with two linked students and a two-part exam."""
    return await world.school()


@pytest.fixture
def make_exam_spec() -> Any:
    """The function building an exam body for the catalog."""
    return exam_spec
