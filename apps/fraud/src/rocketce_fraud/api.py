"""Request/response models of the HTTP API (pydantic); invalid input becomes a 422 with the reasons."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from .features import Columns, card_key, city_key, error_mask, is_foreign
from .schema import CHANNELS, ERROR_FLAGS, parse_amount, parse_time

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_BATCH = 10_000
MAX_AMOUNT = 1e7


def _decimal_at_most(limit: str) -> str:
    """A regex (no anchors) for the decimal numbers 0..limit written with len(limit) digits or fewer."""
    shorter = f"[0-9]{{1,{len(limit) - 1}}}"
    same_length = [limit]
    for i, digit in enumerate(limit):
        if digit != "0":
            rest = len(limit) - i - 1
            same_length.append(f"{limit[:i]}[0-{int(digit) - 1}]" + (f"[0-9]{{{rest}}}" if rest else ""))
    return "|".join([shorter, *same_length])


# The exact text forms the code accepts; the OpenAPI spec carries the same patterns (JSON Schema's `pattern`).
TIME_PATTERN = r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$"
AMOUNT_PATTERN = r"^\$?-?[0-9]{1,7}(\.[0-9]{1,2})?$"  # $134.09, $-25.00, 12 (|amount| < 1e7, as numbers)
MERCHANT_PATTERN = f"^(({_decimal_at_most(str(INT64_MAX))})|-({_decimal_at_most(str(-INT64_MIN))}))$"
_ERROR_FLAG = "|".join(ERROR_FLAGS)
ERRORS_PATTERN = f"^(({_ERROR_FLAG})(,({_ERROR_FLAG}))*)?$"
EVENT_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"

def _json_integer(value: object) -> object:
    """JSON Schema's integer: 12 and 12.0 are, true/false and "12" are not (lax pydantic would take all four)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("int_type", "Input should be a valid integer (a JSON number, not a boolean)")
    return value


JsonInt = Annotated[int, BeforeValidator(_json_integer)]


def _valid_calendar_dates(schema: dict) -> None:
    """What _date enforces, in JSON Schema: no 31st in short months, February 29th in leap years only."""
    leap_year = {"anyOf": [{"multipleOf": 400}, {"multipleOf": 4, "not": {"multipleOf": 100}}]}
    schema["allOf"] = [
        {"if": {"properties": {"month": {"enum": [4, 6, 9, 11]}}}, "then": {"properties": {"day": {"maximum": 30}}}},
        {"if": {"properties": {"month": {"const": 2}}}, "then": {"properties": {"day": {"maximum": 29}}}},
        {"if": {"properties": {"month": {"const": 2}, "day": {"const": 29}}},
         "then": {"properties": {"year": leap_year}}},
    ]


