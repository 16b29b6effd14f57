"""An existing account given access to another school hears it by e-mail, through the real broker and SMTP sink."""

from __future__ import annotations

import uuid

from contracts.identity import SchoolAccessGrantedV1


async def test_access_to_another_school_is_a_security_email_in_the_persons_language(worker, sink) -> None:
    tag = uuid.uuid4().hex[:6]
    dutch, english = f"toegang-{tag}@bedrijf.example", f"access-{tag}@bedrijf.example"
    await worker.publish(
        SchoolAccessGrantedV1(user_id=f"usr_{tag}nl", school_id=worker.school_id, school_name="ROC Noord",
                              email=dutch, display_name="Piet Jansen", language="nl",
                              roles=["assessor", "workplace_trainer"], link="https://exam.example/"),
        SchoolAccessGrantedV1(user_id=f"usr_{tag}en", school_id=worker.school_id, school_name="ROC Noord",
                              email=english, display_name="Alex Smith", language="en", roles=["assessor"],
                              link="https://exam.example/"))
    # generous: the worker is shared with the other tests of the session and the machine may be busy
    [to_dutch] = await sink.wait_for(dutch, timeout_s=60)
    [to_english] = await sink.wait_for(english, timeout_s=60)
    assert to_dutch["Subject"] == "Je hebt nu ook toegang tot ROC Noord"
    text = to_dutch.get_body(("plain",)).get_content()
    assert "Beste Piet Jansen" in text and "als examinator, praktijkopleider" in text
    assert "je huidige wachtwoord" in text and "https://exam.example/" in text
    assert 'href="https://exam.example/"' in to_dutch.get_body(("html",)).get_content()
    assert to_english["Subject"] == "You now also have access to ROC Noord"
    assert "as assessor." in to_english.get_body(("plain",)).get_content()
