"""The human-readable API reference (``docs/api.md``), rendered from the OpenAPI document.

``python -m api.reference > docs/api.md`` regenerates it; a test fails when it is out of date.
"""

from __future__ import annotations

import json

from .app import create_app
from .openapi import document


def _name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _kind(spec: dict) -> str:
    """A property's type in words: ``string``, ``PlanLimits``, ``array of RosterRow``..."""
    if "$ref" in spec:
        return _name(spec["$ref"])
    if spec.get("type") == "array" and isinstance(spec.get("items"), dict) and spec["items"]:
        return f"array of {_kind(spec['items'])}"
    if spec.get("type"):
        return spec["type"]
    return ", ".join(_kind(s) for s in spec.get("anyOf", []) if s)


def _refs(spec) -> list[str]:
    """The schemas a property's spec names, at any depth (``$ref``, ``anyOf``, ``items``...)."""
    if isinstance(spec, dict):
        own = [_name(spec["$ref"])] if "$ref" in spec else []
        return own + [r for v in spec.values() for r in _refs(v)]
    if isinstance(spec, list):
        return [r for v in spec for r in _refs(v)]
    return []


def _schema_fields(name: str, components: dict) -> list[str]:
    schema = components.get(name, {})
    required = set(schema.get("required", []))
    out = []
    for field, spec in schema.get("properties", {}).items():
        kind = _kind(spec)
        desc = spec.get("description", "")
        default = f" Default: `{json.dumps(spec['default'])}`." if "default" in spec else ""
        star = " (required)" if field in required else ""
        out.append(f"| `{field}`{star} | {kind or 'any'} | {desc}{default} |")
    return out


def _nested(name: str, components: dict) -> list[str]:
    """Tables for every schema the body's fields name (its limits, its rows...), each once."""
    seen, queue, lines = {name}, list(_refs(components.get(name, {}))), []
    while queue:
        ref = queue.pop(0)
        if ref in seen or not components.get(ref, {}).get("properties"):
            continue
        seen.add(ref)
        lines += [f"`{ref}`:", "", "| field | type | meaning |", "| --- | --- | --- |"]
        lines += _schema_fields(ref, components) + [""]
        queue += _refs(components[ref])
    return lines


def render() -> str:
    doc = document(create_app({"DATABASE_URL": "sqlite://"}))
    comps = doc["components"]["schemas"]
    lines = [
        "# quotaplan HTTP API reference",
        "",
        "Generated from `/openapi.json` by `python -m api.reference`; do not edit by hand.",
        "Run the server with `quotaplan serve`. Every error is `application/problem+json` with "
        "`title`, `status` and a `detail` that names the field at fault and the fix.",
        "",
    ]
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            lines += [f"## {method.upper()} {path}", "", op["summary"], ""]
            if op["description"]:
                lines += [op["description"], ""]
            body = op.get("requestBody", {}).get("content", {})
            if "application/json" in body:
                name = body["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
                lines += [
                    f"Body (JSON): `{name}`",
                    "",
                    "| field | type | meaning |",
                    "| --- | --- | --- |",
                ]
                lines += _schema_fields(name, comps) + [""] + _nested(name, comps)
            if "multipart/form-data" in body:
                parts = ", ".join(
                    f"`{k}`" for k in body["multipart/form-data"]["schema"]["properties"]
                )
                lines += [f"Or multipart/form-data with parts {parts}.", ""]
            codes = ", ".join(
                f"{code} ({resp['description']})" for code, resp in op["responses"].items()
            )
            lines += [f"Responses: {codes}", ""]
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")
