"""Scenarios, plans and forecasts in a real database (SQLAlchemy): a SQLite file by default, any
SQLAlchemy URL (PostgreSQL) through ``QUOTAPLAN_DATABASE_URL``.

Plans are versioned within their scenario and never overwritten: a new plan, or a re-plan of an
old one, is a new row with the next version. Each plan keeps the request that made it (inputs,
target, policy, limits), so any plan can be reproduced.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    func,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from . import fastjson


class Base(DeclarativeBase):
    pass


def _now() -> datetime:
    return datetime.now(UTC)


def utc_iso(moment: datetime) -> str:
    """A moment as ISO 8601 in UTC with ``Z``, as every timestamp the API writes."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class UtcDateTime(TypeDecorator):
    """A moment in UTC, read back with its timezone: SQLite keeps none, so a stored time would
    otherwise come back naive (and be written without its ``Z``)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None:
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value


class Scenario(Base):
    __tablename__ = "scenarios"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=_now)


class PlanRecord(Base):
    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("scenario_id", "version", name="one_plan_per_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenarios.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # "plan" or "replan"
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=_now)
    created_by: Mapped[str] = mapped_column(String(200))
    request: Mapped[dict] = mapped_column(JSON)  # everything needed to reproduce the plan
    summary: Mapped[dict] = mapped_column(JSON)
    quotas: Mapped[list] = mapped_column(JSON)  # per rep and quarter
    reps: Mapped[list] = mapped_column(JSON)  # per rep
    #: draft -> in_review -> approved -> published (then changed only by a new version)
    state: Mapped[str] = mapped_column(String(20), default="draft")
    #: Bumped by every change of the quotas in place (an approved adjustment before publishing).
    content_rev: Mapped[int] = mapped_column(Integer, default=0)


class AuditRecord(Base):
    """One change (who, when, what, before, after, why), appended in the same transaction as the
    change itself; the Store never updates or deletes these rows."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=_now)
    who: Mapped[str] = mapped_column(String(200))
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    rep_id: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    before: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    why: Mapped[str] = mapped_column(String(2000), default="")


class AdjustmentRecord(Base):
    """A manager's proposed change to a rep's quota, with the team rebalanced around it, waiting
    for approval at each level of the hierarchy (``levels``, in order)."""

    __tablename__ = "adjustments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    rep_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=_now)
    proposed_by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # approved / rejected
    levels: Mapped[list] = mapped_column(JSON)  # ["team:EMEA-1", "region:EMEA"]
    decisions: Mapped[list] = mapped_column(JSON, default=list)  # {level, who, decision, ...}
    step: Mapped[int] = mapped_column(Integer, default=0)  # decisions taken (for concurrency)
    #: What it was computed against: the plan's content_rev and the scenario's latest version.
    plan_rev: Mapped[int] = mapped_column(Integer, default=0)
    scenario_version: Mapped[int] = mapped_column(Integer, default=0)
    quotas: Mapped[list] = mapped_column(JSON)  # the plan's quotas with the change and rebalance
    reps: Mapped[list] = mapped_column(JSON)
    changes: Mapped[list] = mapped_column(JSON)  # per rep moved: rep_id, before, after


class ForecastRecord(Base):
    __tablename__ = "forecasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=_now)
    created_by: Mapped[str] = mapped_column(String(200))
    request: Mapped[dict] = mapped_column(JSON)
    rows: Mapped[list] = mapped_column(JSON)
    notes: Mapped[list] = mapped_column(JSON)


class ForecastMemo(Base):
    """The forecast a plan from history was made with, by what it was made from: rebuilding
    the plan later (a re-plan, an adjustment or its preview, tracking, relief) takes it
    instead of fitting the forecaster again. Fitting is deterministic (seed 0), so the same
    history, roster, calendar and year give the same forecast; the key holds quotaplan's
    version too, so another release fits again."""

    __tablename__ = "forecast_memo"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    rows: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=_now)


