"""Drive one run's freshness deadline the way the scheduler does: ``python run_deadline.py
DAG RUN_TYPE LOGICAL_DATE``.

``dag.test()`` cannot cover a deadline: it only creates manual runs, and in Airflow 3.3 it
fails while pruning the deadlines of a run that succeeds (it keeps the alerts as dicts
where the scheduler has ids). So this script takes the steps of the scheduler itself,
with Airflow's own code at each one:

1. the DAG files are parsed and written to the metadata DB (``sync_bag_to_db``, as
   ``dag.test()`` and the DAG processor do), deadline alerts included;
2. a run of ``RUN_TYPE`` (``scheduled`` or ``manual``) is created from the serialized
   DAG (``create_dagrun``), which makes Airflow evaluate the DAG's deadline;
3. the scheduler's pass over expired deadlines (``Deadline.handle_miss``) queues their
   callbacks, which run through the executors' own ``execute_callback``;
4. the run finishes (its tasks marked done, ``update_state``: a run finished in time
   prunes its deadline here), and the scheduler's pass runs again.

The tasks are not run: the Spark steps are covered by the ``dag.test()`` tests; what is
tested here is when the deadline fires and what its callback does. The last line printed
is ``DEADLINE_RESULT {...}``: the run's interval, its deadlines and the callbacks of
each pass.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from typing import Any

MARK = "DEADLINE_RESULT "


def main(argv: list[str]) -> int:
    from airflow.utils.session import create_session

    dag_id, run_type, logical = argv[0], argv[1], datetime.fromisoformat(argv[2])
    with create_session() as session:
        _sync_dags(session)
    with create_session() as session:
        run_id = _create_run(session, dag_id, run_type, logical)
    with create_session() as session:
        created = _deadlines(session, run_id)
    with create_session() as session:
        first = _deadline_pass(session)
    with create_session() as session:
        _finish(session, dag_id, run_id)
    with create_session() as session:
        second = _deadline_pass(session)
    with create_session() as session:
        result = _summary(session, run_id, created, [first, second])
    print(MARK + json.dumps(result, default=str), flush=True)
    return 0


def _sync_dags(session: Any) -> None:
    """Parse the DAG folder and write it to the DB, as the DAG processor does."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db

    manager = DagBundlesManager()
    manager.sync_bundles_to_db(session=session)
    session.commit()
    for bundle in manager.get_all_dag_bundles():
        if not bundle.is_initialized:
            bundle.initialize()
        bag = BundleDagBag(dag_folder=bundle.path, bundle_path=bundle.path, bundle_name=bundle.name)
        if bag.import_errors:
            raise SystemExit(f"import errors: {bag.import_errors}")
        sync_bag_to_db(bag, bundle.name, bundle.version)


def _create_run(session: Any, dag_id: str, run_type: str, logical: datetime) -> str:
    """A run created the way the scheduler (or a manual trigger) creates it."""
    from airflow.models.dagbag import DBDagBag
    from airflow.timetables.base import DataInterval
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunTriggeredByType, DagRunType

    dag = DBDagBag().get_latest_version_of_dag(dag_id, session=session)
    assert dag is not None, dag_id
    if run_type == "scheduled":
        # A scheduled run's logical date is the start of its interval, run after its end.
        end = dag.timetable.infer_manual_data_interval(run_after=logical + timedelta(days=1)).end
        interval, kind, by = DataInterval(logical, end), DagRunType.SCHEDULED, "TIMETABLE"
        run_after = end
    else:
        # A manual trigger with a logical date covers the interval that ended before it.
        interval = dag.timetable.infer_manual_data_interval(run_after=logical)
        kind, by, run_after = DagRunType.MANUAL, "UI", logical
    run = dag.create_dagrun(
        run_id=dag.timetable.generate_run_id(
            run_type=kind, run_after=run_after, data_interval=interval
        ),
        logical_date=logical,
        data_interval=interval,
        run_after=run_after,
        run_type=kind,
        triggered_by=DagRunTriggeredByType[by],
        state=DagRunState.RUNNING,
        start_date=datetime.now(logical.tzinfo),
        session=session,
    )
    session.commit()
    return str(run.run_id)


def _deadline_pass(session: Any) -> list[dict[str, Any]]:
    """The scheduler's pass over expired deadlines, then the queued callbacks run."""
    import structlog
    from airflow.models import Deadline
    from airflow.models.callback import Callback
    from airflow.sdk.execution_time.callback_supervisor import execute_callback
    from airflow.utils.state import CallbackState
    from sqlalchemy import select

    now = datetime.now().astimezone()
    for deadline in session.scalars(
        select(Deadline).where(Deadline.deadline_time < now).where(~Deadline.missed)
    ):
        deadline.handle_miss(session)
    session.commit()
    ran = []
    for callback in session.scalars(
        select(Callback).where(Callback.state == CallbackState.PENDING)
    ):
        path, kwargs = callback.data.get("path", ""), callback.data.get("kwargs", {})
        ok, error = execute_callback(path, kwargs, "", None, structlog.get_logger())
        callback.state = CallbackState.SUCCESS if ok else CallbackState.FAILED
        ran.append({"path": path, "ok": ok, "error": error})
    session.commit()
    return ran


def _finish(session: Any, dag_id: str, run_id: str) -> None:
    """The run's tasks done and its state updated, which prunes a deadline met in time."""
    from airflow.models.dagbag import DBDagBag
    from airflow.models.dagrun import DagRun
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import select

    run = session.scalars(select(DagRun).where(DagRun.run_id == run_id)).one()
    run.dag = DBDagBag().get_dag_for_run(run, session=session)
    for ti in run.get_task_instances(session=session):
        ti.state = TaskInstanceState.SUCCESS
    session.commit()
    run.update_state(session=session)
    session.commit()


def _deadlines(session: Any, run_id: str) -> list[dict[str, Any]]:
    from airflow.models import Deadline
    from airflow.models.dagrun import DagRun
    from sqlalchemy import select

    run = session.scalars(select(DagRun).where(DagRun.run_id == run_id)).one()
    rows = session.scalars(select(Deadline).where(Deadline.dagrun_id == run.id)).all()
    return [{"time": d.deadline_time, "missed": d.missed} for d in rows]


def _summary(
    session: Any, run_id: str, created: list[dict[str, Any]], passes: list[Any]
) -> dict[str, Any]:
    from airflow.models.dagrun import DagRun
    from sqlalchemy import select

    run = session.scalars(select(DagRun).where(DagRun.run_id == run_id)).one()
    return {
        "run_id": run_id,
        "run_type": str(run.run_type),
        "state": str(run.state),
        "data_interval": [run.data_interval_start, run.data_interval_end],
        "deadlines_created": created,
        "deadlines_left": _deadlines(session, run_id),
        "passes": passes,
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
