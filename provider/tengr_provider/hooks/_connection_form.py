"""The connection form of Airflow < 3.2, built from the provider info's ``conn-fields`` declaration.

Airflow 3.2+ draws the form from ``conn-fields`` itself; 3.0 and 3.1 ask the hook class for
``get_ui_field_behaviour`` and ``get_connection_form_widgets`` instead. Both answers are derived here
from the one declaration (:func:`tengr_provider.get_provider_info`), so the two forms cannot disagree.
The hook keeps the two classmethods Airflow looks for, each a line that calls this module.
"""

from __future__ import annotations

import json
from typing import Any


def ui_field_behaviour(form: dict[str, Any]) -> dict[str, Any]:
    """Which standard fields to hide and how to relabel the others, in the snake_case Airflow reads."""
    behaviour = form["ui-field-behaviour"]
    return {key.replace("-", "_"): value for key, value in behaviour.items()}


def form_widgets(form: dict[str, Any]) -> dict[str, Any]:
    """The extra fields as wtforms fields (needs wtforms, as Airflow < 3.2 has).

    Defaults and choices included: Airflow 3.0 and 3.1 read these fields with wtforms mocked (string,
    integer, boolean; ``any_of`` becomes a select), and a field without its default shows, say, a
    switch that is off for a setting that is on unless changed.
    """
    from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
    from flask_babel import lazy_gettext
    from wtforms import BooleanField, IntegerField, StringField
    from wtforms.validators import any_of

    field_classes = {"integer": IntegerField, "boolean": BooleanField}
    widgets: dict[str, Any] = {}
    for name, spec in form["conn-fields"].items():
        schema = spec["schema"]
        field_class = field_classes.get(schema["type"][0], StringField)
        default = schema.get("default")
        if field_class is StringField and default is not None and not isinstance(default, str):
            default = json.dumps(default)  # a text field holds text: the hook reads "60" as 60
        kwargs: dict[str, Any] = {"description": spec.get("description", ""), "default": default}
        if "enum" in schema:
            kwargs["validators"] = [any_of(schema["enum"])]
        if field_class is not BooleanField:
            kwargs["widget"] = BS3TextFieldWidget()
        widgets[name] = field_class(lazy_gettext(spec["label"]), **kwargs)
    return widgets
