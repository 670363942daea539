"""Twilio's OpenAPI spec, made ready for Prism: the contract tests build it from the npm package.

Twilio publishes its spec (twilio-oai); `make prism` installs it with Prism, inside the npm package
`@twilio-alpha/mcp` (pinned in package.json). Prism cannot use it as published, so `prism_ready`
returns a copy with four edits, each only as wide as the problem:

1. Repeated form keys: an array in a form body (`MediaUrl=a&MediaUrl=b`, as the SDK sends it) is
   declared `style: form, explode: true`, otherwise Prism reads it as one string; and a `format`
   Twilio marks `x-twilio.ignoreFormat` is dropped, as Twilio itself ignores it.
2. Paging URIs: `uri` and `first/next/previous_page_uri` are relative (`/2010-04-01/...`), but are
   declared `format: uri` (absolute), so every real list answer would break the contract.
3. Endless paging: the Messages list example has a next page, so a mocked list never ends; the
   examples of the Messages endpoints are made last pages.
4. Twilio's error answers: the Messages endpoints declare no 4xx/5xx; they get Twilio's error
   body, with examples of the errors the product handles, selectable in `prism mock` with
   `Prefer: code=400, example=e21211`.

`python -m tests.twilio_bridge.prism_spec` writes the spec to `var/twilio/` for a Prism by hand.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "@twilio-alpha/mcp"
SOURCE = ROOT / "node_modules" / PACKAGE / "twilio-oai" / "spec" / "json" / "twilio_api_v2010.json"
TARGET = ROOT / "var" / "twilio" / "twilio_api_v2010.prism.json"

MESSAGES = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
MESSAGE = "/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json"
PAGING_URIS = frozenset({"uri", "first_page_uri", "next_page_uri", "previous_page_uri"})
FORM = "application/x-www-form-urlencoded"
METHODS = ("get", "put", "post", "delete", "patch")

_MISSING_RESOURCE = (
    "The requested resource /2010-04-01/Accounts/AC00000000000000000000000000000000"
    "/Messages/SM00000000000000000000000000000000.json was not found"
)
# HTTP status -> Twilio error code -> message: the answers the gateway tells apart.
TWILIO_ERRORS: dict[str, dict[int, str]] = {
    "400": {
        21604: "A 'To' phone number is required.",
        21211: "Invalid 'To' Phone Number: +1555",
        21610: "Attempt to send to unsubscribed recipient",
        21408: (
            "Permission to send an SMS has not been enabled for the region indicated by the "
            "'To' number: +999"
        ),
        21602: "Message body is required.",
    },
    "401": {20003: "Authenticate"},
    "404": {20404: _MISSING_RESOURCE},
    "429": {20429: "Too Many Requests"},
    "500": {20500: "Internal Server Error"},
}

Spec = dict[str, Any]


class SpecMissing(RuntimeError):
    """Twilio's spec is not installed (node_modules is missing or outdated)."""


def prism_ready(spec: Spec) -> Spec:
    """A copy of Twilio's API v2010 spec that Prism validates the SDK's traffic against."""
    spec = copy.deepcopy(spec)
    _explode_form_arrays(spec)
    _drop_ignored_formats(spec)
    _relative_paging_uris(spec)
    _messages_last_page(spec)
    _messages_twilio_errors(spec)
    return spec


def build(source: Path = SOURCE, target: Path = TARGET) -> Path:
    """Read Twilio's spec from the npm package and write the Prism-ready copy to `target`.

    :raises SpecMissing: the npm package is not installed.
    """
    if not source.is_file():
        raise SpecMissing(
            f"Twilio's OpenAPI spec is missing at {source.relative_to(ROOT)}: run `make prism` "
            f"(it runs `npm ci`, which installs {PACKAGE} with Prism)"
        )
    spec = prism_ready(json.loads(source.read_text(encoding="utf-8")))
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written aside, then renamed: two test runs at once never read half a file.
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(spec, out, separators=(",", ":"))
    os.chmod(tmp, 0o644)
    Path(tmp).replace(target)
    return target


def _operations(spec: Spec) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _dicts(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _dicts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _dicts(value)


def _explode_form_arrays(spec: Spec) -> None:
    for _, _, operation in _operations(spec):
        form = operation.get("requestBody", {}).get("content", {}).get(FORM)
        if not form:
            continue
        for name, schema in form.get("schema", {}).get("properties", {}).items():
            if schema.get("type") == "array":
                form.setdefault("encoding", {})[name] = {"style": "form", "explode": True}


def _drop_ignored_formats(spec: Spec) -> None:
    for node in _dicts(spec):
        if node.get("x-twilio", {}).get("ignoreFormat") and isinstance(node.get("format"), str):
            del node["format"]


def _relative_paging_uris(spec: Spec) -> None:
    for node in _dicts(spec):
        properties = node.get("properties")
        if node.get("type") != "object" or not isinstance(properties, dict):
            continue
        for name in PAGING_URIS & properties.keys():
            if properties[name].get("format") == "uri":
                del properties[name]["format"]


def _messages_last_page(spec: Spec) -> None:
    listed = spec["paths"][MESSAGES]["get"]["responses"]["200"]["content"]["application/json"]
    for example in listed.get("examples", {}).values():
        if isinstance(example.get("value"), dict) and "next_page_uri" in example["value"]:
            example["value"]["next_page_uri"] = None


def _messages_twilio_errors(spec: Spec) -> None:
    body = {
        "type": "object",
        "required": ["code", "message", "status"],
        "properties": {
            "code": {"type": "integer"},
            "message": {"type": "string"},
            "more_info": {"type": "string"},
            "status": {"type": "integer"},
        },
    }
    for path in (MESSAGES, MESSAGE):
        for method in METHODS:
            operation = spec["paths"][path].get(method)
            if operation is None:
                continue
            for status, errors in TWILIO_ERRORS.items():
                examples = {
                    f"e{code}": {
                        "value": {
                            "code": code,
                            "message": message,
                            "more_info": f"https://www.twilio.com/docs/errors/{code}",
                            "status": int(status),
                        }
                    }
                    for code, message in errors.items()
                }
                operation["responses"].setdefault(
                    status,
                    {
                        "description": f"Twilio error ({status})",
                        "content": {
                            "application/json": {
                                "schema": copy.deepcopy(body),
                                "examples": examples,
                            }
                        },
                    },
                )


if __name__ == "__main__":
    print(build())
