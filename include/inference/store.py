"""`ml.scores` in Postgres: one day of one model replaced in one transaction.

Rows are COPied (CSV written by pyarrow, no per-row Python) into a temporary table as the
batches are scored. `finish` then upserts them on (model, score_date, account_id), stamps
the model version and the DAG run, and deletes the day's rows of accounts that are no
longer scored, all before the commit: a reader sees the old day or the new one, and a
re-run of a date leaves one row per account.
"""

from __future__ import annotations

import io
from datetime import date
from types import TracebackType

import pyarrow as pa

from include.inference.scoring import InferenceError

_STAGE = "scores_stage"
_COLUMNS = ("account_id", "probability")


class ScoresLoad:
    """`with ScoresLoad(uri, model, day, version, run_id) as load: load.write(batch) ...; load.finish()`."""

    def __init__(self, postgres_uri: str, model: str, score_date: date, model_version: str, dag_run_id: str | None):
        self.postgres_uri = postgres_uri
        self.params = {"model": model, "day": score_date, "version": model_version, "run": dag_run_id}
        self.rows = 0
        self._copying = False

    def __enter__(self) -> ScoresLoad:
        import psycopg

        self._pg = psycopg.connect(self.postgres_uri)
        self._cursor = self._pg.cursor()
        self._cursor.execute(
            f"create temporary table {_STAGE} (account_id bigint not null, probability double precision not null) "
            "on commit drop"
        )
        self._copy_context = self._cursor.copy(f"copy {_STAGE} ({', '.join(_COLUMNS)}) from stdin (format csv)")
        self._copy = self._copy_context.__enter__()
        self._copying = True
        return self

    def write(self, batch: pa.RecordBatch) -> None:
        self._copy.write(csv_rows(batch))
        self.rows += batch.num_rows

    def finish(self) -> dict[str, int]:
        """Close the COPY and replace the day's rows; returns what changed (committed on exit)."""
        import psycopg

        self._copy_context.__exit__(None, None, None)
        self._copying = False
        cursor = self._cursor
        cursor.execute(f"analyze {_STAGE}")
        try:
            cursor.execute(
                "insert into ml.scores (model, score_date, account_id, probability, model_version, dag_run_id) "
                f"select %(model)s, %(day)s, account_id, probability, %(version)s, %(run)s from {_STAGE} "
                "on conflict (model, score_date, account_id) do update set probability = excluded.probability, "
                "model_version = excluded.model_version, dag_run_id = excluded.dag_run_id, scored_at = now()",
                self.params,
            )
        except psycopg.errors.CardinalityViolation:
            raise InferenceError(
                f"model {self.params['model']} {self.params['day']}: an account appears twice in the scoring set; "
                "expected one row per account_id"
            ) from None
        upserted = cursor.rowcount
        cursor.execute(
            "delete from ml.scores s where s.model = %(model)s and s.score_date = %(day)s "
            f"and not exists (select 1 from {_STAGE} t where t.account_id = s.account_id)",
            self.params,
        )
        return {"rows": self.rows, "upserted": upserted, "deleted": cursor.rowcount}

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        # Closing without a commit discards the stage and every change: the day stays as it was.
        try:
            if kind is None and not self._copying:
                self._pg.commit()
        finally:
            self._pg.close()


def csv_rows(batch: pa.RecordBatch) -> bytes:
    """The staged columns of a predictions batch as header-less CSV, what `copy ... (format csv)` reads."""
    import pyarrow.csv as pacsv

    sink = io.BytesIO()
    pacsv.write_csv(
        pa.Table.from_batches([batch]).select(list(_COLUMNS)), sink, pacsv.WriteOptions(include_header=False)
    )
    return sink.getvalue()
