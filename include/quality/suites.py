"""Expectation suites as code-reviewed YAML files: loading them and filling in their run-time parameters.

One file per dataset, `include/quality/suites/<zone>.<parts...>.yaml` (e.g.
`raw.partner.bureau.yaml`), of this shape:

    dataset: raw/partner/bureau          # the lake dataset it validates (zone/parts)
    interval: day                        # or month: the default data interval of a partition
    columns:                             # the schema: exactly these columns, of these logical types
      customer_id: integer
    parameters:                          # how each `{$PARAMETER: name}` below gets its value at run time
      row_count: {kind: volume, last: 7, band: 0.5, min_history: 3}
      known_customer_ids: {kind: reference, dataset: core/customers, column: customer_id}
      score_mean: {kind: learned, expectation: score_mean, last: 28, min_history: 5, k: 4, default: [550, 800]}
    expectations:                        # GX 1.x expectations, as in an ExpectationSuite's JSON
      - id: customer_id_not_null         # names the check in results, alerts and ml.data_quality_runs
        type: expect_column_values_to_not_be_null
        kwargs: {column: customer_id}

`columns` expands into `expect_table_columns_to_match_set` (exact) and one
`expect_column_values_to_be_in_type_list` per column, with the type names of both
engines (pandas, Spark) for each logical type. `interval_start` / `interval_end` are
always available: the data interval of the partition (event times must lie inside it).

Parameter kinds, resolved by `include.quality.validate.resolve_parameters`:
- `volume`: `<name>_min` / `<name>_max` = the mean row count of the successful
  validations of the `last` earlier partitions (7 days), times (1 -/+ band); with
  fewer than `min_history` of them, min 1 and no max.
- `reference`: the set of values of `column` in every validated or raw partition of
  `dataset` (same source zone layout) up to the partition's day: referential integrity.
- `learned`: `<name>_min` / `<name>_max` = mean -/+ max(k * std, rel * |mean|) of the values the
  expectation `expectation` observed in the `last` earlier partitions' successful runs;
  with fewer than `min_history` of them, the reviewed `default` bounds.

Plain Python with no GX import: the suite is turned into a GX `ExpectationSuite` only
where it runs (`gx_suite`), so loading and parameter logic are testable without GX.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SUITES_DIR = Path(__file__).resolve().parent / "suites"
BUILTIN_PARAMETERS = ("interval_start", "interval_end")
PARAMETER_KINDS = {"volume", "reference", "learned"}

# Logical type -> the names the type check accepts: pandas dtypes (or the Python type of
# object columns' values, which GX checks value by value) and Spark's type classes.
TYPE_NAMES: dict[str, list[str]] = {
    "integer": ["int8", "int16", "int32", "int64", "ShortType", "IntegerType", "LongType"],
    "float": ["float32", "float64", "FloatType", "DoubleType"],
    "string": ["str", "StringType"],
    "boolean": ["bool", "BooleanType"],
    # pandas sees UTC timestamps as naive UTC (GX cannot name a tz-aware dtype) and dates as datetime64[ms].
    "timestamp": ["datetime64[us]", "datetime64[ns]", "TimestampType", "TimestampNTZType"],
    "date": ["datetime64[s]", "datetime64[ms]", "DateType"],
}


class SuiteError(ValueError):
    """A suite file is missing or malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class Suite:
    name: str
    dataset: tuple[str, ...]  # (zone, *parts), e.g. ("raw", "partner", "bureau")
    columns: dict[str, str]
    parameters: dict[str, dict[str, Any]]
    expectations: list[dict[str, Any]]
    path: Path
    interval: str = "day"  # a partition's default data interval: its day, or the month it starts
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def zone(self) -> str:
        return self.dataset[0]

    @property
    def parts(self) -> tuple[str, ...]:
        return self.dataset[1:]

    def expectation_configs(self) -> list[dict[str, Any]]:
        """Every expectation as GX's JSON (`type`, `kwargs`, `meta`), the schema ones first."""
        configs = []
        if self.columns:
            configs.append(
                {
                    "type": "expect_table_columns_to_match_set",
                    "kwargs": {"column_set": list(self.columns), "exact_match": True},
                    "meta": {"id": "schema_columns"},
                }
            )
            for column, logical in self.columns.items():
                configs.append(
                    {
                        "type": "expect_column_values_to_be_in_type_list",
                        "kwargs": {"column": column, "type_list": TYPE_NAMES[logical]},
                        "meta": {"id": f"{column}_type_{logical}"},
                    }
                )
        for exp in self.expectations:
            meta = {**exp.get("meta", {}), "id": exp["id"]}
            configs.append({"type": exp["type"], "kwargs": exp.get("kwargs", {}), "meta": meta})
        return configs

    def parameter_names(self) -> set[str]:
        """The `$PARAMETER` names the expectations refer to."""
        names: set[str] = set()
        for config in self.expectation_configs():
            _collect_parameters(config["kwargs"], names)
        return names