class Transaction(BaseModel):
    """One transaction in TabFormer terms, with the field names below (the client maps the CSV header to them)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_valid_calendar_dates)

    user: JsonInt = Field(ge=0, le=2**40)
    card: JsonInt = Field(ge=0, le=15)
    year: JsonInt = Field(ge=1950, le=2100)
    month: JsonInt = Field(ge=1, le=12)
    day: JsonInt = Field(ge=1, le=31)
    time: str = Field(pattern=TIME_PATTERN, description="HH:MM", examples=["06:21"])
    amount: Annotated[str, Field(pattern=AMOUNT_PATTERN)] | Annotated[
        float, Field(gt=-MAX_AMOUNT, lt=MAX_AMOUNT, allow_inf_nan=False, strict=True)] = Field(
        description="`$134.09`, `$-25.00` or a number")
    use_chip: Literal["Swipe Transaction", "Chip Transaction", "Online Transaction"]
    merchant_name: Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX), BeforeValidator(_json_integer)] | Annotated[
        str, Field(pattern=MERCHANT_PATTERN)] = Field(description="signed 64-bit merchant id (a number or its text)")
    merchant_city: str = Field(min_length=1, max_length=100)
    merchant_state: str = Field(default="", max_length=100)
    zip: Annotated[str, Field(max_length=20)] | Annotated[float, Field(allow_inf_nan=False, strict=True)] | None = \
        Field(default=None, description="not used by the model (TabFormer writes it as `91750.0`)")
    mcc: JsonInt = Field(ge=0, le=9999)
    errors: str = Field(default="", pattern=ERRORS_PATTERN, description="comma-joined `Errors?` reasons")
    event_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=EVENT_ID_PATTERN, description=(
        "optional id of the event within its card: /v1/stream answers an id the card already has with the stored "
        "result (a retry, or the same event sent to another instance, is scored and counted once); /v1/score "
        "ignores it"))

    @model_validator(mode="after")
    def _date(self) -> Transaction:
        dt.date(self.year, self.month, self.day)   # ValueError -> 422 for 2019-02-30
        return self

    @property
    def minute(self) -> int:
        days = dt.date(self.year, self.month, self.day).toordinal() - dt.date(1970, 1, 1).toordinal()
        return days * 1440 + parse_time(self.time.strip())


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    transactions: list[Transaction] = Field(min_length=1, max_length=MAX_BATCH)


class Scored(BaseModel):
    score: float
    fraud: bool
    model: Literal["xgboost", "ensemble"]
    card_history: int = Field(description="transactions of the card known before this one")


class StreamResponse(Scored):
    threshold: float
    model_version: str


class ScoreResponse(BaseModel):
    threshold: float
    model_version: str
    results: list[Scored]


class ReadyResponse(BaseModel):
    ready: Literal[True]
    reason: str
    store: str = Field(description="the history store: `sqlite PATH` or `postgresql host=... dbname=...`")
    model_version: str
    threshold: str
    threshold_value: float


class ErrorResponse(BaseModel):
    """Every 4xx/5xx answer: the reason; 422 lists the failing fields, 503 says why the service is not ready."""

    error: str
    details: list[dict] | None = None
    reason: str | None = None


def to_columns(txns: list[Transaction]) -> Columns:
    return Columns(
        card_key=np.array([card_key(t.user, t.card) for t in txns], dtype=np.int64),
        minute=np.array([t.minute for t in txns], dtype=np.int64),
        amount=np.array([parse_amount(t.amount) for t in txns], dtype=np.float64),
        channel=np.array([CHANNELS.index(t.use_chip) for t in txns], dtype=np.int8),
        merchant=np.array([int(t.merchant_name) for t in txns], dtype=np.int64),
        mcc=np.array([t.mcc for t in txns], dtype=np.int32),
        city=[city_key(t.merchant_city, t.merchant_state) for t in txns],
        foreign=np.array([is_foreign(t.merchant_city, t.merchant_state) for t in txns], dtype=bool),
        errors=np.array([error_mask(t.errors) for t in txns], dtype=np.uint8),
    )


def openapi(version: str) -> dict:
    """The OpenAPI 3.1 document, generated from the models; every status a scoring operation answers is listed.

    405 (another method on a known path, with `Allow`) and 404 (an unknown path) are not per-operation answers.
    """
    schemas = {}
    for model in (Transaction, ScoreRequest, StreamResponse, ScoreResponse, ReadyResponse, ErrorResponse):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema

    def answer(description: str, name: str) -> dict:
        return {"description": description,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}

    def json_object(description: str) -> dict:
        return {"description": description, "content": {"application/json": {"schema": {"type": "object"}}}}

    def scoring(name: str, request: str, summary: str, conflict: bool) -> dict:
        responses = {
            "200": answer("scored, with the model version", name),
            "400": answer("body is not JSON", "ErrorResponse"),
            "413": answer("body larger than 16 MiB", "ErrorResponse"),
            "422": answer("validation failed, with the failing fields", "ErrorResponse"),
            "503": answer("model not ready or history store unavailable, with the reason", "ErrorResponse"),
        }
        if conflict:
            responses["409"] = answer("event older than the newest stored event of its card", "ErrorResponse")
        body = {"required": True,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{request}"}}}}
        return {"post": {"summary": summary, "requestBody": body, "responses": dict(sorted(responses.items()))}}

    return {
        "openapi": "3.1.0",
        "info": {"title": "rocketce-fraud", "version": version},
        "paths": {
            "/v1/stream": scoring("StreamResponse", "Transaction",
                                  "score one transaction and add it to the card's history", conflict=True),
            "/v1/score": scoring("ScoreResponse", "ScoreRequest",
                                 "score a batch using stored history (history is not changed)", conflict=False),
            "/livez": {"get": {"responses": {"200": json_object("alive")}}},
            "/readyz": {"get": {"responses": {"200": answer("model verified, history store open", "ReadyResponse"),
                                              "503": json_object("not ready, with the reason")}}},
            "/metrics": {"get": {"responses": {"200": {"description": "Prometheus text exposition format",
                                                       "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
            "/openapi.json": {"get": {"responses": {"200": json_object("this document")}}},
        },
        "components": {"schemas": schemas},
    }
