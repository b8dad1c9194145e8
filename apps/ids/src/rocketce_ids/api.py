"""Request/response models of the scoring API (pydantic) and their conversion to arrays."""

from __future__ import annotations

import sys
from itertools import chain
from operator import itemgetter
from typing import Annotated, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    create_model,
    model_validator,
)

from .data import Records
from .schema import CATEGORICAL_FEATURES, CATEGORICAL_INDEX, FEATURE_NAMES, NUMERIC_INDEX

MAX_RECORDS = 50_000

# All 38 numeric NSL-KDD features are counts, byte totals, flags or rates: finite and never negative. strict: a
# JSON boolean is not a number (lax pydantic would read true as 1). The explicit maximum is the largest float, so
# the spec states the bound the code enforces: a bigger JSON integer cannot become a finite float.
Number = Annotated[float, Field(ge=0, le=sys.float_info.max, allow_inf_nan=False, strict=True)]
Rate = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False, strict=True)]  # the *_rate features are fractions
Category = Annotated[str, Field(min_length=1, max_length=64, strict=True)]


def _feature_type(name: str) -> object:
    if name in CATEGORICAL_FEATURES:
        return Category
    return Rate if name.endswith("_rate") else Number


# A record as a list: the tuple types every position, so ["tcp", 0, ...] fails at the right index.
RecordList = tuple[tuple(_feature_type(name) for name in FEATURE_NAMES)]  # type: ignore[misc]
RecordObject = create_model(
    "RecordObject",
    __config__=ConfigDict(extra="forbid"),
    **{name: (_feature_type(name), ...) for name in FEATURE_NAMES},
)


# Tried in order, entirely in pydantic-core. (A callable discriminator gives nicer error locations but calls Python
# once per record: it made a 22,544-record batch ~40 % slower. describe_errors() tidies the locations instead.)
Record = Annotated[RecordList | RecordObject, Field(union_mode="left_to_right")]  # type: ignore[valid-type]
_BRANCH_NAMES = {"RecordObject": "object"}
# Errors that only say "this record is not of the other form"; noise when the record failed its own form.
_WRONG_FORM = {"tuple_type", "model_type", "model_attributes_type", "dict_type"}


def _one_of_record_or_records(schema: dict) -> None:
    """The JSON schema says what _exactly_one enforces; the None defaults only mean "absent", never null."""
    for prop in schema["properties"].values():
        prop.pop("default", None)
    schema["oneOf"] = [{"required": ["record"]}, {"required": ["records"]}]