class ProgressRecord(Base):
    """A tracking snapshot of a plan: what the bookings to ``as_of`` said, kept so a planner sees
    how the picture changed week by week."""

    __tablename__ = "progress"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    as_of: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=_now)
    created_by: Mapped[str] = mapped_column(String(200))
    request: Mapped[dict] = mapped_column(JSON)
    summary: Mapped[dict] = mapped_column(JSON)
    reps: Mapped[list] = mapped_column(JSON)
    teams: Mapped[list] = mapped_column(JSON)
    phased: Mapped[list] = mapped_column(JSON)


class TokenRecord(Base):
    """A bearer token: who holds it, their role (and an approver's scope), and only the SHA-256 of
    the secret. Revoked and expired tokens stay listed (who had access, and when)."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    role: Mapped[str] = mapped_column(String(20))
    scope: Mapped[str | None] = mapped_column(String(200), nullable=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(200), default="cli")  # or the tokens file
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=_now)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    def status(self, now: datetime | None = None) -> str:
        now = now or _now()
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


class IdempotencyRecord(Base):
    """A creating request made with an ``Idempotency-Key``: written in the same transaction as
    what it created, so a retry (after a lost reply, or a crash between commit and reply) finds
    it and gets the first result instead of a second copy."""

    __tablename__ = "idempotency"
    __table_args__ = (UniqueConstraint("who", "key", name="one_result_per_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    who: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of method, path and body
    resource: Mapped[str] = mapped_column(String(40))  # "plan", "adjustment", ...
    resource_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=_now)


class JobRecord(Base):
    """Long work (a forecast, a plan, a re-plan) run for a request that asked for it with
    ``Prefer: respond-async``: where it stands, written by the process doing it, so any worker
    process can answer for it. The worker notes a heartbeat while the job runs; a job whose
    heartbeat stopped (its process died) reads as failed."""

    __tablename__ = "jobs"
    __table_args__ = (UniqueConstraint("who", "key", name="one_job_per_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # "forecast", "plan" or "replan"
    who: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), default="queued")  # running/succeeded/failed
    percent: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(String(200), default="")
    result: Mapped[str | None] = mapped_column(String(200), nullable=True)  # the resource's URL
    problem: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # problem+json body
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=_now)
    heartbeat_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=_now)
    #: The request's Idempotency-Key (a retry finds this job) and what identifies the request.
    key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)


#: The states of a job that is not finished.
JOB_ACTIVE = ("queued", "running")


@dataclass(frozen=True)
class Idempotency:
    """The key a creating request carries, and what identifies the request itself."""

    who: str
    key: str
    fingerprint: str


class StateConflict(Exception):
    """Someone else moved the plan (or decided the adjustment) first."""


class AlreadyDone(Exception):
    """A request with this Idempotency-Key was already carried out: ``record`` says what it made."""

    def __init__(self, record: IdempotencyRecord):
        super().__init__(
            f"idempotency key {record.key!r} was used for {record.resource} {record.resource_id}"
        )
        self.record = record


class VersionConflict(Exception):
    """The scenario moved on: the plan was made on top of a version that is no longer the latest."""

    def __init__(self, scenario: str, expected: int, latest: int):
        self.scenario, self.expected, self.latest = scenario, expected, latest
        super().__init__(
            f"scenario {scenario!r} is at version {latest}, not {expected}: someone saved a plan "
            f"since; look at version {latest} and plan on top of it (base_version={latest})"
        )


#: The JSON columns' codec (see :mod:`api.fastjson`: the standard library's held the web worker's
#: interpreter lock for tens of milliseconds per stored plan).
JSON_CODEC = {"json_serializer": fastjson.dumps, "json_deserializer": fastjson.loads}


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL, a busy timeout and write transactions that
    lock at their start, so concurrent requests wait for each other instead of failing."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **JSON_CODEC)

        @event.listens_for(engine, "connect")
        def _pragmas(conn, _):
            conn.isolation_level = None  # SQLAlchemy, not the driver, begins transactions
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            # A write takes the write lock up front: two writers never read the same latest
            # version. A read (Store.reading) does not: under WAL it reads a snapshot at once,
            # where BEGIN IMMEDIATE made /v1/health and every GET wait for the plans being
            # stored by other workers (40-150 ms at 32 clients).
            options = conn.get_execution_options()
            if options.get("quotaplan_once"):
                return  # one statement, no transaction (Store.once): the driver's autocommit
            reads = options.get("quotaplan_reads", False)
            conn.exec_driver_sql("BEGIN" if reads else "BEGIN IMMEDIATE")

    else:
        engine = create_engine(url, pool_pre_ping=True, **JSON_CODEC)
    Base.metadata.create_all(engine)
    _upgrade(engine)
    _append_only(engine)
    return engine


#: Columns added to existing tables since the first release: table -> (column, SQL type, default).
ADDED_COLUMNS = {
    "plans": (("state", "VARCHAR(20)", "'draft'"), ("content_rev", "INTEGER", "0")),
}


def _upgrade(engine: Engine) -> None:
    """Bring a database made by an earlier release up to date (create_all adds new tables, not
    new columns): every plan stored before plan states existed is a draft."""
    with engine.begin() as conn:  # one connection: the inspection must not hold a lock apart
        names = inspect(conn)
        for table, columns in ADDED_COLUMNS.items():
            have = {c["name"] for c in names.get_columns(table)}
            for name, kind, default in columns:
                if name not in have:
                    conn.exec_driver_sql(
                        f"ALTER TABLE {table} ADD COLUMN {name} {kind} NOT NULL DEFAULT {default}"
                    )


def _append_only(engine: Engine) -> None:
    """Triggers that refuse any UPDATE or DELETE of the audit log, whoever connects."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            for op in ("UPDATE", "DELETE"):
                conn.exec_driver_sql(
                    f"CREATE TRIGGER IF NOT EXISTS audit_no_{op.lower()} BEFORE {op} ON audit "
                    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
                )
        elif engine.dialect.name == "postgresql":
            conn.exec_driver_sql(
                "CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'the audit log is append-only'; END $$ LANGUAGE plpgsql"
            )
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_append_only ON audit")
            conn.exec_driver_sql(
                "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit "
                "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
            )


