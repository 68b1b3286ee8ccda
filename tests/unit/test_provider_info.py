"""Airflow discovers the provider, its hook and its connection form from the provider info."""

from __future__ import annotations

import json
import warnings
from importlib import resources
from importlib.metadata import entry_points

import jsonschema
import pytest

import tengr_provider
from tengr_provider import get_provider_info
from tengr_provider.hooks.tengr import TengrAsyncHook, TengrHook


def airflow_schema(name: str) -> dict[str, object]:
    return json.loads(resources.files("airflow").joinpath(name).read_text())


def test_provider_info_validates_against_airflows_runtime_schema() -> None:
    jsonschema.validate(get_provider_info(), airflow_schema("provider_info.schema.json"))


def test_connection_form_validates_against_airflows_provider_yaml_schema() -> None:
    schema = airflow_schema("provider.yaml.schema.json")
    connection_schema = schema["properties"]["connection-types"]["items"]  # type: ignore[index]
    for connection_type in get_provider_info()["connection-types"]:
        jsonschema.validate(
            connection_type, {**connection_schema, "definitions": schema.get("definitions", {})}
        )


def test_package_name_is_the_canonical_distribution_name() -> None:
    (entry_point,) = [
        ep
        for ep in entry_points(group="apache_airflow_provider")
        if ep.dist and ep.dist.name == "airflow-provider-tengr"
    ]
    assert entry_point.load() is get_provider_info
    assert get_provider_info()["package-name"] == "airflow-provider-tengr"


def test_hook_declares_what_airflow_reads() -> None:
    for hook_class in (TengrHook, TengrAsyncHook):
        assert hook_class.conn_name_attr == "tengr_conn_id"
        assert hook_class.default_conn_name == "tengr_default"
        assert hook_class.conn_type == "tengr"
        assert hook_class.hook_name == "tengr.ai"


def test_every_listed_class_and_module_imports() -> None:
    info = get_provider_info()
    for connection_type in info["connection-types"]:
        module, _, name = connection_type["hook-class-name"].rpartition(".")
        assert getattr(__import__(module, fromlist=[name]), name) is TengrHook
    for section in ("hooks", "operators", "sensors", "triggers"):
        for entry in info.get(section, []):
            for module in entry["python-modules"]:
                __import__(module)


def test_providers_manager_discovers_provider_and_connection_type() -> None:
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "airflow-provider-tengr" in manager.providers
    assert manager.providers["airflow-provider-tengr"].version == tengr_provider.__version__
    with warnings.catch_warnings():  # ProvidersManager.hooks warns of deprecation on 3.3, not on 3.0
        warnings.simplefilter("ignore")
        hook_info = manager.hooks["tengr"]
    assert hook_info is not None
    assert hook_info.hook_class_name == "tengr_provider.hooks.tengr.TengrHook"
    assert hook_info.connection_testable is True


def test_providers_manager_builds_the_connection_form() -> None:
    # Airflow 3.2+ reads the declaration in the provider info; older versions call the hook's
    # methods, which need the FAB UI (installed in the floor suite).
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    behaviour = manager.field_behaviours["tengr"]
    assert behaviour["relabeling"] == {"host": "Base URL", "password": "API key"}
    assert {"schema", "port", "login"} <= set(behaviour["hidden_fields"])
    assert behaviour["placeholders"]["host"] == "https://api.tengr.ai"
    widgets = {name for name in manager.connection_form_widgets if name.startswith("extra__tengr__")}
    declared = get_provider_info()["connection-types"][0]["conn-fields"]
    assert widgets == {f"extra__tengr__{name}" for name in declared}
    assert {
        "timeout",
        "max_retries",
        "rate_limit_timeout",
        "retry_creates",
        "backoff_initial",
        "backoff_max",
        "allow_insecure_webhooks",
        "api_version",
        "api_paths",
    } == set(declared)


def test_legacy_form_methods_match_the_declaration() -> None:
    behaviour = TengrHook.get_ui_field_behaviour()
    declared = get_provider_info()["connection-types"][0]["ui-field-behaviour"]
    assert behaviour == {
        "hidden_fields": declared["hidden-fields"],
        "relabeling": declared["relabeling"],
        "placeholders": declared["placeholders"],
    }


def test_legacy_form_widgets_match_the_declared_fields() -> None:
    pytest.importorskip("flask_appbuilder", reason="only Airflow < 3.2 with the FAB UI calls this")
    widgets = TengrHook.get_connection_form_widgets()
    assert set(widgets) == set(get_provider_info()["connection-types"][0]["conn-fields"])
    # The declaration's defaults and choices reach the legacy form too (tests/ui drives it in a browser).
    assert widgets["retry_creates"].kwargs["default"] is True
    assert widgets["allow_insecure_webhooks"].kwargs["default"] is False
    assert widgets["timeout"].kwargs["default"] == "60"
    assert widgets["max_retries"].kwargs["default"] == 5
    assert [validator.values for validator in widgets["api_version"].kwargs["validators"]] == [["v1", "v2"]]
