"""Find the handoffs in a folder and load each one: contract, sidecar, environment, plan.

One bad file breaks only its own handoff: each entry carries its own diagnostics, and the
catalog adds the problems that span files (duplicate handoff ids, sidecars without a contract).
The lint command and the DAG loader both read handoffs through this module.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from handoff import handoff_cache
from handoff.acceptance import Acceptance, Environment, Loaded, cross_check, load_yaml_model
from handoff.acceptance.cross_checks import release_problems
from handoff.acceptance.paths import environment_path_problems, sidecar_path_problems
from handoff.acceptance.volumes import volume_problems
from handoff.contract import Contract, parse_contract
from handoff.contract.parser import CONTRACT_SUFFIXES, ContractResult
from handoff.contract_ids import ContractId, contract_ids
from handoff.errors import Diagnostic, Severity, errors_in, unexpected
from handoff.plan import DeploymentPlan, derive_plan
from handoff.template_lint import template_syntax_warnings

log = logging.getLogger(__name__)

SIDECAR_SUFFIX = ".deploy.yaml"
# Files in the handoffs folder that are documentation, not contracts.
NOT_CONTRACTS = frozenset({"readme.md", "changelog.md"})


@dataclass(frozen=True)
class Handoff:
    """One contract and what its acceptance made of it."""

    contract_path: Path
    contract: Contract | None
    acceptance: Acceptance | None
    environment: Environment | None
    plan: DeploymentPlan | None
    diagnostics: tuple[Diagnostic, ...]

    @property
    def sidecar_path(self) -> Path:
        """Return where this contract's acceptance sidecar lives."""
        return sidecar_path_for(self.contract_path)

    @property
    def deployable(self) -> bool:
        """Tell whether the handoff is accepted and free of errors."""
        return (
            self.plan is not None
            and self.acceptance is not None
            and not errors_in(self.diagnostics)
        )


def sidecar_path_for(contract_path: Path) -> Path:
    """Return `<name>.deploy.yaml` beside a contract `<name>.md` or `<name>.json`."""
    return contract_path.with_name(contract_path.stem + SIDECAR_SUFFIX)


def is_contract_file(path: Path) -> bool:
    """Tell whether a file in a handoffs folder is a contract."""
    return (
        path.suffix.lower() in CONTRACT_SUFFIXES
        and path.name.lower() not in NOT_CONTRACTS
        and not path.name.startswith(".")
    )


def find_contracts(paths: Iterable[Path]) -> list[Path]:
    """Return the contract files named, or found under the folders named, in sorted order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and is_contract_file(p))
        else:
            found.append(path)
    return found


def _environment(
    name: str, environments_dir: Path, sidecar: Loaded[Acceptance]
) -> tuple[Environment | None, list[Diagnostic]]:
    path = environments_dir / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in environments_dir.glob("*.yaml"))
        return None, [
            Diagnostic(
                Severity.ERROR,
                sidecar.path,
                sidecar.line("environment"),
                f"environment {name!r} not found: no {path}",
                f"known environments: {', '.join(known)}" if known else None,
            )
        ]
    stat = path.stat()
    environment, problems = _read_environment(path, stat.st_mtime_ns, stat.st_size)
    return environment, list(problems)


@functools.lru_cache(maxsize=64)
def _read_environment(
    path: Path, mtime_ns: int, size: int
) -> tuple[Environment | None, tuple[Diagnostic, ...]]:
    """Read an environment once per version of its file: every handoff of a folder shares it."""
    loaded, problems = load_yaml_model(path, Environment)
    if loaded is not None:
        problems += environment_path_problems(loaded)
        if errors_in(problems):
            return None, tuple(problems)
    return (loaded.value if loaded else None), tuple(problems)


def environments_dir_for(contract_path: Path, environments_dir: Path | None = None) -> Path:
    """Return where a contract's environments live: given, else `<handoffs>/../environments`."""
    return environments_dir or contract_path.parent.parent / "environments"


def load_handoff(
    contract_path: Path,
    environments_dir: Path | None = None,
    environments_digest: str = "",
    parsed: ContractResult | None = None,
) -> Handoff:
    """Load one handoff, through the disk cache; problems are reported, never raised.

    `environments_digest` lets a caller loading many handoffs digest the environments once;
    `parsed` is the contract's parse when the caller has just made it.
    """
    environments = environments_dir_for(contract_path, environments_dir)
    key = handoff_cache.handoff_key(
        contract_path,
        sidecar_path_for(contract_path),
        environments_digest or handoff_cache.folder_digest(environments),
    )
    cached = handoff_cache.read(key)
    if isinstance(cached, Handoff) and cached.contract_path == contract_path:
        return cached
    try:
        handoff = _load_handoff(contract_path, environments, parsed)
    except Exception as e:  # the last resort: this handoff fails, not the rest
        log.debug("unexpected error while loading %s", contract_path, exc_info=True)
        problem = unexpected(contract_path, e, "loading the handoff")
        return Handoff(contract_path, None, None, None, None, (problem,))
    handoff_cache.write(key, handoff)
    return handoff