def _decided(request: dict, adj) -> dict:
    """A plan's stored request with an applied adjustment recorded: the rep's annual quota as
    decided, which later re-plans and adjustments hold as a lock."""
    after = next(c["after"] for c in adj.changes if c["rep_id"] == adj.rep_id)
    kept = [a for a in request.get("adjustments") or [] if a["rep_id"] != adj.rep_id]
    entry = {"id": adj.id, "rep_id": adj.rep_id, "annual_quota": after}
    return {**request, "adjustments": [*kept, entry]}


class Writes:
    """The rows one transaction reads and writes for a plan's adjustments (``Store.writes``):
    rows and the audit log, no rules (those are ``api.lifecycle``'s, applied by
    ``api.service.adjustments``). A row another writer changed meanwhile raises StateConflict."""

    def __init__(self, session, idempotency: Idempotency | None):
        self.s = session
        self.idempotency = idempotency

    def plan(self, plan_id: int) -> PlanRecord:
        """The plan, locked until the transaction ends (PostgreSQL; SQLite locks the file)."""
        return self.s.get(PlanRecord, plan_id, with_for_update=True)

    def latest(self, scenario_id: int) -> int:
        """The scenario's latest version."""
        return self.s.scalar(
            select(func.max(PlanRecord.version)).where(PlanRecord.scenario_id == scenario_id)
        )

    def adjustment(self, adjustment_id: int) -> AdjustmentRecord | None:
        return self.s.get(AdjustmentRecord, adjustment_id)

    def add_adjustment(self, plan_id: int, **fields) -> AdjustmentRecord:
        """Store a proposed adjustment and log the proposal (the adjusted rep's change)."""
        rec = AdjustmentRecord(plan_id=plan_id, decisions=[], **fields)
        self.s.add(rec)
        self.s.flush()
        change = next(c for c in fields["changes"] if c["rep_id"] == fields["rep_id"])
        self.s.add(
            AuditRecord(
                who=fields["proposed_by"],
                plan_id=plan_id,
                action="adjustment:proposed",
                rep_id=fields["rep_id"],
                before={"annual_quota": change["before"]},
                after={"annual_quota": change["after"], "adjustment": rec.id},
                why=fields["reason"],
            )
        )
        Store._remember(self.s, self.idempotency, "adjustment", rec.id)
        return rec

    def record_decision(
        self, adjustment_id: int, step: int, decision: dict, status: str
    ) -> AdjustmentRecord:
        """Add ``decision`` (level, who, decision, comment) as the adjustment's ``step``-th and
        set its ``status``, with its audit entry; StateConflict if another decision was taken
        meanwhile (the step has moved on)."""
        adj = self.s.get(AdjustmentRecord, adjustment_id)
        entry = {**decision, "at": utc_iso(_now())}
        done = self.s.execute(
            update(AdjustmentRecord)
            .where(
                AdjustmentRecord.id == adj.id,
                AdjustmentRecord.status == "pending",
                AdjustmentRecord.step == step,
            )
            .values(step=step + 1, decisions=[*adj.decisions, entry], status=status)
        ).rowcount
        if not done:
            raise StateConflict(f"adjustment {adj.id} was decided meanwhile; read it again")
        self.s.add(
            AuditRecord(
                who=decision["who"],
                plan_id=adj.plan_id,
                action=f"adjustment:{decision['decision']}",
                rep_id=adj.rep_id,
                after={"adjustment": adj.id, "level": decision["level"]},
                why=decision["comment"],
            )
        )
        self.s.flush()
        self.s.refresh(adj)
        return adj

    def set_aside(self, adj: AdjustmentRecord, who: str, why: str) -> None:
        """Mark an approved adjustment stale (not applied), with its audit entry."""
        adj.status = "stale"
        self.s.add(
            AuditRecord(
                who=who,
                plan_id=adj.plan_id,
                action="adjustment:stale",
                rep_id=adj.rep_id,
                after={"adjustment": adj.id},
                why=why,
            )
        )

    def apply(
        self, adj: AdjustmentRecord, plan: PlanRecord, who: str, as_revision: bool
    ) -> PlanRecord:
        """Write an approved adjustment's quotas: as the scenario's next version (a published
        revision) if ``as_revision``, else in place; an audit entry per rep moved."""
        target = plan
        if as_revision:
            target = PlanRecord(
                scenario_id=plan.scenario_id,
                version=self.latest(plan.scenario_id) + 1,
                kind="revision",
                parent_id=plan.id,
                created_by=who,
                request=_decided(plan.request, adj),
                summary=plan.summary,
                quotas=adj.quotas,
                reps=adj.reps,
                state="published",
            )
            self.s.add(target)
            self.s.flush()
        else:
            plan.quotas, plan.reps = adj.quotas, adj.reps
            plan.request = _decided(plan.request, adj)
            plan.content_rev += 1
        for c in adj.changes:
            self.s.add(
                AuditRecord(
                    who=who,
                    plan_id=target.id,
                    action="quota:changed",
                    rep_id=c["rep_id"],
                    before={"annual_quota": c["before"]},
                    after={"annual_quota": c["after"], "adjustment": adj.id},
                    why=adj.reason
                    if c["rep_id"] == adj.rep_id
                    else f"rebalanced for adjustment {adj.id} ({adj.rep_id}): {adj.reason}",
                )
            )
        self.s.flush()
        target.scenario_name = self.s.get(Scenario, target.scenario_id).name
        return target


