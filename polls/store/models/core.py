"""The database schema's core tables: staff, pilots, polls, codes, ballots, audit, results."""

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


class SignIn(Base):
    """A staff session, so it can be ended before its cookie expires (sign-out, a password
    change, an admin's "sign out everywhere"). Keyed by a digest of the cookie's secret: a
    reader of the database cannot sign in with what is stored."""

    __tablename__ = "staff_sign_ins"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime]


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
    # The returning officer's public key (ropk_...): poll cards' voter secrets are sealed to it.
    officer_public_key: Mapped[str | None] = mapped_column(String(80))
    paper_second_officer: Mapped[bool] = mapped_column(Boolean, default=False)
    # Days after a jury of this pilot reports before its pool's personal data is erased.
    personal_data_days: Mapped[int] = mapped_column(Integer, default=90, server_default="90")
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
    # Added by a council admin to an account that already existed: no role until its owner
    # accepts, and shown by the name the admin typed, so adding someone reveals nothing.
    pending: Mapped[bool] = mapped_column(Boolean, default=False)
    invited_name: Mapped[str | None] = mapped_column(String(120))

    staff: Mapped[Staff] = relationship(lazy="joined")

    @property
    def shown_name(self) -> str:
        return (self.invited_name or "") if self.pending else self.staff.name


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
    # Live results move in steps of at least this many ballots (polls.domain.secrecy).
    secrecy_k: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
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
    # Cards issued since migration 0010: the voter secret (polls.domain.voter_secrets) wrapped
    # under the card's own code, and sealed to the returning officer (poll cards only).
    wrapped_secret: Mapped[str | None] = mapped_column(String(64))
    sealed_secret: Mapped[str | None] = mapped_column(String(160))
    # Legacy cards (issued before 0010) only: nullifiers are keyed on the first card's reference,
    # which the service can recompute, so these cards are not protected against the operator.
    voter_key: Mapped[str | None] = mapped_column(String(32))


class Nullifier(Base):
    """Stops a second vote: HMAC(voter secret, poll). Kept apart from ballots, with
    no timestamp, no channel and no order that could tie it to a ballot."""

    __tablename__ = "nullifiers"
    __table_args__ = {"sqlite_with_rowid": False}

    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True)
    value: Mapped[str] = mapped_column(String(64), primary_key=True)


class PaperBatch(Base):
    """Paper ballots held for a second officer, with no code beside them (see polls.store.paper)."""

    __tablename__ = "paper_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    entered_by_id: Mapped[int] = mapped_column(Integer)  # a staff id: the confirmer must differ
    entered_at: Mapped[datetime]
    ballots: Mapped[list[Any]]  # area and answers of each, shuffled
    spent: Mapped[list[Any]]  # the nullifiers its codes spent, sorted


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
    # Each comment's [area id, channel], in the comments' order, for the analysis's counts by
    # area and channel (polls.domain.analysis); never shown beside a comment, never published.
    comment_origins: Mapped[list[Any]] = mapped_column(default=list)

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
