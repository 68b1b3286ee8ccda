"""What a DAG author reads when a request breaks a rule: one ``field: rule`` line per problem.

Pydantic reports locations and its own wording; a DAG author wrote ``image_guidance`` (or the API's
``imageGuidance``) and wants to know which rule they broke. Kept apart from the models, which state the
rules, so that every caller (hook, operators, batch items, emulator) words a refusal the same way.
"""

from __future__ import annotations

from pydantic import BaseModel, ValidationError


class TengrRequestValidationError(ValueError):
    """A request broke a documented rule; raised before any HTTP request is made.

    :param model_name: the request model that refused the input.
    :param problems: one ``"field: rule"`` line per broken rule.
    """

    def __init__(self, model_name: str, problems: list[str]) -> None:
        self.model_name = model_name
        self.problems = problems
        super().__init__(f"invalid {model_name}: " + "; ".join(problems))


def _field_label(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    """``image_guidance (imageGuidance)``: the name users wrote and the name the API uses."""
    if not loc:
        return ""
    name = str(loc[0])
    for field_name, field in model.model_fields.items():
        if name in (field_name, field.alias):
            label = field_name if field.alias in (None, field_name) else f"{field_name} ({field.alias})"
            rest = "".join(f"[{part}]" for part in loc[1:])
            return label + rest
    return name


def describe_validation_error(model: type[BaseModel], error: ValidationError) -> list[str]:
    """Turn pydantic's report into ``"field: rule"`` lines a DAG author can act on."""
    problems = []
    for item in error.errors():
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = f"unknown field; allowed: {', '.join(sorted(model.model_fields))}"
        label = _field_label(model, tuple(item["loc"]))
        problems.append(f"{label}: {message}" if label else message)
    return problems
