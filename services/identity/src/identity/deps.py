"""Identity's typed route dependencies: its settings, keys and password hashing, the caller and their address."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from fastapi import Depends, Request

from identity.keys import SigningKeys
from identity.passwords import Passwords
from identity.problems import forbidden
from identity.settings import IdentitySettings
from kit.auth import Principal, Role, current_principal, require_operator, require_roles
from kit.deps import app_state
from kit.errors import Text

IdentityConfig = Annotated[IdentitySettings, Depends(app_state("settings"))]
Keys = Annotated[SigningKeys, Depends(app_state("keys"))]
PasswordHashing = Annotated[Passwords, Depends(app_state("passwords"))]


def is_trusted_proxy(host: str, trusted: list[str]) -> bool:
    """True when host is one of the trusted addresses or inside a trusted range (CIDR, e.g. 10.0.0.0/8)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(entry, strict=False) for entry in trusted)


def client_address(request: Request, settings: IdentityConfig) -> str:
    """The caller's address; behind our own proxy, the one it appended to X-Forwarded-For."""
    host = request.client.host if request.client else "unknown"
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded and is_trusted_proxy(host, settings.trusted_proxies):
        return forwarded.split(",")[-1].strip()[:64]
    return host


def school_reader(school_id: str, principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    """Members of the school and the operator."""
    if not principal.operator and not principal.roles_in(school_id):
        raise forbidden(Text("Je bent geen lid van deze school.", "You are not a member of this school."))
    return principal


def school_manager(school_id: str, principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    """The school's admins and the operator."""
    if not principal.operator and Role.SCHOOL_ADMIN not in principal.roles_in(school_id):
        raise forbidden(Text("Alleen de beheerder van deze school mag dit.",
                             "Only this school's admin may do this."))
    return principal


ClientAddress = Annotated[str, Depends(client_address)]
SchoolReader = Annotated[Principal, Depends(school_reader)]
SchoolManager = Annotated[Principal, Depends(school_manager)]
SchoolAdmin = Annotated[Principal, Depends(require_roles(Role.SCHOOL_ADMIN))]
Operator = Annotated[Principal, Depends(require_operator)]
