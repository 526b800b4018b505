"""The feature catalog: ``GET /catalog`` and ``GET /catalog/<view>`` on the serving app.

For every feature view it gathers what a person deciding whether to trust a feature asks:
who owns it, which definition version is current, when it was last materialized, what
the online store serves now and whether that is fresh against the view's ``max_age``,
and how the gate saw each snapshot (row count, null rate and drift per feature; the
quarantined days). Nothing here starts Spark: the Delta side is read by
:mod:`feature_jobs.offline.catalog_reads`, the online side is one read of the live
pointers. If Redis does not answer the pages still render, saying "online: unavailable".
Pages are drawn by :mod:`feature_jobs.serving.catalog_pages`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from feature_jobs.definitions import FeatureView
from feature_jobs.errors import SkewlessError, first_line
from feature_jobs.offline.catalog_reads import (
    CatalogReads,
    GateRun,
    OfflineTableState,
    ReportedFinding,
)
from feature_jobs.online.publish import LivePointer
from feature_jobs.online.store import FeatureStore
from feature_jobs.serving import catalog_pages
from feature_jobs.serving_rule import is_stale
from feature_jobs.timeutil import require_utc


@dataclass(frozen=True)
class Freshness:
    """How the snapshot served online compares with the view's ``max_age``.

    Attributes:
        state: ``fresh``, ``stale``, ``ahead`` (its feature_ts is after now: not served
            yet), ``unpublished`` or ``unavailable`` (Redis did not answer).
        age: now - feature_ts of the live snapshot, when there is one.
    """

    state: str
    age: timedelta | None = None


@dataclass(frozen=True)
class ViewCard:
    """Everything the catalog shows about one view."""

    view: FeatureView
    now: datetime
    offline: OfflineTableState | None
    offline_problem: str | None
    live: LivePointer | None
    online_problem: str | None
    runs: tuple[GateRun, ...]
    findings: tuple[ReportedFinding, ...]

    @property
    def freshness(self) -> Freshness:
        """The live snapshot's age against ``max_age``, by the serving rule's own test."""
        if self.online_problem is not None:
            return Freshness("unavailable")
        if self.live is None:
            return Freshness("unpublished")
        age = self.now - self.live.meta.feature_ts
        if age < timedelta(0):
            return Freshness("ahead", age)
        return Freshness("stale" if is_stale(age, self.view.max_age_delta) else "fresh", age)

    @property
    def quarantined(self) -> list[GateRun]:
        """The snapshots whose latest gate run refused them."""
        return [run for run in self.runs if run.quarantined]


class Catalog:
    """Builds the view cards from the definitions, the Delta bookkeeping and Redis."""

    def __init__(self, store: FeatureStore, reads: CatalogReads) -> None:
        self.store = store
        self.reads = reads

    def views(self) -> list[FeatureView]:
        """The views, by name."""
        return [self.store.registry.views[name] for name in sorted(self.store.registry.views)]

    def cards(self, views: Sequence[FeatureView]) -> list[ViewCard]:
        """One card per view (one Redis round trip and one look at each Delta log)."""
        now = require_utc(self.store.clock(), "clock()")
        live: dict[str, LivePointer | None] = {}
        online_problem = None
        try:
            live = self.store.live_snapshots([v.name for v in views])
        except SkewlessError as exc:
            online_problem = first_line(exc, 200)
        runs, findings, bookkeeping_problem = {}, {}, None
        try:
            runs, findings = dict(self.reads.gate_runs()), dict(self.reads.findings())
        except SkewlessError as exc:
            bookkeeping_problem = first_line(exc, 200)
        cards = []
        for view in views:
            offline, problem = None, bookkeeping_problem
            try:
                offline = self.reads.offline_state(view.name)
            except SkewlessError as exc:
                problem = first_line(exc, 200)
            cards.append(
                ViewCard(
                    view=view,
                    now=now,
                    offline=offline,
                    offline_problem=problem,
                    live=live.get(view.name),
                    online_problem=online_problem,
                    runs=runs.get(view.name, ()),
                    findings=findings.get(view.name, ()),
                )
            )
        return cards

    def warm(self) -> None:
        """Read every table once (imports and first reads cost a second or two)."""
        try:
            self.reads.gate_runs()
            self.reads.findings()
            for view in self.views():
                self.reads.offline_state(view.name)
        except SkewlessError:
            pass  # the pages say what is wrong when asked


def add_catalog(app: FastAPI, catalog: Catalog) -> None:
    """Serve the catalog pages on ``app`` (HTML, outside the OpenAPI spec)."""

    @app.get("/catalog", response_class=HTMLResponse, include_in_schema=False)
    def catalog_index() -> HTMLResponse:
        # A plain function: FastAPI runs it in a worker thread (Redis and Delta reads block).
        started = time.perf_counter()
        cards = catalog.cards(catalog.views())
        return HTMLResponse(catalog_pages.index_page(cards, started))

    @app.get("/catalog/{name}", response_class=HTMLResponse, include_in_schema=False)
    def catalog_view(name: str) -> Response:
        started = time.perf_counter()
        view = catalog.store.registry.views.get(name)
        if view is None:
            known = ", ".join(sorted(catalog.store.registry.views))
            line = f"unknown feature view {name[:80]!r}; known views: {known}"
            return PlainTextResponse(line + "\n", status_code=404)
        [card] = catalog.cards([view])
        return HTMLResponse(catalog_pages.view_page(card, started))
