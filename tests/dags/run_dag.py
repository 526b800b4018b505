"""Run one DAG with ``dag.test()`` and print a JSON summary: ``python run_dag.py DAG DATE [CONF]``.

The tests run it in a subprocess, so every run parses the DAG files the way Airflow does
(with the environment the test chose) and nothing Airflow-global leaks between tests.
The last line printed is ``DAG_TEST_RESULT {...}``: the run's state, every task's
state and the return value of every task that pushed one.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime

MARK = "DAG_TEST_RESULT "


def main(argv: list[str]) -> int:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    dag_id, logical = argv[0], datetime.fromisoformat(argv[1])
    conf = json.loads(argv[2]) if len(argv) > 2 else None
    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        print(MARK + json.dumps({"import_errors": bag.import_errors}), flush=True)
        return 1
    dag = bag.dags[dag_id]
    # Airflow 3.3's dag.test() keeps deadline alerts as dicts where the scheduler has ids
    # and fails when the run succeeds (while pruning its deadlines); the deadline is
    # checked by the DagBag test and its callback by test_callbacks.
    dag.deadline = None
    try:
        run = dag.test(logical_date=logical, run_conf=conf)
    except Exception as exc:  # e.g. a conf the DAG's params refuse: no run is created
        print(MARK + json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
        return 1
    with create_session() as session:
        tis = run.get_task_instances(session=session)
        states = {ti.task_id: str(ti.state) if ti.state else None for ti in tis}
        seconds = {ti.task_id: ti.duration for ti in tis if ti.duration is not None}
        returns = {
            x.task_id: XComModel.deserialize_value(x)
            for x in session.scalars(
                XComModel.get_many(run_id=run.run_id, dag_ids=dag_id, key="return_value")
            )
        }
    result = {
        "state": str(run.state),
        "run_id": run.run_id,
        "data_interval_start": run.data_interval_start.isoformat(),
        "tasks": states,
        "seconds": seconds,
        "returns": returns,
    }
    print(MARK + json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
