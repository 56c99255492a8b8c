"""Command line: `python -m handoff lint [PATH...]`, `show FILE`, `accept CONTRACT`,
`grafana CONTRACT` and `schema [--markdown]`.

All work offline, without Airflow's database, fast enough for a pre-commit hook.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from handoff.acceptance import Environment, load_yaml_model
from handoff.catalog import Catalog, environments_dir_for, load_catalog, load_handoff
from handoff.checks import database
from handoff.checks.dependencies import configured
from handoff.contract.parser import parse_contract
from handoff.errors import Diagnostic, Severity, errors_in
from handoff.jsonable import to_jsonable
from handoff.plan.bindings import bindable_names, kind_named
from handoff.plan.model import CheckKind
from handoff.render.pinned import in_flight_notes
from handoff.schema import json_schemas, render_reference
from handoff.show import render_plan
from handoff.skeleton import render_skeleton, skeleton_path

DEFAULT_HANDOFFS = Path("include/handoffs")


def _lint(paths: list[Path], as_json: bool) -> int:
    missing = [p for p in paths if not p.exists()]
    if missing:
        for path in missing:
            print(f"{path}: error: no such file or folder", file=sys.stderr)
        return 2
    catalog = load_catalog(paths)
    diagnostics = catalog.diagnostics() + _in_flight(paths) + _binding_errors(catalog)
    errors = len(errors_in(diagnostics))
    warnings = sum(d.severity is Severity.WARNING for d in diagnostics)
    if as_json:
        print(
            json.dumps(
                {
                    "files": [str(h.contract_path) for h in catalog.handoffs],
                    "errors": errors,
                    "warnings": warnings,
                    "diagnostics": to_jsonable(diagnostics),
                },
                indent=2,
            )
        )
    else:
        for diagnostic in diagnostics:
            print(diagnostic.render())
        for line in _not_verified(catalog) + _dependencies(catalog):
            print(line)
        print(
            f"{len(catalog.handoffs)} contract(s) checked: {errors} error(s), {warnings} warning(s)"
        )
    return 1 if errors else 0


def _binding_errors(catalog: Catalog) -> list[Diagnostic]:
    """Return an error per sidecar binding that names no criterion or no check."""
    found = []
    for handoff in catalog.handoffs:
        if handoff.acceptance is None or handoff.plan is None:
            continue
        names = {c.name for c in handoff.plan.contract.acceptance_criteria}
        for criterion, check in handoff.acceptance.bindings.items():
            problem = ""
            if criterion not in names:
                problem = f"binding {criterion!r}: the contract has no criterion of that name"
            elif kind_named(check) is None:
                problem = f"binding {criterion!r}: no check named {check!r}; known: " + ", ".join(
                    bindable_names()
                )
            if problem:
                found.append(Diagnostic(Severity.ERROR, handoff.sidecar_path, None, problem))
    return found


def _not_verified(catalog: Catalog) -> list[str]:
    """Return a note per criterion no check verifies (bind it in the sidecar's bindings:)."""
    return [
        f"{handoff.contract_path}:{b.criterion.line}: note: criterion {b.criterion.name!r} is "
        "not verified by any check (bind it under the sidecar's bindings:)"
        for handoff in catalog.handoffs
        if handoff.plan is not None
        for b in handoff.plan.checks
        if b.kind is CheckKind.NOT_VERIFIED
    ]


def _dependencies(catalog: Catalog) -> list[str]:
    """Return a note per sidecar listing the Dependencies proven before anything goes live."""
    return [
        f"{handoff.sidecar_path}: note: dependencies proven before anything goes live: "
        + "; ".join(
            configured(handoff.acceptance.checks.dependencies)
            + database.configured(handoff.acceptance.service.database)
        )
        for handoff in catalog.handoffs
        if handoff.acceptance is not None and handoff.plan is not None
    ]


def _in_flight(paths: list[Path]) -> list[Diagnostic]:
    """Return the warnings of runs in flight whose handoff's files changed (render.pinned)."""
    return [note for path in paths if path.is_dir() for note in in_flight_notes(path)]


def _show(path: Path, as_json: bool) -> int:
    if not path.is_file():
        print(f"{path}: error: no such file", file=sys.stderr)
        return 2
    handoff = load_handoff(path)
    errors = errors_in(handoff.diagnostics)
    if handoff.plan is None or errors:
        for diagnostic in handoff.diagnostics:
            print(diagnostic.render(), file=sys.stderr)
        return 1
    if as_json:
        print(json.dumps(to_jsonable(handoff.plan), indent=2))
    else:
        print(render_plan(handoff.plan))
        notes = [d for d in handoff.diagnostics if d.severity is not Severity.ERROR]
        if notes:
            print("\nNotes")
            for diagnostic in notes:
                print(f"  {diagnostic.render()}")
    return 0


def _accept(path: Path, environment: str | None, force: bool, to_stdout: bool) -> int:
    """Write (or print) the sidecar skeleton of a contract."""
    if not path.is_file():
        print(f"{path}: error: no such file", file=sys.stderr)
        return 2
    parsed = parse_contract(path)
    if parsed.contract is None:
        for diagnostic in parsed.diagnostics:
            print(diagnostic.render(), file=sys.stderr)
        return 1
    target = skeleton_path(path)
    if target.exists() and not force and not to_stdout:
        print(
            f"{target}: error: a sidecar exists already; nothing written "
            "(--force replaces it, --stdout prints the skeleton instead)",
            file=sys.stderr,
        )
        return 1
    folder = environments_dir_for(path)
    known = sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
    name = environment or (known[0] if known else "production")
    loaded, problems = load_yaml_model(folder / f"{name}.yaml", Environment)
    if environment is not None and loaded is None:
        for diagnostic in problems:
            print(diagnostic.render(), file=sys.stderr)
        return 1
    if loaded is None:
        print(
            f"{folder}: warning: no environment found; the skeleton names {name!r}, "
            "which lint reports until it exists (or pass --environment NAME)",
            file=sys.stderr,
        )
    text = render_skeleton(
        parsed.contract,
        datetime.now(UTC),
        name,
        loaded.value if loaded else None,
        known,
    )
    if to_stdout:
        print(text, end="")
        return 0
    target.write_text(text, encoding="utf-8")
    print(f"{target}: written; every line marked DECIDE: needs a person, then run")
    print(f"  python -m handoff lint {path}")
    return 0


def _grafana(path: Path, datasource_uid: str) -> int:
    from handoff.console.grafana import dashboard, handoff_queries

    if not path.is_file():
        print(f"{path}: error: no such file", file=sys.stderr)
        return 2
    handoff = load_handoff(path)
    if handoff.plan is None or handoff.acceptance is None or errors_in(handoff.diagnostics):
        for diagnostic in handoff.diagnostics:
            print(diagnostic.render(), file=sys.stderr)
        return 1
    service = handoff.acceptance.service.name
    endpoints = [e.path for e in handoff.acceptance.checks.endpoints]
    handoff_id = handoff.plan.handoff_id
    model = dashboard(
        f"handoff-{handoff_id.lower()}",
        f"{handoff_id}: {service}",
        handoff_queries(service, endpoints),
        datasource_uid,
    )
    print(json.dumps(model, indent=2))
    return 0


def _schema(as_markdown: bool) -> int:
    schemas = json_schemas()
    print(render_reference(schemas) if as_markdown else json.dumps(schemas, indent=2), end="")
    if not as_markdown:
        print()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m handoff", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    lint = commands.add_parser("lint", help="check contracts, sidecars and environments")
    lint.add_argument("paths", nargs="*", type=Path, default=[DEFAULT_HANDOFFS])
    lint.add_argument("--json", action="store_true", help="machine-readable output")
    show = commands.add_parser("show", help="show the deployment plan of one contract")
    show.add_argument("file", type=Path)
    show.add_argument("--json", action="store_true", help="machine-readable output")
    accept = commands.add_parser(
        "accept", help="write the acceptance sidecar skeleton of a contract beside it"
    )
    accept.add_argument("contract", type=Path)
    accept.add_argument("--environment", help="environment name (default: the first known)")
    accept.add_argument("--force", action="store_true", help="replace an existing sidecar")
    accept.add_argument("--stdout", action="store_true", help="print instead of writing")
    grafana = commands.add_parser(
        "grafana", help="a Grafana dashboard (JSON) of what a contract's watches judge"
    )
    grafana.add_argument("contract", type=Path)
    grafana.add_argument(
        "--datasource-uid", default="prometheus", help="the Prometheus datasource's uid"
    )
    schema = commands.add_parser("schema", help="JSON Schema of the sidecar and the environment")
    schema.add_argument("--markdown", action="store_true", help="the configuration reference")
    args = parser.parse_args(argv)
    if args.command == "schema":
        return _schema(args.markdown)
    if args.command == "lint":
        return _lint(args.paths, args.json)
    if args.command == "accept":
        return _accept(args.contract, args.environment, args.force, args.stdout)
    if args.command == "grafana":
        return _grafana(args.contract, args.datasource_uid)
    return _show(args.file, args.json)