def suite_path(dataset: tuple[str, ...] | str) -> Path:
    parts = tuple(dataset.split("/")) if isinstance(dataset, str) else tuple(dataset)
    return SUITES_DIR / f"{'.'.join(parts)}.yaml"


def load_suite(dataset: tuple[str, ...] | str | Path) -> Suite:
    """The suite of a dataset (`("raw", "partner", "bureau")`, `"raw/partner/bureau"`) or of a file."""
    path = dataset if isinstance(dataset, Path) else suite_path(dataset)
    if not path.exists():
        known = ", ".join(p.stem for p in sorted(SUITES_DIR.glob("*.yaml")))
        raise SuiteError(f"no expectation suite {path.name} in {path.parent}: expected one of {known}")
    try:
        body = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise SuiteError(f"{path}: not valid YAML: {exc}") from None
    return parse_suite(body, path)


def parse_suite(body: Any, path: Path) -> Suite:
    """Check a suite file's content and build the `Suite`; every error names the file."""
    if not isinstance(body, dict):
        raise SuiteError(f"{path}: expected a mapping with dataset, columns, parameters, expectations")
    unknown = set(body) - {"dataset", "interval", "columns", "parameters", "expectations", "meta"}
    if unknown:
        raise SuiteError(f"{path}: unknown key(s) {sorted(unknown)}")
    dataset = str(body.get("dataset", ""))
    if not re.fullmatch(r"[a-z]+(/[A-Za-z0-9_.\-]+)+", dataset):
        raise SuiteError(f"{path}: dataset '{dataset}' must look like <zone>/<part>/<part>")
    if path.stem != dataset.replace("/", "."):
        raise SuiteError(f"{path}: file name must be {dataset.replace('/', '.')}.yaml for dataset {dataset}")
    columns = body.get("columns") or {}
    bad_types = {c: t for c, t in columns.items() if t not in TYPE_NAMES}
    if bad_types:
        raise SuiteError(f"{path}: column type(s) {bad_types} unknown, expected one of {sorted(TYPE_NAMES)}")
    interval = body.get("interval", "day")
    if interval not in ("day", "month"):
        raise SuiteError(f"{path}: interval '{interval}' must be day or month")
    parameters = body.get("parameters") or {}
    for name, spec in parameters.items():
        if not isinstance(spec, dict) or spec.get("kind") not in PARAMETER_KINDS:
            raise SuiteError(f"{path}: parameter '{name}' needs a kind, one of {sorted(PARAMETER_KINDS)}")
    expectations = body.get("expectations") or []
    ids = set()
    for index, exp in enumerate(expectations):
        if not isinstance(exp, dict) or not exp.get("id") or not str(exp.get("type", "")).startswith("expect_"):
            raise SuiteError(f"{path}: expectation #{index + 1} needs an id and a type expect_...")
        if exp["id"] in ids:
            raise SuiteError(f"{path}: expectation id '{exp['id']}' is used twice")
        ids.add(exp["id"])
    suite = Suite(
        name=dataset.replace("/", "."),
        dataset=tuple(dataset.split("/")),
        columns=dict(columns),
        parameters=dict(parameters),
        expectations=list(expectations),
        path=path,
        interval=interval,
        meta=body.get("meta") or {},
    )
    provided = set(BUILTIN_PARAMETERS) | set(provided_parameters(suite))
    missing = suite.parameter_names() - provided
    if missing:
        raise SuiteError(f"{path}: expectations use $PARAMETER(s) {sorted(missing)} that no parameter provides")
    return suite


def provided_parameters(suite: Suite) -> list[str]:
    """The parameter names the suite's `parameters` section yields (volume/learned give _min and _max)."""
    names = []
    for name, spec in suite.parameters.items():
        names += [name] if spec["kind"] == "reference" else [f"{name}_min", f"{name}_max"]
    return names


def gx_suite(suite: Suite, configs: list[dict[str, Any]] | None = None):
    """The GX `ExpectationSuite` of a suite file, or of `configs` derived from it (imports GX)."""
    import great_expectations as gx

    configs = suite.expectation_configs() if configs is None else configs
    return gx.ExpectationSuite(name=suite.name, expectations=configs, meta={"file": suite.path.name})


def all_suites() -> list[Suite]:
    return [load_suite(path) for path in sorted(SUITES_DIR.glob("*.yaml"))]


def _collect_parameters(value: Any, names: set[str]) -> None:
    if isinstance(value, dict):
        if set(value) == {"$PARAMETER"}:
            names.add(value["$PARAMETER"])
            return
        for item in value.values():
            _collect_parameters(item, names)
    elif isinstance(value, list):
        for item in value:
            _collect_parameters(item, names)
