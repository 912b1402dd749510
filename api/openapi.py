"""The OpenAPI 3.1 document, generated from the pydantic schemas the endpoints validate with.

Each view declares its contract with :func:`operation` (request body, responses, role); the
document is assembled from those declarations and the models' JSON schemas, so what is served
at ``/openapi.json`` is what the code checks.
"""

from __future__ import annotations

import inspect
import re

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from werkzeug.routing import IntegerConverter

from . import schemas

#: Error statuses every endpoint may answer, with what they mean.
ERRORS = {
    "400": "Malformed request (not JSON, wrong content type).",
    "401": "No or unknown token.",
    "403": "The token's role may not do this.",
    "404": "No such plan, scenario or forecast.",
    "409": "The scenario moved on since base_version.",
    "413": "Request body too large.",
    "422": "Invalid data, or an impossible plan (with the optimizer's diagnosis).",
    "503": "Unavailable: the solver reached its time limit, or the database does not answer.",
}


def operation(
    summary: str,
    *,
    body: type[BaseModel] | None = None,
    multipart: dict | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    errors: tuple[str, ...] = ("401", "403", "422"),
    csv: bool = False,
    params: tuple[dict, ...] = (),
):
    """Attach an OpenAPI operation to a view function."""

    def wrap(view):
        view.openapi = {
            "summary": summary,
            "description": inspect.cleandoc(view.__doc__ or ""),
            "body": body,
            "multipart": multipart,
            "response": response,
            "status": status,
            "errors": errors,
            "csv": csv,
            "params": params,
        }
        return view

    return wrap


MODELS = (
    schemas.ForecastRequest,
    schemas.PlanRequest,
    schemas.ReplanRequest,
    schemas.ForecastOut,
    schemas.PlanOut,
    schemas.PlanList,
    schemas.ScenarioList,
    schemas.Comparison,
    schemas.Health,
    schemas.Problem,
)


def _ref(model: type[BaseModel]) -> dict:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def document(app: Flask) -> dict:
    """The OpenAPI document for every view of ``app`` that declares an :func:`operation`."""
    _, defs = models_json_schema(
        [(m, "validation" if m.__name__.endswith("Request") else "serialization") for m in MODELS],
        ref_template="#/components/schemas/{model}",
    )
    components = defs.get("$defs", {})
    paths: dict = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        spec = getattr(view, "openapi", None)
        if spec is None:
            continue
        path = rule.rule
        parameters = list(spec["params"])
        for arg in rule.arguments:
            conv = rule._converters[arg]
            if isinstance(conv, IntegerConverter):
                kind = {"type": "integer", "minimum": 0, "maximum": conv.max or schemas.MAX_ID}
            else:
                kind = {"type": "string"}
            parameters.append({"name": arg, "in": "path", "required": True, "schema": kind})
        path = re.sub(r"<(?:[^:<>]+:)?([A-Za-z_]+)>", r"{\1}", path)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            op: dict = {
                "summary": spec["summary"],
                "description": spec["description"],
                "operationId": rule.endpoint.replace(".", "_"),
                "responses": {},
            }
            if parameters:
                op["parameters"] = parameters
            role = getattr(view, "required_role", None)
            if role:
                op["security"] = [{"bearer": []}]
                need = f"Needs the `{role}` role when tokens are configured."
                op["description"] = f"{op['description']}\n\n{need}".strip()
            content = {}
            if spec["body"] is not None:
                content["application/json"] = {"schema": _ref(spec["body"])}
            if spec["multipart"] is not None:
                content["multipart/form-data"] = {"schema": spec["multipart"]}
            if content:
                op["requestBody"] = {"required": True, "content": content}
            ok: dict = {"description": "OK" if spec["status"] == 200 else "Created"}
            if spec["response"] is not None:
                ok["content"] = {"application/json": {"schema": _ref(spec["response"])}}
                if spec["csv"]:
                    ok["content"]["text/csv"] = {"schema": {"type": "string"}}
            op["responses"][str(spec["status"])] = ok
            for code in spec["errors"]:
                op["responses"][code] = {
                    "description": ERRORS[code],
                    "content": {"application/problem+json": {"schema": _ref(schemas.Problem)}},
                }
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "quotaplan",
            "version": "1",
            "description": "Ambitious but realistic sales quotas: forecast, plan, compare and "
            "re-plan over HTTP. Errors are application/problem+json.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
