"""The juries' tables: selection by lot, live deliberation sessions and reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from polls.store.models.core import Base, utcnow
from polls.store.sealing import SealedJSON

# Juries ---------------------------------------------------------------------------------------
# Selection by lot (polls.store.juries): the jury, its recruitment pool (ids and features only;
# the council keeps names and addresses), the published lottery, the draw, and the jurors invited.


class Jury(Base):
    """A citizens' jury (12-24) or assembly (up to 150) and its selection.

    Status: setting_up -> computed (lottery ready, not yet public) -> published (probabilities and
    seed commitment public) -> drawn (seed revealed, panel and reserves fixed) -> inviting ->
    in_session -> reported.
    """

    __tablename__ = "juries"

    id: Mapped[int] = mapped_column(primary_key=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilots.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    remit: Mapped[str] = mapped_column(Text)  # the question the jury answers
    kind: Mapped[str] = mapped_column(String(20))  # jury | assembly
    size: Mapped[int] = mapped_column(Integer)  # k, seats on the panel
    threshold: Mapped[int] = mapped_column(Integer)  # supermajority for recommendations, percent
    households_apart: Mapped[bool] = mapped_column(Boolean, default=False)  # one per household
    status: Mapped[str] = mapped_column(String(20), default="setting_up", index=True)
    # [{"category", "feature", "min", "max"}], categories in the categories file's order.
    quotas: Mapped[list[Any]] = mapped_column(default=list)
    # A running or failed solve: {"state": "running"|"failed", "started_at", "step", "fraction",
    # "panels", "lowest", "report" (infeasibility in words), "relaxations": [...]}; None when idle.
    solve: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    lottery: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the published lottery file
    lottery_facts: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # seconds, panels, groups, lowest
    seed_sha256: Mapped[str | None] = mapped_column(String(64))  # the commitment
    seed: Mapped[str | None] = mapped_column(String(64))  # secret until drawn, public after
    computed_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    randomness_source: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # named at publication
    draw: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the draw record (polls-sortition-draw/1)
    drawn_at: Mapped[datetime | None]
    personal_data_erased_at: Mapped[datetime | None]  # its pool's personal data, after the retention period
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PoolMember(Base):
    """One person in a jury's recruitment pool: the council's id for them, their features (sealed:
    polls.store.sealing) and a keyed hash of their household; never a name, an address or a
    contact detail. Erased (polls.store.personal_data) once the jury has reported and the pilot's
    retention period has passed."""

    __tablename__ = "jury_pool_members"
    __table_args__ = (UniqueConstraint("jury_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jury_id: Mapped[int] = mapped_column(ForeignKey("juries.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[str] = mapped_column(String(64))  # the id column of the council's CSV
    position: Mapped[int] = mapped_column(Integer)  # order in the uploaded file
    features: Mapped[dict[str, Any]] = mapped_column(SealedJSON)  # category -> feature, sealed at rest
    household: Mapped[str | None] = mapped_column(String(64))  # keyed hash; None: nobody else


class Juror(Base):
    """Someone drawn for the panel (or as a reserve) and their invitation.

    Status: waiting (a reserve not yet asked) -> invited -> accepted | declined | expired;
    accepted -> withdrawn. ``seat`` is the panel seat they are asked to fill (a reserve takes the
    seat of the juror they replace).
    """

    __tablename__ = "jurors"
    __table_args__ = (UniqueConstraint("jury_id", "pool_member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jury_id: Mapped[int] = mapped_column(ForeignKey("juries.id", ondelete="CASCADE"), index=True)
    pool_member_id: Mapped[int] = mapped_column(ForeignKey("jury_pool_members.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(10))  # panel | reserve, as drawn
    position: Mapped[int] = mapped_column(Integer)  # 1-based: panel by id, reserves in the draw's order
    seat: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="waiting")
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("jurors.id", ondelete="SET NULL"))
    invite_nonce: Mapped[str | None] = mapped_column(String(32))  # None once spent
    invited_at: Mapped[datetime | None]
    invite_expires_at: Mapped[datetime | None]
    link_exported_at: Mapped[datetime | None]  # when the officer last downloaded this invitation
    responded_at: Mapped[datetime | None]
    room_nonce: Mapped[str | None] = mapped_column(String(32))  # JUROR_ROOM links carry it
    display_name: Mapped[str | None] = mapped_column(String(40))  # chosen when accepting
    # Where the council wrote to them (an officer enters it to send the invitation): invitations,
    # session reminders and "send me my room link again" go there. Either may be None.
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)  # E.164

    pool_member: Mapped[PoolMember] = relationship(lazy="joined", innerjoin=True)


# Jury sessions ---------------------------------------------------------------------------------
# Live deliberation rooms (polls.store.jury_sessions): a session's state is the fold of its event
# log (polls.domain.jury_room). ``last_seq`` is the log's counter: appenders lock the session row
# and take the next numbers, so every session's log is numbered 1, 2, 3, ... without gaps.


class JurySession(Base):
    __tablename__ = "jury_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    jury_id: Mapped[int] = mapped_column(ForeignKey("juries.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="waiting")  # waiting | live | ended
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    jury: Mapped[Jury] = relationship(lazy="joined")


class JuryEvent(Base):
    """One event of a session's log: a secret vote's say who voted and the tally, never how; a named
    vote's name each juror with their choice. Read through jury_views.project; never audited."""

    __tablename__ = "jury_events"
    __table_args__ = (UniqueConstraint("session_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("jury_sessions.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]]
    at: Mapped[float] = mapped_column(Float(precision=53))  # seconds since the epoch, as decided
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class JurySecretTally(Base):
    """An open secret vote's tally: counts only (no juror, no time), deleted when it closes."""

    __tablename__ = "jury_secret_tallies"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("jury_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    recommendation: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    yes: Mapped[int] = mapped_column(Integer, default=0)
    no: Mapped[int] = mapped_column(Integer, default=0)
    abstain: Mapped[int] = mapped_column(Integer, default=0)


# Jury reports ----------------------------------------------------------------------------------
# The council's answer to a jury (polls.store.jury_reports): a response to each recommendation
# the jury voted on, named by its session and its id in that session's room, and the publication.


class JuryResponse(Base):
    __tablename__ = "jury_responses"
    __table_args__ = (UniqueConstraint("session_id", "recommendation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jury_id: Mapped[int] = mapped_column(ForeignKey("juries.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("jury_sessions.id", ondelete="CASCADE"))
    recommendation_id: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(20))  # accepted | in_part | not_accepted | considering
    explanation: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(254))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class JuryReport(Base):
    """A jury's report once published: from then on the jury is "reported" and its report public."""

    __tablename__ = "jury_reports"

    jury_id: Mapped[int] = mapped_column(ForeignKey("juries.id", ondelete="CASCADE"), primary_key=True)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by: Mapped[str] = mapped_column(String(254))
