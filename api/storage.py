"""Scenarios, plans and forecasts in a real database (SQLAlchemy): a SQLite file by default, any
SQLAlchemy URL (PostgreSQL) through ``QUOTAPLAN_DATABASE_URL``.

Plans are versioned within their scenario and never overwritten: a new plan, or a re-plan of an
old one, is a new row with the next version. Each plan keeps the request that made it (inputs,
target, policy, limits), so any plan can be reproduced.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


def _now() -> datetime:
    return datetime.now(UTC)


class Scenario(Base):
    __tablename__ = "scenarios"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class PlanRecord(Base):
    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("scenario_id", "version", name="one_plan_per_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenarios.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # "plan" or "replan"
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    created_by: Mapped[str] = mapped_column(String(200))
    request: Mapped[dict] = mapped_column(JSON)  # everything needed to reproduce the plan
    summary: Mapped[dict] = mapped_column(JSON)
    quotas: Mapped[list] = mapped_column(JSON)  # per rep and quarter
    reps: Mapped[list] = mapped_column(JSON)  # per rep


class ForecastRecord(Base):
    __tablename__ = "forecasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    created_by: Mapped[str] = mapped_column(String(200))
    request: Mapped[dict] = mapped_column(JSON)
    rows: Mapped[list] = mapped_column(JSON)
    notes: Mapped[list] = mapped_column(JSON)


class ProgressRecord(Base):
    """A tracking snapshot of a plan: what the bookings to ``as_of`` said, kept so a planner sees
    how the picture changed week by week."""

    __tablename__ = "progress"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    as_of: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    created_by: Mapped[str] = mapped_column(String(200))
    request: Mapped[dict] = mapped_column(JSON)
    summary: Mapped[dict] = mapped_column(JSON)
    reps: Mapped[list] = mapped_column(JSON)
    teams: Mapped[list] = mapped_column(JSON)
    phased: Mapped[list] = mapped_column(JSON)


class VersionConflict(Exception):
    """The scenario moved on: the plan was made on top of a version that is no longer the latest."""

    def __init__(self, scenario: str, expected: int, latest: int):
        self.scenario, self.expected, self.latest = scenario, expected, latest
        super().__init__(
            f"scenario {scenario!r} is at version {latest}, not {expected}: someone saved a plan "
            f"since; look at version {latest} and plan on top of it (base_version={latest})"
        )


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL, a busy timeout and write transactions that
    lock at their start, so concurrent requests wait for each other instead of failing."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(conn, _):
            conn.isolation_level = None  # SQLAlchemy, not the driver, begins transactions
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            # Take the write lock up front: two writers never read the same latest version.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    else:
        engine = create_engine(url, pool_pre_ping=True)
    Base.metadata.create_all(engine)
    return engine


class Store:
    """The database behind the API: every method is one transaction."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def ping(self) -> None:
        with self.sessions() as s:
            s.execute(select(1))

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
        attempts: int = 10,
    ) -> PlanRecord:
        """Store a plan as the scenario's next version (creating the scenario if new).

        Writers to one scenario take turns (SQLite's write lock, PostgreSQL's row lock on the
        scenario); two creating the same new scenario at once: the loser retries. A plan built on
        a ``base_version`` that is no longer the latest raises VersionConflict.
        """
        for attempt in range(attempts):
            try:
                with self.sessions.begin() as s:
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
                    rec.scenario_name = scenario
                    return rec
            except IntegrityError:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def plan(self, plan_id: int) -> PlanRecord | None:
        with self.sessions() as s:
            rec = s.get(PlanRecord, plan_id)
            if rec is not None:
                rec.scenario_name = s.get(Scenario, rec.scenario_id).name
            return rec

    def plans(self, scenario: str) -> list[PlanRecord] | None:
        """A scenario's plans, oldest first; None if there is no such scenario."""
        with self.sessions() as s:
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
        with self.sessions() as s:
            rows = s.execute(
                select(Scenario.name, func.count(PlanRecord.id), func.max(PlanRecord.created_at))
                .join(PlanRecord, PlanRecord.scenario_id == Scenario.id, isouter=True)
                .group_by(Scenario.id)
                .order_by(Scenario.name)
            ).all()
            return [tuple(r) for r in rows]

    def add_progress(self, plan_id: int, **fields) -> ProgressRecord:
        """Store a tracking snapshot of a plan (``as_of``, ``created_by``, ``request``,
        ``summary``, ``reps``, ``teams``, ``phased``)."""
        with self.sessions.begin() as s:
            rec = ProgressRecord(plan_id=plan_id, **fields)
            s.add(rec)
            s.flush()
            return rec

    def progress(self, plan_id: int, progress_id: int | None = None):
        """A plan's snapshots by date tracked to (then when made); or the one ``progress_id``
        (None if it is not this plan's)."""
        with self.sessions() as s:
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

    def add_forecast(self, *, created_by: str, request: dict, rows: list, notes: list):
        with self.sessions.begin() as s:
            rec = ForecastRecord(created_by=created_by, request=request, rows=rows, notes=notes)
            s.add(rec)
            s.flush()
            return rec

    def forecast(self, forecast_id: int) -> ForecastRecord | None:
        with self.sessions() as s:
            return s.get(ForecastRecord, forecast_id)
