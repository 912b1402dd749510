"""The OpenAPI 3.1 document, generated from the declarations that route and validate.

Each view declares its contract with :func:`operation` (request body, response, errors); its
route and role come from Flask's URL map and :func:`api.auth.requires`. The document is
assembled from those declarations alone: the schemas of every model an operation names (and of
the models they contain), in the mode it is used in (a request body as validated, a response as
serialised), so every ``$ref`` resolves and what ``/openapi.json`` says is what the code checks.
Bounds the operator configures (rows, reps, amounts) are filled in from the app's settings.
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
    "400": "Malformed request (not valid JSON, or nested too deeply).",
    "401": "No or unknown token.",
    "403": "The token's role may not do this.",
    "404": "No such plan, scenario or forecast.",
    "409": "The scenario moved on since base_version.",
    "413": "Too large: the body, a table's rows or the reps (the problem names the setting).",
    "415": "The body is not JSON (Content-Type: application/json).",
    "422": "Invalid data, or an impossible plan (with the optimizer's diagnosis).",
    "503": "Unavailable: the forecast or the solver reached its time limit (the problem names the "
    "setting), or the database does not answer.",
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


def _operations(app: Flask):
    """(rule, view, spec) for every routed view that declares an operation."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        spec = getattr(view, "openapi", None)
        if spec is not None:
            yield rule, view, spec


def _schemas(app: Flask) -> tuple[dict, dict]:
    """The JSON schemas of every model the operations name: (refs by (model, mode), components)."""
    used = {(schemas.Problem, "serialization")}
    for _, _, spec in _operations(app):
        if spec.get("job"):
            used.add((schemas.JobOut, "serialization"))
        if spec["body"] is not None:
            used.add((spec["body"], "validation"))
        for part in (spec["multipart"] or {}).get("properties", {}).values():
            if isinstance(part, type) and issubclass(part, BaseModel):  # a JSON part
                used.add((part, "validation"))
        if spec["response"] is not None:
            used.add((spec["response"], "serialization"))
    ordered = sorted(used, key=lambda m: (m[0].__name__, m[1]))
    refs, defs = models_json_schema(ordered, ref_template="#/components/schemas/{model}")
    return refs, _bounded(defs.get("$defs", {}), app.config)


def _bounded(node, config):
    """Fill the operator's bounds into the schemas: ``x-bound: MAX_ROWS`` on an array becomes its
    ``maxItems``, on a number its ``maximum``."""
    if isinstance(node, list):
        return [_bounded(v, config) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _bounded(v, config) for k, v in node.items()}
    bound = out.pop("x-bound", None)
    if bound is not None:
        key = "maxItems" if out.get("type") == "array" else "maximum"
        out[key] = config[bound]
        setting = f"QUOTAPLAN_{bound}"
        out["description"] = (
            out.get("description", "") + f" At most {config[bound]:,g} ({setting})."
        ).strip()
    return out


def _multipart(declared: dict, refs: dict) -> dict:
    """A multipart body: its parts, a model's schema for a part sent as JSON (with its
    encoding), files as binary strings."""
    props = {}
    for name, part in declared["properties"].items():
        if isinstance(part, type) and issubclass(part, BaseModel):
            props[name] = refs[(part, "validation")]
        else:
            props[name] = part
    return {"schema": {**declared, "properties": props}}


def _errors(spec: dict, rule, role: str | None) -> list[str]:
    """The error statuses of an operation: those it declares, and those that follow from its
    route, role and body (every request can meet the open-mode guard's 403)."""
    codes = set(spec["errors"]) | {"403"}
    if role:
        codes |= {"401"}
    if spec["body"] is not None or spec["multipart"] is not None:
        codes |= {"400", "413", "422"}
    if spec["body"] is not None and spec["multipart"] is None:
        codes |= {"415"}
    if rule.arguments:
        codes |= {"404"}
    return sorted(codes)


def document(app: Flask) -> dict:
    """The OpenAPI document for every view of ``app`` that declares an :func:`operation`."""
    refs, components = _schemas(app)
    paths: dict = {}
    for rule, view, spec in _operations(app):
        path = rule.rule
        parameters = list(spec["params"])
        for arg in rule.arguments:
            conv = rule._converters[arg]
            if isinstance(conv, IntegerConverter):
                kind = {"type": "integer", "minimum": 0, "maximum": conv.max or schemas.MAX_ID}
            else:
                kind = {"type": "string", "minLength": 1}
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
                content["application/json"] = {"schema": refs[(spec["body"], "validation")]}
            if spec["multipart"] is not None:
                content["multipart/form-data"] = _multipart(spec["multipart"], refs)
            if content:
                op["requestBody"] = {"required": True, "content": content}
            ok: dict = {"description": "OK" if spec["status"] == 200 else "Created"}
            if spec["response"] is not None:
                schema = refs[(spec["response"], "serialization")]
                ok["content"] = {"application/json": {"schema": schema}}
                if spec["csv"]:
                    ok["content"]["text/csv"] = {"schema": {"type": "string"}}
            elif spec["csv"]:
                ok["content"] = {"text/csv": {"schema": {"type": "string"}}}
            op["responses"][str(spec["status"])] = ok
            if spec.get("job"):
                op["responses"]["202"] = {
                    "description": "Accepted (with 'Prefer: respond-async'): the job, to poll at "
                    "its Location",
                    "headers": {
                        "Location": {
                            "description": "/v1/jobs/{id}",
                            "schema": {"type": "string"},
                            "required": True,
                        }
                    },
                    "content": {
                        "application/json": {"schema": refs[(schemas.JobOut, "serialization")]}
                    },
                }
            problem_ref = refs[(schemas.Problem, "serialization")]
            for code in _errors(spec, rule, role):
                op["responses"][code] = {
                    "description": ERRORS[code],
                    "content": {"application/problem+json": {"schema": problem_ref}},
                }
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "quotaplan",
            "version": "1",
            "description": "Ambitious but realistic sales quotas: forecast, plan, compare and "
            "re-plan over HTTP. Errors are application/problem+json. Interactive docs: /docs.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
