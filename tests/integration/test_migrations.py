"""SQL migrations apply in order, once, and refuse an applied file that changed."""

import psycopg
import pytest

from include import migrations
from tests.conftest import scratch_database

pytestmark = pytest.mark.integration


@pytest.fixture
def scratch_db(stack, settings):
    with scratch_database(settings, "migrations_test") as conninfo, psycopg.connect(conninfo) as pg:
        yield pg


@pytest.fixture
def component(tmp_path, monkeypatch):
    monkeypatch.setattr(migrations, "MIGRATIONS", tmp_path)
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "V001__schema.sql").write_text("create schema demo; create table demo.t (id int primary key);")
    (folder / "V002__rows.sql").write_text("insert into demo.t values (1), (2);")
    return folder


def test_pending_migrations_apply_in_order_then_never_again(scratch_db, component):
    assert migrations.apply(scratch_db, "demo") == ["V001__schema", "V002__rows"]
    assert migrations.apply(scratch_db, "demo") == []
    assert scratch_db.execute("select count(*) from demo.t").fetchone()[0] == 2


def test_a_new_file_is_applied_on_the_next_run(scratch_db, component):
    migrations.apply(scratch_db, "demo")
    (component / "V003__more.sql").write_text("insert into demo.t values (3);")
    assert migrations.apply(scratch_db, "demo") == ["V003__more"]


def test_an_applied_file_that_changed_is_refused(scratch_db, component):
    migrations.apply(scratch_db, "demo")
    (component / "V002__rows.sql").write_text("insert into demo.t values (1), (2), (99);")
    with pytest.raises(migrations.MigrationError, match=r"V002__rows\.sql: changed after it was applied"):
        migrations.apply(scratch_db, "demo")


def test_a_failing_migration_leaves_nothing_applied(scratch_db, component):
    (component / "V002__rows.sql").write_text("insert into demo.t values (1), (1);")  # duplicate key
    with pytest.raises(psycopg.errors.UniqueViolation):
        migrations.apply(scratch_db, "demo")
    scratch_db.rollback()
    applied = scratch_db.execute(
        "select count(*) from information_schema.tables where table_name = 'platform_schema_migrations'"
    ).fetchone()[0]
    assert applied == 0  # the whole run was one transaction


def test_unknown_component_names_the_missing_folder(scratch_db, component):
    with pytest.raises(migrations.MigrationError, match="no migrations folder for 'nope'"):
        migrations.apply(scratch_db, "nope")
