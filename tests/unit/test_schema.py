"""The JSON Schema command and the committed configuration reference made from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from handoff.cli import main
from handoff.schema import json_schemas, render_reference

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "configuration-reference.md"


def test_committed_reference_is_current() -> None:
    expected = render_reference(json_schemas())
    assert REFERENCE.read_text(encoding="utf-8") == expected, (
        "docs/configuration-reference.md is stale: regenerate it with "
        "`PYTHONPATH=plugins .venv/bin/python -m handoff schema --markdown "
        "> docs/configuration-reference.md`"
    )


def test_reference_names_every_field_of_both_files() -> None:
    page = REFERENCE.read_text(encoding="utf-8")
    for schema in json_schemas().values():
        models = [schema, *schema.get("$defs", {}).values()]
        for model in models:
            for field in model.get("properties", {}):
                assert f"| `{field}` |" in page, field


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("sidecar", ROOT / "include/handoffs/PROD-DEPLOYMENT-001.deploy.yaml"),
        ("environment", ROOT / "include/environments/demo.yaml"),
    ],
)
def test_shipped_files_use_only_keys_the_schema_names(kind: str, path: Path) -> None:
    schema = json_schemas()[kind]
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    unknown = sorted(set(document) - set(schema["properties"]))
    assert unknown == [], f"{path.name}: keys the schema does not name: {unknown}"
    assert set(schema.get("required", ())) <= set(document)


def test_schema_command_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) == {"sidecar", "environment"}
    assert printed["sidecar"]["additionalProperties"] is False


def test_schema_command_prints_the_reference(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--markdown"]) == 0
    assert capsys.readouterr().out == render_reference(json_schemas())
