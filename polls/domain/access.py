"""Who may do what: staff roles per pilot turned into permissions."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from polls.domain.pilots import Role
from polls.errors import Forbidden


class Permission(StrEnum):
    VIEW_PILOT = "view_pilot"  # see its areas, polls and staff
    MANAGE_PILOT = "manage_pilot"  # change the pilot, its areas, staff and polls
    VIEW_RESULTS = "view_results"  # results and exports, also before publication
    RUN_JURY = "run_jury"
    ANALYSE_RESPONSES = "analyse_responses"  # read, tag and quote what residents wrote; edit themes


_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.COUNCIL_ADMIN: frozenset(Permission),
    Role.MODERATOR: frozenset({Permission.VIEW_PILOT, Permission.RUN_JURY}),
    Role.ANALYST: frozenset({Permission.VIEW_PILOT, Permission.VIEW_RESULTS, Permission.ANALYSE_RESPONSES}),
}

_DESCRIPTIONS = {
    Permission.VIEW_PILOT: "see this pilot",
    Permission.MANAGE_PILOT: "change this pilot (council admins only)",
    Permission.VIEW_RESULTS: "see results before they are published",
    Permission.RUN_JURY: "run jury sessions",
    Permission.ANALYSE_RESPONSES: "analyse what residents wrote",
}


@dataclass(frozen=True)
class Actor:
    """A signed-in staff member and their roles, as the guards see them."""

    staff_id: int
    email: str
    name: str
    is_site_admin: bool = False
    roles: dict[int, Role] = field(default_factory=dict)  # pilot id -> role

    def can(self, permission: Permission, pilot_id: int) -> bool:
        if self.is_site_admin:
            return True
        role = self.roles.get(pilot_id)
        return role is not None and permission in _GRANTS[role]

    def require(self, permission: Permission, pilot_id: int) -> None:
        if not self.can(permission, pilot_id):
            raise Forbidden(f"Your role does not allow you to {_DESCRIPTIONS[permission]}")

    def require_site_admin(self) -> None:
        if not self.is_site_admin:
            raise Forbidden("Only site administrators can create pilots")


SYSTEM = "system:scheduler"