class Store:
    """The database behind the API: every method is one transaction."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        #: Reads: on SQLite a deferred transaction (a snapshot of the WAL file), which never waits
        #: for a writer; :attr:`writing` (always ``.begin()``) takes the write lock at its start.
        self.reading = sessionmaker(
            self.engine.execution_options(quotaplan_reads=True), expire_on_commit=False
        )
        self.writing = sessionmaker(self.engine, expire_on_commit=False)
        #: A read of one statement (health's ping, whether tokens exist, a token by its hash):
        #: no transaction to begin and end, so two round trips to PostgreSQL fewer each.
        self.once = self.engine.execution_options(
            **{"quotaplan_once": True}
            if url.startswith("sqlite")
            else {"isolation_level": "AUTOCOMMIT"}
        )
        self._tokens_seen = False

    def exists(self, kind: str, row_id: int) -> bool:
        """Whether a plan, adjustment, forecast or progress snapshot has this id (no payload
        read)."""
        table = {
            "plan": PlanRecord,
            "adjustment": AdjustmentRecord,
            "forecast": ForecastRecord,
            "progress": ProgressRecord,
            "job": JobRecord,
        }[kind]
        with self.reading() as s:
            return s.scalar(select(table.id).where(table.id == row_id)) is not None

    def ping(self) -> None:
        with self.once.connect() as c:
            c.execute(select(1))

    def add_plan(
        self,
        scenario: str,
        *,
        kind: str,
        created_by: str,
        request: dict,
        summary: dict,
        quotas: list,
        reps: list,
        parent_id: int | None = None,
        base_version: int | None = None,
        idempotency: Idempotency | None = None,
        attempts: int = 10,
    ) -> PlanRecord:
        """Store a plan as the scenario's next version (creating the scenario if new).

        Writers to one scenario take turns (SQLite's write lock, PostgreSQL's row lock on the
        scenario); two creating the same new scenario at once: the loser retries. A plan built on
        a ``base_version`` that is no longer the latest raises VersionConflict.
        """
        for attempt in range(attempts):
            try:
                with self.writing.begin() as s:
                    self._not_done(s, idempotency)
                    # The scenario's row is locked (PostgreSQL) until the version is written.
                    sc = s.scalar(
                        select(Scenario).where(Scenario.name == scenario).with_for_update()
                    )
                    if sc is None:
                        sc = Scenario(name=scenario)
                        s.add(sc)
                        s.flush()
                    latest = s.scalar(
                        select(func.max(PlanRecord.version)).where(PlanRecord.scenario_id == sc.id)
                    )
                    latest = latest or 0
                    if base_version is not None and base_version != latest:
                        raise VersionConflict(scenario, base_version, latest)
                    rec = PlanRecord(
                        scenario_id=sc.id,
                        version=latest + 1,
                        kind=kind,
                        parent_id=parent_id,
                        created_by=created_by,
                        request=request,
                        summary=summary,
                        quotas=quotas,
                        reps=reps,
                    )
                    s.add(rec)
                    s.flush()
                    s.add(
                        AuditRecord(
                            who=created_by,
                            plan_id=rec.id,
                            action=f"plan:{kind}",
                            after={
                                "version": rec.version,
                                "state": "draft",
                                "total_quota": summary.get("total_quota"),
                            },
                            why=f"{kind} of {parent_id}" if parent_id else "",
                        )
                    )
                    self._remember(s, idempotency, "plan", rec.id)
                    rec.scenario_name = scenario
                    return rec
            except IntegrityError:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def plan(self, plan_id: int) -> PlanRecord | None:
        with self.reading() as s:
            rec = s.get(PlanRecord, plan_id)
            if rec is not None:
                rec.scenario_name = s.get(Scenario, rec.scenario_id).name
            return rec

    def plans(self, scenario: str) -> list[PlanRecord] | None:
        """A scenario's plans, oldest first; None if there is no such scenario."""
        with self.reading() as s:
            sc = s.scalar(select(Scenario).where(Scenario.name == scenario))
            if sc is None:
                return None
            rows = s.scalars(
                select(PlanRecord)
                .where(PlanRecord.scenario_id == sc.id)
                .order_by(PlanRecord.version)
            ).all()
            for r in rows:
                r.scenario_name = scenario
            return list(rows)

    def scenarios(self) -> list[tuple[str, int, datetime]]:
        """Every scenario: name, number of plans, when the latest was made."""
        with self.reading() as s:
            rows = s.execute(
                select(Scenario.name, func.count(PlanRecord.id), func.max(PlanRecord.created_at))
                .join(PlanRecord, PlanRecord.scenario_id == Scenario.id, isouter=True)
                .group_by(Scenario.id)
                .order_by(Scenario.name)
            ).all()
            return [tuple(r) for r in rows]

    def move(self, plan_id: int, frm: str, to: str, who: str, why: str) -> PlanRecord:
        """Move a plan from state ``frm`` to ``to`` and log it, in one transaction; raises
        StateConflict if the plan is no longer in ``frm`` (someone else moved it first)."""
        with self.writing.begin() as s:
            done = s.execute(
                update(PlanRecord)
                .where(PlanRecord.id == plan_id, PlanRecord.state == frm)
                .values(state=to)
            ).rowcount
            if not done:
                now = s.get(PlanRecord, plan_id)
                raise StateConflict(
                    f"plan {plan_id} is {now.state if now else 'gone'}, not {frm}: someone moved "
                    "it first; read it again"
                )
            s.add(
                AuditRecord(
                    who=who,
                    plan_id=plan_id,
                    action=f"state:{to}",
                    before={"state": frm},
                    after={"state": to},
                    why=why,
                )
            )
        return self.plan(plan_id)

    @contextmanager
    def writes(self, idempotency: Idempotency | None = None):
        """One write transaction as a :class:`Writes` (the service decides, the rows follow):
        everything done through it, audit included, commits together or not at all; with an
        ``idempotency`` key, a retry does not repeat it (AlreadyDone)."""
        with self._once(idempotency) as s:
            yield Writes(s, idempotency)

    def adjustment(self, adjustment_id: int) -> AdjustmentRecord | None:
        with self.reading() as s:
            return s.get(AdjustmentRecord, adjustment_id)

    def adjustments(self, plan_id: int) -> list[AdjustmentRecord]:
        with self.reading() as s:
            q = select(AdjustmentRecord).where(AdjustmentRecord.plan_id == plan_id)
            return list(s.scalars(q.order_by(AdjustmentRecord.id)).all())

    def pending_adjustments(self, plan_id: int | None = None) -> list[tuple]:
        """Every adjustment waiting for a decision (only plan ``plan_id``'s, if given), oldest
        first, each with its plan's scenario, version and content_rev and the scenario's latest
        version: ``(adjustment, scenario, version, content_rev, latest)``."""
        latest = (
            select(PlanRecord.scenario_id, func.max(PlanRecord.version).label("latest"))
            .group_by(PlanRecord.scenario_id)
            .subquery()
        )
        q = (
            select(
                AdjustmentRecord,
                Scenario.name,
                PlanRecord.version,
                PlanRecord.content_rev,
                latest.c.latest,
            )
            .join(PlanRecord, PlanRecord.id == AdjustmentRecord.plan_id)
            .join(Scenario, Scenario.id == PlanRecord.scenario_id)
            .join(latest, latest.c.scenario_id == PlanRecord.scenario_id)
            .where(AdjustmentRecord.status == "pending")
        )
        if plan_id is not None:
            q = q.where(AdjustmentRecord.plan_id == plan_id)
        with self.reading() as s:
            return [tuple(r) for r in s.execute(q.order_by(AdjustmentRecord.id)).all()]

    def lineage(self, plan_id: int) -> list[int]:
        """A plan and the versions it came from (re-plans, revisions), oldest first."""
        ids = []
        with self.reading() as s:
            rec = s.get(PlanRecord, plan_id)
            while rec is not None:
                ids.insert(0, rec.id)
                rec = s.get(PlanRecord, rec.parent_id) if rec.parent_id is not None else None
        return ids

    def audit(self, plan_ids: list[int], rep_id: str | None = None) -> list[AuditRecord]:
        """The log of these plans (a plan and the versions it came from), oldest first;
        only one rep's entries with ``rep_id`` (and the plan-wide ones)."""
        with self.reading() as s:
            q = select(AuditRecord).where(AuditRecord.plan_id.in_(plan_ids))
            if rep_id is not None:
                q = q.where((AuditRecord.rep_id == rep_id) | AuditRecord.rep_id.is_(None))
            return list(s.scalars(q.order_by(AuditRecord.id)).all())

    def add_progress(
        self, plan_id: int, idempotency: Idempotency | None = None, **fields
    ) -> ProgressRecord:
        """Store a tracking snapshot of a plan (``as_of``, ``created_by``, ``request``,
        ``summary``, ``reps``, ``teams``, ``phased``)."""
        with self._once(idempotency) as s:
            rec = ProgressRecord(plan_id=plan_id, **fields)
            s.add(rec)
            s.flush()
            self._remember(s, idempotency, "progress", rec.id)
            return rec

    def progress(self, plan_id: int, progress_id: int | None = None):
        """A plan's snapshots by date tracked to (then when made); or the one ``progress_id``
        (None if it is not this plan's)."""
        with self.reading() as s:
            if progress_id is not None:
                rec = s.get(ProgressRecord, progress_id)
                return rec if rec is not None and rec.plan_id == plan_id else None
            return list(
                s.scalars(
                    select(ProgressRecord)
                    .where(ProgressRecord.plan_id == plan_id)
                    .order_by(ProgressRecord.as_of, ProgressRecord.id)
                ).all()
            )

    def progress_snapshot(self, progress_id: int) -> ProgressRecord | None:
        with self.reading() as s:
            return s.get(ProgressRecord, progress_id)

    def add_forecast(
        self,
        *,
        created_by: str,
        request: dict,
        rows: list,
        notes: list,
        idempotency: Idempotency | None = None,
    ):
        with self._once(idempotency) as s:
            rec = ForecastRecord(created_by=created_by, request=request, rows=rows, notes=notes)
            s.add(rec)
            s.flush()
            self._remember(s, idempotency, "forecast", rec.id)
            return rec

    def forecast(self, forecast_id: int) -> ForecastRecord | None:
        with self.reading() as s:
            return s.get(ForecastRecord, forecast_id)

    def memo_forecast(self, key: str) -> list | None:
        """The forecast rows remembered under ``key`` (see :class:`ForecastMemo`), or None."""
        with self.reading() as s:
            rec = s.get(ForecastMemo, key)
            return rec.rows if rec is not None else None

    def remember_forecast(self, key: str, rows: list) -> None:
        try:
            with self.writing.begin() as s:
                s.add(ForecastMemo(key=key, rows=rows))
        except IntegrityError:  # a twin request remembered it first: the same rows
            pass

    # --- idempotency keys ----------------------------------------------------------------------

    @contextmanager
    def _once(self, idempotency: Idempotency | None):
        """A write transaction that a retry with the same key does not repeat: AlreadyDone if the
        key is recorded (also when a concurrent twin committed first)."""
        try:
            with self.writing.begin() as s:
                self._not_done(s, idempotency)
                yield s
        except IntegrityError:
            if idempotency is None:
                raise
            with self.reading() as s:
                self._not_done(s, idempotency)
            raise

    @staticmethod
    def _not_done(s, idempotency: Idempotency | None) -> None:
        if idempotency is None:
            return
        done = s.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.who == idempotency.who, IdempotencyRecord.key == idempotency.key
            )
        )
        if done is not None:
            raise AlreadyDone(done)

    @staticmethod
    def _remember(s, idempotency: Idempotency | None, resource: str, resource_id: int) -> None:
        if idempotency is not None:
            s.add(
                IdempotencyRecord(
                    who=idempotency.who,
                    key=idempotency.key,
                    fingerprint=idempotency.fingerprint,
                    resource=resource,
                    resource_id=resource_id,
                )
            )
            s.flush()

    def remembered(self, who: str, key: str) -> IdempotencyRecord | None:
        with self.reading() as s:
            return s.scalar(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.who == who, IdempotencyRecord.key == key
                )
            )

    # --- jobs ----------------------------------------------------------------------------------

    def add_job(
        self, kind: str, who: str, key: str | None = None, fingerprint: str | None = None
    ) -> tuple[JobRecord, bool]:
        """A new job, queued; with a ``key`` that already has a job (a retry, or a twin sent at
        the same moment): that job instead. Returns the job and whether it is new."""
        try:
            with self.writing.begin() as s:
                rec = JobRecord(
                    kind=kind, who=who, key=key, fingerprint=fingerprint, message="waiting to start"
                )
                s.add(rec)
                s.flush()
                return rec, True
        except IntegrityError:
            if key is None:
                raise
            return self.job_for_key(who, key), False

    def drop_job(self, job_id: int) -> None:
        """Forget a job refused before its work began (answered as the synchronous call)."""
        with self.writing.begin() as s:
            s.execute(delete(JobRecord).where(JobRecord.id == job_id))

    def job(self, job_id: int) -> JobRecord | None:
        with self.reading() as s:
            return s.get(JobRecord, job_id)

    def job_for_key(self, who: str, key: str) -> JobRecord | None:
        with self.reading() as s:
            return s.scalar(select(JobRecord).where(JobRecord.who == who, JobRecord.key == key))

    def update_job(self, job_id: int, **fields) -> bool:
        """Note where a job stands (``state``, ``percent``, ``message``, ``result``,
        ``problem``), and a heartbeat; a job already finished (or given up as lost) is left as
        it is. Returns whether it was updated."""
        now = _now()
        with self.writing.begin() as s:
            return bool(
                s.execute(
                    update(JobRecord)
                    .where(JobRecord.id == job_id, JobRecord.state.in_(JOB_ACTIVE))
                    .values(updated_at=now, heartbeat_at=now, **fields)
                ).rowcount
            )

    def beat(self, job_id: int) -> None:
        """The job's process is alive (a heartbeat; nothing else changes)."""
        with self.writing.begin() as s:
            s.execute(
                update(JobRecord)
                .where(JobRecord.id == job_id, JobRecord.state.in_(JOB_ACTIVE))
                .values(heartbeat_at=_now())
            )

    def lose_job(self, job_id: int, silent_for: float, problem: dict) -> None:
        """A job still queued or running whose heartbeat is older than ``silent_for`` seconds
        is failed with ``problem``: its process died."""
        now = _now()
        cutoff = datetime.fromtimestamp(now.timestamp() - silent_for, UTC)
        with self.writing.begin() as s:
            s.execute(
                update(JobRecord)
                .where(
                    JobRecord.id == job_id,
                    JobRecord.state.in_(JOB_ACTIVE),
                    JobRecord.heartbeat_at < cutoff,
                )
                .values(state="failed", problem=problem, message="stopped", updated_at=now)
            )

    # --- tokens --------------------------------------------------------------------------------

    def add_token(
        self,
        *,
        name: str,
        role: str,
        digest: str,
        scope: str | None = None,
        expires_at: datetime | None = None,
        source: str = "cli",
    ) -> TokenRecord:
        with self.writing.begin() as s:
            rec = TokenRecord(
                name=name,
                role=role,
                scope=scope,
                digest=digest,
                expires_at=expires_at,
                source=source,
            )
            s.add(rec)
            s.flush()
            return rec

    def import_tokens(self, tokens, source: str) -> int:
        """Tokens from a tokens file, each added unless its hash is known (revoked ones stay
        revoked); returns how many were new."""
        new = 0
        for t in tokens:
            with self.reading() as s:
                if s.scalar(select(TokenRecord.id).where(TokenRecord.digest == t.digest)):
                    continue
            try:
                self.add_token(
                    name=t.name, role=t.role, scope=t.scope, digest=t.digest, source=source
                )
                new += 1
            except IntegrityError:  # another worker imported it meanwhile
                pass
        return new

    def token(self, digest: str) -> TokenRecord | None:
        with Session(self.once, expire_on_commit=False) as s:
            return s.scalar(select(TokenRecord).where(TokenRecord.digest == digest))

    def tokens(self) -> list[TokenRecord]:
        with self.reading() as s:
            return list(s.scalars(select(TokenRecord).order_by(TokenRecord.id)).all())

    def has_tokens(self) -> bool:
        """Whether any token was ever configured (revoked or expired ones count: revoking the
        last token must not open the API): once true, true for good, and not asked again."""
        if not self._tokens_seen:
            with self.once.connect() as c:
                self._tokens_seen = c.scalar(select(TokenRecord.id).limit(1)) is not None
        return self._tokens_seen

    def revoke_token(self, name: str) -> int:
        """Revoke every active token of ``name``; returns how many."""
        with self.writing.begin() as s:
            return s.execute(
                update(TokenRecord)
                .where(TokenRecord.name == name, TokenRecord.revoked_at.is_(None))
                .values(revoked_at=_now())
            ).rowcount

    def token_used(self, token_id: int, every: float = 60.0) -> None:
        """Note a token's use, at most once a minute (not a write per request)."""
        now = _now()
        cutoff = datetime.fromtimestamp(now.timestamp() - every, UTC)
        with self.writing.begin() as s:
            s.execute(
                update(TokenRecord)
                .where(
                    TokenRecord.id == token_id,
                    (TokenRecord.last_used_at.is_(None)) | (TokenRecord.last_used_at < cutoff),
                )
                .values(last_used_at=now)
            )