def _load_handoff(
    contract_path: Path, environments: Path, parsed: ContractResult | None = None
) -> Handoff:
    result = parsed if parsed is not None else parse_contract(contract_path)
    diagnostics = list(result.diagnostics)
    contract = result.contract
    sidecar_path = sidecar_path_for(contract_path)
    diagnostics += template_syntax_warnings(contract_path, sidecar_path)  # shown, never rendered
    acceptance: Acceptance | None = None
    environment: Environment | None = None
    if not sidecar_path.is_file():
        if contract is None:
            return Handoff(contract_path, None, None, None, None, tuple(diagnostics))
        diagnostics.append(
            Diagnostic(
                Severity.NOTE,
                contract_path,
                None,
                f"not accepted yet: no {sidecar_path.name} beside it; no DAG until it is",
            )
        )
    else:
        sidecar, problems = load_yaml_model(sidecar_path, Acceptance)
        diagnostics += problems
        if sidecar is not None and (escaping := sidecar_path_problems(sidecar)):
            diagnostics += escaping  # nothing of a sidecar that reaches outside is used
            sidecar = None
        if sidecar is not None:
            acceptance = sidecar.value
            environment, problems = _environment(acceptance.environment, environments, sidecar)
            diagnostics += problems
            if environment is not None:
                path = environments / f"{acceptance.environment}.yaml"
                diagnostics += release_problems(sidecar, environment, path)
                diagnostics += volume_problems(sidecar, environment, str(path))
            if contract is not None:
                diagnostics += cross_check(contract, sidecar)
    plan = None
    if contract is not None and not errors_in(diagnostics):
        plan = derive_plan(contract, acceptance, environment)
        diagnostics += _check_gaps(plan)
    return Handoff(contract_path, contract, acceptance, environment, plan, tuple(diagnostics))


def _check_gaps(plan: DeploymentPlan) -> list[Diagnostic]:
    """Warn about criteria whose evidence will be missing, so nobody is surprised later."""
    return [
        Diagnostic(
            Severity.WARNING,
            plan.contract.source.path,
            binding.criterion.line,
            f"criterion {binding.criterion.name!r}: {binding.note}",
        )
        for binding in plan.checks
        if binding.note
    ]


def _duplicate_ids(ids: Iterable[ContractId]) -> list[Diagnostic]:
    """Report every contract whose handoff id an earlier contract (in path order) uses."""
    first_by_id: dict[str, ContractId] = {}
    problems = []
    for found in sorted(ids, key=lambda i: str(i.path)):
        first = first_by_id.setdefault(found.handoff_id, found)
        if first is not found:
            problems.append(
                Diagnostic(
                    Severity.ERROR,
                    found.path,
                    found.line,
                    f"handoff id {found.handoff_id!r} is already used by {first.path}:{first.line}",
                    "each contract needs its own handoff id; its DAG is named after it",
                )
            )
    return problems


def _orphan_sidecars(folders: Iterable[Path], contracts: list[Path]) -> list[Diagnostic]:
    expected = {sidecar_path_for(p).resolve() for p in contracts}
    problems = []
    for folder in folders:
        for sidecar in sorted(folder.rglob(f"*{SIDECAR_SUFFIX}")):
            if sidecar.resolve() not in expected:
                problems.append(
                    Diagnostic(
                        Severity.ERROR,
                        sidecar,
                        None,
                        "acceptance sidecar without a contract",
                        f"expected a contract named {sidecar.name.removesuffix(SIDECAR_SUFFIX)}"
                        ".md or .json beside it",
                    )
                )
    return problems


@dataclass(frozen=True)
class Catalog:
    """The handoffs loaded, and the problems that span files (over every contract found)."""

    handoffs: tuple[Handoff, ...]
    problems: tuple[Diagnostic, ...]
    ids: tuple[ContractId, ...] = ()

    def diagnostics(self) -> list[Diagnostic]:
        """Return every diagnostic, ordered by file and line."""
        found = [d for h in self.handoffs for d in h.diagnostics] + list(self.problems)
        return sorted(found, key=lambda d: (str(d.path), d.line or 0))


def load_catalog(
    paths: Iterable[Path],
    environments_dir: Path | None = None,
    select: Callable[[Path, ContractId | None], bool] | None = None,
    own: Callable[[Path], bool] | None = None,
) -> Catalog:
    """Load the handoffs under the given files and folders.

    With `select`, only the contracts it accepts are loaded (a loader shard, or the one DAG a
    worker asks for), while cross-file problems still cover every contract, through the id
    index; problems are kept for the files `select` accepts. `own` names the contracts this
    caller will load whatever their ids (a shard's), so the index parses those first.
    """
    paths = list(paths)
    contracts = find_contracts(paths)
    # Contracts the id index had to parse are not parsed again when they are loaded (a cold
    # cache: every contract changed, or the first parse).
    parsed: dict[Path, ContractResult] = {}
    if select is None:
        chosen = contracts
    else:
        indexed = contract_ids(contracts, parsed, own)
        chosen = [p for p in contracts if select(p, indexed.get(p))]
    digests: dict[Path, str] = {}
    handoffs = []
    with handoff_cache.writes_in_background():
        for path in chosen:
            environments = environments_dir_for(path, environments_dir)
            if environments not in digests:
                digests[environments] = handoff_cache.folder_digest(environments)
            handoffs.append(
                load_handoff(path, environments, digests[environments], parsed.pop(path, None))
            )
    if select is None:
        ids = [
            ContractId(h.contract_path, h.contract.handoff_id, h.contract.source.id_line)
            for h in handoffs
            if h.contract is not None
        ]
    else:
        ids = list(indexed.values())
    problems = _duplicate_ids(ids)
    problems += _orphan_sidecars([p for p in paths if p.is_dir()], contracts)
    if select is not None:
        problems = [p for p in problems if select(p.path, indexed.get(p.path))]
    return Catalog(tuple(handoffs), tuple(problems), tuple(ids))
