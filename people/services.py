"""Every write to people and phones goes through here (P2, P4, T9, T10)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from config import api as config_api
from people import phone_numbers, selectors
from people.models import (
    Person,
    PersonPhone,
    PhoneStatusChange,
    PhoneType,
    Role,
    SmsStatus,
    StatusCause,
)

Actor = AbstractBaseUser | AnonymousUser | None


def _user_or_none(actor: Actor) -> Any:
    return actor if actor is not None and actor.is_authenticated else None


def roles_by_codes(codes: Iterable[str]) -> list[Role]:
    """:raises ValidationError: naming every unknown role code."""
    wanted = list(dict.fromkeys(codes))
    found = {r.code: r for r in Role.objects.filter(code__in=wanted)}
    unknown = [c for c in wanted if c not in found]
    if unknown:
        raise ValidationError(f"Unknown role code(s): {', '.join(unknown)}.", code="unknown_role")
    return [found[c] for c in wanted]


def _user_for(username: str | None) -> Any:
    """The login user named `username`, created when missing (without a usable password)."""
    if not username:
        return None
    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


LOGIN_REFUSAL = (
    "Only an administrator may create, link or unlink a person's login (username); an "
    "integration cannot. Ask an administrator to do it (the admin, or their own API token)."
)


def permitted_role_refusal(roles: Iterable[Role]) -> str:
    names = ", ".join(f"'{r.code}'" for r in roles)
    return (
        f"Only an administrator may give a person the role {names}: its holders may send "
        "texts (permitted roles, SMS Configuration). Ask an administrator to do it."
    )


def access_grant_allowed(actor: Actor) -> bool:
    """Logins and permitted roles are an administrator's to give (or the operator's: no request
    user, at the command line)."""
    return actor is None or config_api.is_administrator(actor)


def person_access_record(*, actor: Actor, changes: Iterable[tuple[Person, list[str]]]) -> None:
    """Record who changed people's logins or permitted roles, in the admin's change history
    (a person's History in the admin, and Recent actions); one insert. The operator's changes
    at the command line have no request user and are not recorded."""
    user = _user_or_none(actor)
    if user is None:
        return
    content_type = ContentType.objects.get_for_model(Person)
    LogEntry.objects.bulk_create(
        LogEntry(
            user_id=user.pk,
            content_type=content_type,
            object_id=str(person.pk),
            object_repr=str(person)[:200],
            action_flag=CHANGE,
            change_message="; ".join(lines) + ".",
        )
        for person, lines in changes
        if lines
    )


def access_changes_describe(
    *,
    old_username: str = "",
    new_username: str = "",
    added: Iterable[Role] = (),
    removed: Iterable[Role] = (),
    permitted_role_ids: Collection[int],
) -> list[str]:
    """The changes to a person's login and permitted roles, in words for the record."""
    changes = []
    if old_username != new_username:
        if not new_username:
            changes.append(f"Login '{old_username}' unlinked")
        elif not old_username:
            changes.append(f"Login '{new_username}' linked")
        else:
            changes.append(f"Login changed from '{old_username}' to '{new_username}'")
    granted = sorted(r.code for r in added if r.pk in permitted_role_ids)
    revoked = sorted(r.code for r in removed if r.pk in permitted_role_ids)
    if granted:
        changes.append(f"Permitted role(s) given: {', '.join(granted)}")
    if revoked:
        changes.append(f"Permitted role(s) taken away: {', '.join(revoked)}")
    return changes


@transaction.atomic
def person_create(
    *,
    first_name: str,
    last_name: str,
    email: str = "",
    src_system_id: str | None = None,
    roles: Iterable[Role] = (),
    user: Any = None,
    username: str | None = None,
    actor: Actor = None,
    permitted_role_ids: Collection[int] = (),
) -> Person:
    """Create a person; a `username` creates or links their login.

    Linking a login or giving a permitted role (`permitted_role_ids`, the roles that may send
    texts) is an administrator's act, recorded in the admin's change history.

    :raises PermissionDenied: when `actor` is not an administrator and links a login or gives a
        permitted role.
    """
    roles = list(roles)
    granted = [r for r in roles if r.pk in permitted_role_ids]
    if not access_grant_allowed(actor):
        if username:
            raise PermissionDenied(LOGIN_REFUSAL)
        if granted:
            raise PermissionDenied(permitted_role_refusal(granted))
    if username:
        user = _user_for(username)
    person = Person.objects.create(
        first_name=first_name,
        last_name=last_name,
        email=email,
        src_system_id=src_system_id or None,
        user=user,
    )
    person.roles.set(roles)
    changes = access_changes_describe(
        new_username=user.get_username() if user is not None else "",
        added=roles,
        permitted_role_ids=permitted_role_ids,
    )
    person_access_record(actor=actor, changes=[(person, changes)])
    return person


@transaction.atomic
def person_update(
    person: Person,
    *,
    roles: Iterable[Role] | None = None,
    username: str | None = None,
    actor: Actor = None,
    permitted_role_ids: Collection[int] = (),
    **fields: Any,
) -> Person:
    """Edit a person; `username` links (or, empty, unlinks) their login; `roles` replace theirs.

    Changing the login or giving a permitted role is an administrator's act, recorded in the
    admin's change history; taking a permitted role away is recorded too. Repeating the current
    login or roles changes nothing and needs no administrator.

    :raises PermissionDenied: when `actor` is not an administrator and changes the login or
        gives a permitted role.
    """
    old_username = person.user.get_username() if person.user is not None else ""
    new_username = old_username if username is None else username
    old_roles = list(person.roles.all())
    new_roles = old_roles if roles is None else list(roles)
    added = [r for r in new_roles if r not in old_roles]
    removed = [r for r in old_roles if r not in new_roles]
    if not access_grant_allowed(actor):
        if new_username != old_username:
            raise PermissionDenied(LOGIN_REFUSAL)
        granted = [r for r in added if r.pk in permitted_role_ids]
        if granted:
            raise PermissionDenied(permitted_role_refusal(granted))
    if new_username != old_username:
        fields["user"] = _user_for(new_username)
    for name, value in fields.items():
        setattr(person, name, value)
    if "src_system_id" in fields:
        person.src_system_id = person.src_system_id or None
    person.save()
    if roles is not None:
        person.roles.set(new_roles)
    changes = access_changes_describe(
        old_username=old_username,
        new_username=new_username,
        added=added,
        removed=removed,
        permitted_role_ids=permitted_role_ids,
    )
    person_access_record(actor=actor, changes=[(person, changes)])
    return person


def duplicate_number_message(number: str, phone_id: int) -> str:
    return (
        f"{number} is already one of this person's phones (phone {phone_id}); edit that one "
        "instead of adding it again."
    )


def phone_create(
    *,
    person: Person,
    number: str,
    phone_type: PhoneType,
    sms_status: str = SmsStatus.DEFAULT,
    verified_by: Actor = None,
    verified_at: datetime | None = None,
    src_system_id: str = "",
    phone_type_src_system_id: str = "",
    actor: Actor = None,
) -> PersonPhone:
    """Add a phone; `number` is normalised to E.164.

    A phone created SMS Enabled or SMS Disabled records that status as a change from SMS
    Default by `actor` (T10), so every non-default status has a recorded cause. A number the
    person already has (not deleted) is refused; adds to one person run one after the other
    (the person's row is locked), so two racing adds of a number make one phone.

    :raises ValidationError: when the number is not a valid phone number, or is already one of
        the person's phones.
    """
    normalized = phone_numbers.phone_number_normalize(number)
    with transaction.atomic():
        list(Person.objects.select_for_update().filter(pk=person.pk).values_list("pk"))
        same = PersonPhone.objects.filter(person=person, number=normalized, deleted=False).first()
        if same is not None:
            raise ValidationError({"number": duplicate_number_message(normalized, same.pk)})
        phone = PersonPhone.objects.create(
            person=person,
            number=normalized,
            phone_type=phone_type,
            sms_status=sms_status,
            verified_at=verified_at or (timezone.now() if verified_by is not None else None),
            verified_by=_user_or_none(verified_by),
            src_system_id=src_system_id,
            phone_type_src_system_id=phone_type_src_system_id,
        )
        if sms_status != SmsStatus.DEFAULT:
            PhoneStatusChange.objects.create(
                phone=phone,
                old_status=SmsStatus.DEFAULT,
                new_status=sms_status,
                cause=StatusCause.MANUAL,
                changed_by=_user_or_none(actor),
            )
    return phone


def phone_status_set(
    *,
    phone: PersonPhone,
    status: str,
    cause: str,
    actor: Actor = None,
    error_code: int | None = None,
    reason: str = "",
) -> bool:
    """Set a phone's SMS status and record the change (T10), with the editor's `reason` if
    any. Returns whether it changed.

    The update is conditional on the old status, so two racing changes record one change each
    only when each really changed the row.
    """
    old = phone.sms_status
    if old == status:
        return False
    with transaction.atomic():
        changed = PersonPhone.objects.filter(pk=phone.pk, sms_status=old).update(
            sms_status=status, updated_at=timezone.now()
        )
        if not changed:
            phone.refresh_from_db(fields=["sms_status"])
            return False
        PhoneStatusChange.objects.create(
            phone=phone,
            old_status=old,
            new_status=status,
            cause=cause,
            error_code=error_code,
            changed_by=_user_or_none(actor),
            reason=reason,
        )
    phone.sms_status = status
    return True


def person_phones_disable(
    *, person_id: int, cause: str, actor: Actor = None, error_code: int | None = None
) -> int:
    """Disable every active phone of a person (T4, 21610). Returns how many changed."""
    changed = 0
    phones = PersonPhone.objects.filter(person_id=person_id, deleted=False).exclude(
        sms_status=SmsStatus.DISABLED
    )
    for phone in phones:
        changed += phone_status_set(
            phone=phone,
            status=SmsStatus.DISABLED,
            cause=cause,
            actor=actor,
            error_code=error_code,
        )
    return changed


SYSTEM_PHONE_MESSAGE = (
    "System numbers are assigned from the sender pool when a staff member first texts; "
    "they cannot be added or edited as phones. Delete the assignment on Phone Number Usage, "
    "which also frees the number."
)


class PhoneDeletedError(ValidationError):
    """The phone is soft-deleted: kept as a record, no longer edited."""


def opt_out_explanation(change: PhoneStatusChange) -> str:
    """Why this phone is SMS Disabled: its owner's own opt-out, and when."""
    when = timezone.localtime(change.changed_at).strftime("%Y-%m-%d %H:%M %Z")
    what = (
        "opted out by text (STOP or a similar word)"
        if change.cause == StatusCause.OPT_OUT
        else "unsubscribed (Twilio refused a text to it with error 21610)"
    )
    return f"{change.phone.number} is SMS Disabled because its owner {what} on {when}."


def opt_out_lift_refusal(change: PhoneStatusChange) -> str:
    """Why only an administrator may lift this SMS Disabled, in words for the editor."""
    return (
        f"{opt_out_explanation(change)} Only an administrator can lift the person's own "
        "opt-out, with a written reason."
    )


OPT_OUT_REASON_REQUIRED = (
    "The person opted out themselves: write why texting them again is right (for example, "
    '"asked in person on 2 March to receive texts again"). It is kept in the phone\'s history.'
)


@transaction.atomic
def phone_update(
    *,
    phone: PersonPhone,
    actor: Actor,
    sms_status: str | None = None,
    verified: bool | None = None,
    expected_status: str | None = None,
    reason: str = "",
    **fields: Any,
) -> PersonPhone:
    """Edit a phone by hand: status changes are recorded with cause `manual` and the editor's
    `reason` (T10).

    `expected_status` is the status the editor saw; when the phone has changed since (a STOP
    arrived while the page was open), nothing is saved, so a stale form never lifts SMS Disabled.
    SMS Disabled set by the person's own opt-out (STOP, or Twilio's 21610) is lifted only by an
    administrator giving a reason. Only the edited columns are written.

    :raises PermissionDenied: when someone other than an administrator lifts the person's own
        opt-out.
    :raises PhoneDeletedError: for a soft-deleted phone (it is kept for the record, not edited).
    :raises ValidationError: when the status changed since the editor saw it, when a lifted
        opt-out has no reason, on a bad number, or for a system number
        (P4, S8: managed on Phone Number Usage).
    """
    if phone.deleted:
        raise PhoneDeletedError(
            f"Phone {phone.pk} ({phone.number}) was deleted and cannot be edited. Add the "
            "number to the person again to use it."
        )
    if phone.is_system:
        raise ValidationError(SYSTEM_PHONE_MESSAGE)
    if expected_status is not None and phone.sms_status != expected_status:
        raise ValidationError(
            {
                "sms_status": (
                    f"The SMS status of {phone.number} changed to "
                    f"{SmsStatus(phone.sms_status).label} since you opened the page; "
                    "nothing was saved. Check it and save again."
                )
            }
        )
    reason = reason.strip()
    if sms_status is not None and sms_status != phone.sms_status:
        opt_out = selectors.phone_opt_out_change(phone)
        if opt_out is not None:
            if not config_api.is_administrator(actor):
                raise PermissionDenied(opt_out_lift_refusal(opt_out))
            if not reason:
                raise ValidationError({"reason": OPT_OUT_REASON_REQUIRED})
    changed: list[str] = []
    if "number" in fields:
        fields["number"] = phone_numbers.phone_number_normalize(fields["number"])
    with transaction.atomic():
        if sms_status is not None:
            phone_status_set(
                phone=phone,
                status=sms_status,
                cause=StatusCause.MANUAL,
                actor=actor,
                reason=reason,
            )
        if verified is True and phone.verified_at is None:
            phone.verified_at = timezone.now()
            phone.verified_by = _user_or_none(actor)
            changed += ["verified_at", "verified_by"]
        elif verified is False and phone.verified_at is not None:
            phone.verified_at = None
            phone.verified_by = None
            changed += ["verified_at", "verified_by"]
        for name, value in fields.items():
            setattr(phone, name, value)
            changed.append(name)
        if changed:
            phone.save(update_fields=[*changed, "updated_at"])
    return phone


def phone_delete(*, phone: PersonPhone, releasing_assignment: bool = False) -> PersonPhone:
    """Soft-delete: the record stays, with deleted = true (P2).

    A system number is soft-deleted only by the release of its assignment (S8), which frees
    the pool number in the same transaction.

    :raises ValidationError: for a system number outside that release.
    """
    if phone.is_system and not releasing_assignment:
        raise ValidationError(SYSTEM_PHONE_MESSAGE)
    if not phone.deleted:
        phone.deleted = True
        phone.save(update_fields=["deleted", "updated_at"])
    return phone
