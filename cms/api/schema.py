"""OpenAPI schema hooks: the schema documents /api/v1/ only (not Wagtail's admin API), the error
answers every operation can give, and the events body (one event, or an array of 1 to 100)."""

from __future__ import annotations

API_PREFIX = "/api/v1/"
ERROR_COMPONENT = "Error"
ERRORS = {
    "400": "Invalid input: the body names each bad field.",
    "401": "A visitor, preview or API token is forged or expired, or a login is needed.",
    "403": "Not allowed (staff only, CSRF token missing for a session, members-only page).",
    "404": "Not found.",
    "405": "Method not allowed.",
    "406": "Not acceptable: the API answers JSON.",
    "413": "The request body is larger than the limit (DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB).",
    "414": "URI too long: the request line (path and query string) is over 4,094 bytes; "
    "the server answers before the API sees the request.",
    "415": "Unsupported media type: send application/json.",
    "429": "Too many requests: see Retry-After.",
}
MAX_EVENTS = 100


def only_api_v1(endpoints: list[tuple], **kwargs) -> list[tuple]:
    """Preprocessing hook: keep the endpoints under /api/v1/."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith(API_PREFIX)]


def _error_schema() -> dict:
    return {
        "type": "object",
        "description": '{"detail": "..."} or {"<field>": ["message", ...], ...}',
        "properties": {"detail": {"type": "string"}},
        "additionalProperties": True,
    }


def _events_body(result: dict) -> None:
    """One event object, or an array of 1 to 100 of them."""
    operation = result["paths"].get(API_PREFIX + "events/", {}).get("post")
    if operation is None:
        return
    content = operation["requestBody"]["content"]["application/json"]
    array = content["schema"]
    one = array["items"]
    content["schema"] = {"oneOf": [one, {**array, "minItems": 1, "maxItems": MAX_EVENTS}]}


def add_errors_and_event_batches(result: dict, **kwargs) -> dict:
    """Postprocessing hook: document the error answers and the events body."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas[ERROR_COMPONENT] = _error_schema()
    ref = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for operations in result["paths"].values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, description in ERRORS.items():
                responses.setdefault(
                    code,
                    {"description": description, "content": {"application/json": {"schema": ref}}},
                )
    _events_body(result)
    return result
