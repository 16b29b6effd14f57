"""Events published by the identity service (topic identity.events)."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from contracts.envelope import Event
from contracts.registry import register
from contracts.values import EmailAddress

Language = Literal["nl", "en"]


@register
class SchoolCreatedV1(Event):
    """The operator created a school (tenant)."""

    TYPE = "identity.school_created"
    VERSION = 1
    SUBJECT = "school_id"
    school_id: str
    name: str = Field(max_length=200)
    brin: str | None = Field(default=None, max_length=8)


@register
class UserCreatedV1(Event):
    """A person got an account (one per e-mail address across all schools)."""

    TYPE = "identity.user_created"
    VERSION = 1
    SUBJECT = "user_id"
    user_id: str
    email: EmailAddress
    display_name: str = Field(max_length=200)
    language: Language = "nl"


@register
class UserUpdatedV1(Event):
    """A person's account details changed; carries the full current state."""

    TYPE = "identity.user_updated"
    VERSION = 1
    SUBJECT = "user_id"
    user_id: str
    email: EmailAddress
    display_name: str = Field(max_length=200)
    language: Language = "nl"
    active: bool = True


@register
class UserDeactivatedV1(Event):
    """A person may no longer log in to a school (school_id) or to the platform (school_id None)."""

    TYPE = "identity.user_deactivated"
    VERSION = 1
    SUBJECT = "user_id"
    user_id: str
    school_id: str | None = None


@register
class UserReactivatedV1(Event):
    """A person deactivated in a school (school_id) or on the platform (None) may log in again."""

    TYPE = "identity.user_reactivated"
    VERSION = 1
    SUBJECT = "user_id"
    user_id: str
    school_id: str | None = None


@register
class MembershipGrantedV1(Event):
    """A person got a role in a school; `roles` is every role they now hold there."""

    TYPE = "identity.membership_granted"
    VERSION = 1
    SUBJECT = "user_id"
    user_id: str
    school_id: str
    role: str
    roles: list[str]
    student_code: str | None = None
    student_id: str | None = Field(default=None, description="Enrollment's student record, for role student")


@register
class MembershipRevokedV1(Event):
    """A person lost a role in a school; `roles` is every role they still hold there."""

    TYPE = "identity.membership_revoked"
    VERSION = 1
    SUBJECT = "user_id"
    user_id: str
    school_id: str
    role: str
    roles: list[str]


@register
class InvitationRequestedV1(Event):
    """Send a person their login code: a single-use link to set a password."""

    TYPE = "identity.invitation_requested"
    VERSION = 1
    SUBJECT = "user_id"
    user_id: str
    school_id: str
    school_name: str
    email: EmailAddress
    display_name: str
    language: Language = "nl"
    link: str
    expires_at: datetime


@register
class PasswordResetRequestedV1(Event):
    """Send a person a single-use link to choose a new password (a security e-mail)."""

    TYPE = "identity.password_reset_requested"
    VERSION = 1
    SUBJECT = "user_id"
    user_id: str
    email: EmailAddress
    display_name: str
    language: Language = "nl"
    link: str
    expires_at: datetime


@register
class SchoolAccessGrantedV1(Event):
    """A person who already has an account (and a password) got access to another school: send them a notice."""

    TYPE = "identity.school_access_granted"
    VERSION = 1
    SUBJECT = "user_id"
    user_id: str
    school_id: str
    school_name: str
    email: EmailAddress
    display_name: str
    language: Language = "nl"
    roles: list[str]
    link: str = Field(description="Where the person logs in")
