"""The database schema, as SQLAlchemy 2 models. The schema itself is created only by migrations."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; always hands back an aware datetime, whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_site_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Pilot(Base):
    __tablename__ = "pilots"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    region: Mapped[str] = mapped_column(String(120))
    council: Mapped[str] = mapped_column(String(160))
    languages: Mapped[list[Any]]
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    contact_email: Mapped[str] = mapped_column(String(254))
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    accessibility_url: Mapped[str | None] = mapped_column(String(500))
    accessibility_statement: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    areas: Mapped[list[Area]] = relationship(
        back_populates="pilot", order_by="Area.name", cascade="all, delete-orphan"
    )


class Area(Base):
    __tablename__ = "areas"
    __table_args__ = (UniqueConstraint("pilot_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilots.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    code: Mapped[str] = mapped_column(String(20))
    postcodes: Mapped[list[Any]]

    pilot: Mapped[Pilot] = relationship(back_populates="areas")


class StaffRole(Base):
    """A staff member's role in one pilot (site admins need none)."""

    __tablename__ = "staff_roles"
    __table_args__ = (UniqueConstraint("pilot_id", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilots.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))

    staff: Mapped[Staff] = relationship(lazy="joined")


poll_areas = Table(
    "poll_areas",
    Base.metadata,
    Column("poll_id", ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True),
    Column("area_id", ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True),
)


class Poll(Base):
    __tablename__ = "polls"

    id: Mapped[int] = mapped_column(primary_key=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilots.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    results_visibility: Mapped[str] = mapped_column(String(20))
    assurance: Mapped[str] = mapped_column(String(20))
    ballot_file_layout: Mapped[str] = mapped_column(
        String(20), default="per_question"
    )  # see published_ballots
    # Other languages the pilot offers: {"cy": {"title": ..., "description": ...}}
    translations: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    areas: Mapped[list[Area]] = relationship(secondary=poll_areas, order_by="Area.name")
    questions: Mapped[list[Question]] = relationship(
        back_populates="poll", order_by="Question.position", cascade="all, delete-orphan"
    )


class Question(Base):
    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    help_text: Mapped[str] = mapped_column(Text, default="")
    settings: Mapped[dict[str, Any]]
    translations: Mapped[dict[str, Any]] = mapped_column(default=dict)  # title, help text, scale labels

    poll: Mapped[Poll] = relationship(back_populates="questions")
    options: Mapped[list[Option]] = relationship(
        back_populates="question", order_by="Option.position", cascade="all, delete-orphan"
    )


class Option(Base):
    __tablename__ = "options"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    cost: Mapped[int | None] = mapped_column(BigInteger)
    translations: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"cy": {"label": ...}}

    question: Mapped[Question] = relationship(back_populates="options")


class AuditEntry(Base):
    """Append-only; each row's hash covers its content and the previous row's hash."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(254))
    pilot_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(String(120))
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """One row naming the chain's last entry; appenders lock it so the chain never forks."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    hash: Mapped[str] = mapped_column(String(64))


class ServiceKey(Base):
    """Keys that must never rotate (they key stored hashes), made once by a migration."""

    __tablename__ = "service_keys"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))


class CodeBatch(Base):
    """One issue of voter codes: poll cards for an area, or event codes for one poll."""

    __tablename__ = "code_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilots.id", ondelete="CASCADE"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    poll_id: Mapped[int | None] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))  # event codes
    kind: Mapped[str] = mapped_column(String(20))  # poll_card | event
    count: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class VoterCode(Base):
    """A code names an opaque reference, never a person: the council keeps the mapping to its
    register in its own mail-merge. The short code is stored only as a keyed hash."""

    __tablename__ = "voter_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilots.id", ondelete="CASCADE"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("code_batches.id", ondelete="CASCADE"), index=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    short_digest: Mapped[str] = mapped_column(String(64), unique=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    replaces: Mapped[str | None] = mapped_column(String(32))  # reference of the lost card it replaces
    # What nullifiers are made from: the first card's reference, carried by every replacement,
    # so a card reported lost after voting cannot vote again through its replacement.
    voter_key: Mapped[str | None] = mapped_column(String(32))


class Nullifier(Base):
    """Stops a second vote: a keyed hash of (voter reference, poll). Kept apart from ballots, with
    no timestamp, no channel and no order that could tie it to a ballot."""

    __tablename__ = "nullifiers"
    __table_args__ = {"sqlite_with_rowid": False}

    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True)
    value: Mapped[str] = mapped_column(String(64), primary_key=True)


