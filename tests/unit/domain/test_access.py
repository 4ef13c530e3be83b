"""Who may do what: each staff role's permissions within its own pilot, and the site admin's."""

from __future__ import annotations

import pytest

from polls.domain.access import Actor, Permission
from polls.domain.pilots import Role
from polls.errors import Forbidden

PILOT = 7
OTHER_PILOT = 8
GRANTED = {
    Role.COUNCIL_ADMIN: set(Permission),
    Role.MODERATOR: {Permission.VIEW_PILOT, Permission.RUN_JURY},
    Role.ANALYST: {Permission.VIEW_PILOT, Permission.VIEW_RESULTS, Permission.ANALYSE_RESPONSES},
}
EVERY_PAIR = [(role, permission) for role in Role for permission in Permission]


def staff(roles: dict[int, Role] | None = None, *, site_admin: bool = False) -> Actor:
    return Actor(
        staff_id=3,
        email="officer@northshire.example",
        name="Sam Officer",
        is_site_admin=site_admin,
        roles=roles or {},
    )


@pytest.mark.parametrize(("role", "permission"), EVERY_PAIR)
def test_role_grants_exactly_its_permissions_in_its_pilot(role: Role, permission: Permission) -> None:
    assert staff({PILOT: role}).can(permission, PILOT) is (permission in GRANTED[role])


@pytest.mark.parametrize(("role", "permission"), [p for p in EVERY_PAIR if p[1] in GRANTED[p[0]]])
def test_require_lets_a_granted_permission_through(role: Role, permission: Permission) -> None:
    staff({PILOT: role}).require(permission, PILOT)


@pytest.mark.parametrize(("role", "permission"), [p for p in EVERY_PAIR if p[1] not in GRANTED[p[0]]])
def test_require_refuses_a_permission_the_role_lacks(role: Role, permission: Permission) -> None:
    with pytest.raises(Forbidden) as caught:
        staff({PILOT: role}).require(permission, PILOT)
    assert (caught.value.status, caught.value.code) == (403, "forbidden")
    assert caught.value.message.startswith("Your role does not allow you to ")


@pytest.mark.parametrize(("role", "permission"), EVERY_PAIR)
def test_role_in_one_pilot_grants_nothing_in_another(role: Role, permission: Permission) -> None:
    actor = staff({PILOT: role})
    assert actor.can(permission, OTHER_PILOT) is False
    with pytest.raises(Forbidden):
        actor.require(permission, OTHER_PILOT)


@pytest.mark.parametrize("permission", list(Permission))
def test_staff_without_roles_can_do_nothing(permission: Permission) -> None:
    assert staff().can(permission, PILOT) is False
    with pytest.raises(Forbidden):
        staff().require(permission, PILOT)


def test_only_council_admins_may_manage_a_pilot() -> None:
    managers = {role for role in Role if staff({PILOT: role}).can(Permission.MANAGE_PILOT, PILOT)}
    assert managers == {Role.COUNCIL_ADMIN}


def test_roles_are_held_per_pilot() -> None:
    actor = staff({1: Role.ANALYST, 2: Role.MODERATOR})
    assert actor.can(Permission.VIEW_RESULTS, 1) and not actor.can(Permission.VIEW_RESULTS, 2)
    assert actor.can(Permission.RUN_JURY, 2) and not actor.can(Permission.RUN_JURY, 1)


def test_refusal_messages_say_which_permission_was_missing() -> None:
    messages = set()
    for permission in Permission:
        with pytest.raises(Forbidden) as caught:
            staff().require(permission, PILOT)
        messages.add(caught.value.message)
    assert len(messages) == len(Permission)


@pytest.mark.parametrize("permission", list(Permission))
@pytest.mark.parametrize("pilot_id", [PILOT, OTHER_PILOT, 0])
def test_site_admin_can_do_everything_in_every_pilot(permission: Permission, pilot_id: int) -> None:
    admin = staff(site_admin=True)
    assert admin.can(permission, pilot_id) is True
    admin.require(permission, pilot_id)


def test_site_admin_with_a_lesser_role_in_a_pilot_keeps_every_permission() -> None:
    admin = staff({PILOT: Role.ANALYST}, site_admin=True)
    assert all(admin.can(permission, PILOT) for permission in Permission)


def test_only_site_admins_pass_the_site_admin_check() -> None:
    staff(site_admin=True).require_site_admin()
    with pytest.raises(Forbidden) as caught:
        staff({PILOT: Role.COUNCIL_ADMIN}).require_site_admin()
    assert caught.value.message == "Only site administrators can create pilots"
