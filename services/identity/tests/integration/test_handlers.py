"""Identity reacts to enrollment's events: student accounts, invitations, supervisor links."""

from contracts import Envelope, events_topic
from contracts.enrollment import PersonLinkedV1, PersonUnlinkedV1, StudentCreatedV1
from identity.handlers import build_handlers
from kit.consumer import ConsumerRunner
from kit.kafka import create_producer, ensure_topics
from kit.testing.kafka import produce, read_topic

from .conftest import Harness
from .test_login import claims


async def deliver(identity: Harness, *events: tuple[object, str], school_id: str) -> ConsumerRunner:
    """Publish enrollment events (or ready envelopes, to replay one) on a topic of this test's own,
    read them back from the broker and hand each to identity's consumer runner."""
    settings = identity.settings
    topic = f"{settings.database}.{events_topic('enrollment')}"
    group = f"identity-{settings.database}"
    await ensure_topics(settings, [topic, f"{group}.dlt"])
    envelopes = [
        event
        if isinstance(event, Envelope)
        else Envelope.wrap(event, producer="enrollment", subject=subject, school_id=school_id)  # type: ignore[arg-type]
        for event, subject in events
    ]
    already = identity.handled
    await produce(settings.kafka_bootstrap, topic, [(e.subject.encode(), e.to_bytes()) for e in envelopes])
    records = await read_topic(settings.kafka_bootstrap, topic, count=already + len(envelopes))
    producer = create_producer(settings)
    await producer.start()
    app = identity.client._transport.app  # type: ignore[attr-defined]
    runner = ConsumerRunner(
        settings,
        app.state.mongo,
        app.state.db,
        producer,
        group=group,
        topics=[topic],
        handlers=build_handlers(settings)(app.state.db),
        backoff_s=0.01,
    )
    try:
        ours = {e.event_id for e in envelopes}
        # partitions interleave: pick this call's records by event id, in their order within a partition
        for record in records:
            if Envelope.from_bytes(record.value).event_id in ours:
                await runner.process(record)
    finally:
        await producer.stop()
    identity.handled = len(records)
    assert len(records) == already + len(envelopes)
    return runner


def student(school_id: str, code: str = "100200", email: str = "jan@student.example", invite: bool = True):
    return StudentCreatedV1(
        student_id=f"stu-{code}",
        school_id=school_id,
        student_code=code,
        first_name="Jan",
        last_name="de Vries",
        email=email,
        invite=invite,
    )


async def test_a_new_student_gets_an_account_a_role_and_an_invitation(identity: Harness) -> None:
    school = await identity.school_with_admin("anne@roc-midden.example")
    created = Envelope.wrap(student(school), producer="enrollment", subject="stu-100200", school_id=school)
    # the same event replayed, and the same fact published twice
    await deliver(identity, (created, ""), (created, ""), (student(school), "stu-100200"), school_id=school)
    member = await identity.db.memberships.find_one({"school_id": school, "student_code": "100200"})
    assert member["roles"] == ["student"] and member["student_id"] == "stu-100200"
    granted = [
        e["data"] for e in await identity.staged("identity.membership_granted") if e["data"]["role"] == "student"
    ]
    assert granted == [
        {
            "user_id": member["user_id"],
            "school_id": school,
            "role": "student",
            "roles": ["student"],
            "student_code": "100200",
            "student_id": "stu-100200",
        }
    ]
    invitations = [
        e for e in await identity.staged("identity.invitation_requested") if e["data"]["email"] == "jan@student.example"
    ]
    assert len(invitations) == 1  # neither the replay nor the duplicate invited twice
    await identity.accept_invitation("jan@student.example")
    token = (await identity.login("jan@student.example")).json()["access_token"]
    assert claims(token)["sch"] == {school: ["student"]}


async def test_a_student_who_already_has_an_account_is_linked_not_duplicated(identity: Harness) -> None:
    school = await identity.school_with_admin("anne@roc-midden.example")
    other = await identity.school_with_admin("bert@roc-noord.example", "ROC Noord")
    await deliver(identity, (student(school, "1"), "stu-1"), (student(other, "9"), "stu-9"), school_id=school)
    users = await identity.db.users.count_documents({"email": "jan@student.example"})
    assert users == 1
    assert await identity.db.memberships.count_documents({"student_code": {"$in": ["1", "9"]}}) == 2


async def test_unusable_events_go_to_the_dead_letter_topic_with_a_reason(identity: Harness) -> None:
    school = await identity.school_with_admin("anne@roc-midden.example")
    runner = await deliver(
        identity,
        (student("sch_unknown", "5"), "stu-5"),
        (StudentCreatedV1.model_construct(**{**student(school, "6").model_dump(), "email": "geen adres"}), "stu-6"),
        school_id=school,
    )
    parked = await read_topic(identity.settings.kafka_bootstrap, runner.dlt, count=2)
    reasons = sorted(dict(r.headers)["dlt.error"].decode() for r in parked)
    assert reasons == [
        "invalid data: email: Value error, not a valid e-mail address",
        "unprocessable: unknown school sch_unknown",
    ]


async def test_only_a_linked_supervisor_may_view_as_the_student(identity: Harness) -> None:
    school = await identity.school_with_admin("anne@roc-midden.example")
    admin = await identity.token("anne@roc-midden.example")
    linked = await identity.add_member(school, admin, "sanne@roc-midden.example", ["school_supervisor"])
    await identity.add_member(school, admin, "sem@roc-midden.example", ["school_supervisor"])
    await deliver(
        identity,
        (student(school, "7", invite=False), "stu-7"),
        (
            PersonLinkedV1(
                student_id="stu-7", school_id=school, user_id=linked["user_id"], relation="school_supervisor"
            ),
            "stu-7",
        ),
        school_id=school,
    )
    sanne = await identity.token("sanne@roc-midden.example")
    sem = await identity.token("sem@roc-midden.example")
    assert (
        await identity.client.post(f"/v1/schools/{school}/students/stu-7/view-as", headers=sanne)
    ).status_code == 200
    assert (await identity.client.post(f"/v1/schools/{school}/students/stu-7/view-as", headers=sem)).status_code == 403
    await deliver(
        identity,
        (
            PersonUnlinkedV1(
                student_id="stu-7", school_id=school, user_id=linked["user_id"], relation="school_supervisor"
            ),
            "stu-7-unlink",
        ),
        school_id=school,
    )
    assert (
        await identity.client.post(f"/v1/schools/{school}/students/stu-7/view-as", headers=sanne)
    ).status_code == 403