class Ballot(Base):
    """One anonymous ballot: no voter reference, no code, no timestamp. Its key is the poll and
    its tracker (a salted hash), so one index serves both storage and the public tracker list."""

    __tablename__ = "ballots"
    __table_args__ = {"sqlite_with_rowid": False}

    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True)
    tracker: Mapped[str] = mapped_column(String(64), primary_key=True)
    area_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(10))  # online | event | paper
    answers: Mapped[dict[str, Any]]


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
    draw: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the draw record (polls-sortition-draw/1)
    drawn_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PoolMember(Base):
    """One person in a jury's recruitment pool: the council's id for them, their features and a
    keyed hash of their household; never a name, an address or a contact detail."""

    __tablename__ = "jury_pool_members"
    __table_args__ = (UniqueConstraint("jury_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jury_id: Mapped[int] = mapped_column(ForeignKey("juries.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[str] = mapped_column(String(64))  # the id column of the council's CSV
    position: Mapped[int] = mapped_column(Integer)  # order in the uploaded file
    features: Mapped[dict[str, Any]]  # category -> feature
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

    pool_member: Mapped[PoolMember] = relationship(lazy="joined", innerjoin=True)


# Official results


class OfficialResult(Base):
    """A closed poll's official count, made from its ballots in the database when it closed.

    ``ballot_file`` is the published anonymised ballot file exactly as offered for download, so
    its SHA-256 stays the same and anyone can check that `polls recount` on it gives the results
    stored here."""

    __tablename__ = "official_results"

    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True)
    ballots: Mapped[int] = mapped_column(Integer)
    # {"areas": [{"area_id", "area", "ballots"}], "channels": {"online": n, "event": n, "paper": n}}
    turnout: Mapped[dict[str, Any]]
    ballot_file: Mapped[str] = mapped_column(Text)
    ballot_file_sha256: Mapped[str] = mapped_column(String(64))
    counted_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    # Free-text comments, shuffled, in review (polls.domain.comment_review); the file's last lines
    comments: Mapped[list[Any]] = mapped_column(default=list)

    questions: Mapped[list[QuestionResult]] = relationship(
        order_by="QuestionResult.position", cascade="all, delete-orphan"
    )


class QuestionResult(Base):
    """One question's official result (``as_json`` of the count; comments: how many answered)
    and the council's response to it ("you said, we did")."""

    __tablename__ = "question_results"

    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True)
    poll_id: Mapped[int] = mapped_column(
        ForeignKey("official_results.poll_id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    method: Mapped[str | None] = mapped_column(String(30))  # None: a comment question, not counted
    result: Mapped[dict[str, Any]]
    response: Mapped[str] = mapped_column(Text, default="")


class FollowUp(Base):
    """A dated update on what the council did after a decision: on a published poll or a reported
    jury (``subject_kind`` "poll" or "jury", ``subject_id`` its id)."""

    __tablename__ = "follow_ups"
    __table_args__ = (Index("ix_follow_ups_subject", "subject_kind", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilots.id", ondelete="CASCADE"), index=True)
    subject_kind: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    milestone_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str | None] = mapped_column(String(20))  # planned | in_progress | done
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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
    """One event of a session's log. Votes name their juror here (the room needs it to let a
    juror change their vote and see it), so this table is never shown as it is: everyone reads
    events through polls.domain.jury_views.project, and votes never reach the audit log."""

    __tablename__ = "jury_events"
    __table_args__ = (UniqueConstraint("session_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("jury_sessions.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]]
    at: Mapped[float] = mapped_column(Float(precision=53))  # seconds since the epoch, as decided
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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