class PredictRequest(BaseModel):
    """One record (`record`) or a batch (`records`); each record is 41 values in NSL-KDD order or an object."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_one_of_record_or_records)
    record: Record = None  # type: ignore[valid-type]
    records: Annotated[list[Record], Field(min_length=1, max_length=MAX_RECORDS)] = None  # type: ignore[valid-type]

    @model_validator(mode="before")
    @classmethod
    def _exactly_one(cls, data: object) -> object:
        if isinstance(data, dict) and ("record" in data) == ("records" in data):
            raise ValueError("give exactly one of 'record' (one record) or 'records' (a batch)")
        return data


class Verdict(BaseModel):
    reconstruction_error: float
    mlp_attack_probability: float
    autoencoder_attack: bool
    mlp_attack: bool
    attack: bool


class PredictResponse(BaseModel):
    model_version: str
    autoencoder_threshold: float
    mlp_threshold: float
    verdict_rule: str
    count: int
    results: list[Verdict]


REQUEST_ADAPTER = TypeAdapter(PredictRequest)
_numeric_values = itemgetter(*NUMERIC_INDEX)
_categorical_values = itemgetter(*CATEGORICAL_INDEX)


def parse_request(body: bytes) -> Records:
    """Validate a JSON body and return its records as arrays; raises pydantic ValidationError."""
    request = REQUEST_ADAPTER.validate_json(body)
    items = [request.record] if request.records is None else request.records
    rows = [item if isinstance(item, tuple) else tuple(getattr(item, n) for n in FEATURE_NAMES) for item in items]
    # itemgetter + fromiter: the fastest way measured from validated tuples to arrays (2x np.array(dtype=object))
    numeric = np.fromiter(chain.from_iterable(map(_numeric_values, rows)), dtype=np.float64,
                          count=len(rows) * len(NUMERIC_INDEX)).reshape(len(rows), len(NUMERIC_INDEX))
    categorical = np.array([_categorical_values(row) for row in rows], dtype=str)
    return Records(numeric, categorical)


def _branch(part: object) -> str | None:
    if isinstance(part, str) and part.startswith("tuple["):
        return "list"
    return _BRANCH_NAMES.get(part) if isinstance(part, str) else None


def describe_errors(error: ValidationError, limit: int = 10) -> list[dict]:
    """Short, JSON-safe descriptions of what is wrong (location, message, feature), capped to keep answers small."""
    items = []
    for item in error.errors(include_url=False, include_context=False, include_input=False):
        loc = list(item["loc"])
        at = next((i for i, part in enumerate(loc) if _branch(part)), None)
        if at is not None:
            loc[at] = _branch(loc[at])
        items.append((loc, at, item))
    # A record that failed as a list also "failed" as an object (and vice versa): drop the wrong-form complaint
    # when the same record has a real error in the other form.
    real = {tuple(loc[:at]) for loc, at, item in items if at is not None and item["type"] not in _WRONG_FORM}
    described = []
    for loc, at, item in items:
        if at is not None and item["type"] in _WRONG_FORM and len(loc) == at + 1 and tuple(loc[:at]) in real:
            continue
        entry = {"loc": [str(p) for p in loc], "msg": item["msg"], "type": item["type"]}
        # A list record's position means nothing to a person; name the feature.
        if at is not None and loc[at] == "list" and len(loc) > at + 1 and isinstance(loc[at + 1], int):
            if 0 <= loc[at + 1] < len(FEATURE_NAMES):
                entry["feature"] = FEATURE_NAMES[loc[at + 1]]
        described.append(entry)
    return described[:limit]


class ReadyResponse(BaseModel):
    status: Literal["ready"]
    model_version: str
    checksums: Literal["verified"]


class ErrorResponse(BaseModel):
    """Every 4xx/5xx answer: the reason, and for 422 where the records are wrong."""

    error: str
    details: list[dict] | None = None
    max_records: int | None = None
    model_dir: str | None = None


def openapi_document(version: str) -> dict:
    """An OpenAPI 3.1 description generated from the pydantic models; every status the service answers is listed.

    405 (another method on a known path, with `Allow`) and 404 (an unknown path) are not per-operation answers.
    """
    models = (PredictRequest, PredictResponse, ReadyResponse, ErrorResponse)
    components: dict = {}
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components |= schema.pop("$defs", {})
        components[model.__name__] = schema

    def answer(description: str, model: str) -> dict:
        return {"description": description,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model}"}}}}

    def error(description: str) -> dict:
        return answer(description, "ErrorResponse")

    def json_object(description: str) -> dict:
        return {"description": description, "content": {"application/json": {"schema": {"type": "object"}}}}

    return {
        "openapi": "3.1.0",
        "info": {"title": "rocketce-ids", "version": version,
                 "description": f"NSL-KDD intrusion scoring; feature order: {', '.join(FEATURE_NAMES)}"},
        "paths": {
            "/v1/predict": {"post": {
                "summary": "Score one record or a batch",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/PredictRequest"}}}},
                "responses": {
                    "200": answer("verdicts and the model version", "PredictResponse"),
                    "400": error("empty body or not valid JSON"),
                    "413": error("body larger than the limit"),
                    "415": error("Content-Type is not application/json"),
                    "422": error("records that do not match the schema, with the location and feature"),
                    "503": error("model not loaded or its checksums failed"),
                },
            }},
            "/livez": {"get": {"summary": "The process answers", "responses": {"200": json_object("alive")}}},
            "/readyz": {"get": {"summary": "Model loaded and checksums verified", "responses": {
                "200": answer("ready, with the model version", "ReadyResponse"),
                "503": error("not ready, with the reason")}}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {
                "description": "text exposition format", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
            "/openapi.json": {"get": {"summary": "This document", "responses": {"200": json_object("OpenAPI 3.1")}}},
        },
        "components": {"schemas": components},
    }
