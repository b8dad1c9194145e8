"""Request/response models of the HTTP API (pydantic); invalid input becomes a 422 with the reasons."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .features import Columns, card_key, city_key, error_mask, is_foreign
from .schema import CHANNELS, parse_amount, parse_time

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_BATCH = 10_000


class Transaction(BaseModel):
    """One transaction in TabFormer terms; field names or the CSV header names are both accepted."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid", str_strip_whitespace=True)

    user: int = Field(ge=0, le=2**40, alias="User")
    card: int = Field(ge=0, le=15, alias="Card")
    year: int = Field(ge=1950, le=2100, alias="Year")
    month: int = Field(ge=1, le=12, alias="Month")
    day: int = Field(ge=1, le=31, alias="Day")
    time: str = Field(alias="Time", description="HH:MM", examples=["06:21"])
    amount: str | float = Field(alias="Amount", description="`$134.09`, `$-25.00` or a number")
    use_chip: Literal["Swipe Transaction", "Chip Transaction", "Online Transaction"] = Field(alias="Use Chip")
    merchant_name: int | str = Field(alias="Merchant Name", description="signed 64-bit merchant id")
    merchant_city: str = Field(min_length=1, max_length=100, alias="Merchant City")
    merchant_state: str = Field(default="", max_length=100, alias="Merchant State")
    zip: str | float | None = Field(default=None, alias="Zip")
    mcc: int = Field(ge=0, le=9999, alias="MCC")
    errors: str = Field(default="", max_length=200, alias="Errors?")

    @field_validator("time")
    @classmethod
    def _time(cls, value: str) -> str:
        parse_time(value)
        return value

    @field_validator("amount")
    @classmethod
    def _amount(cls, value: str | float) -> str | float:
        try:
            amount = parse_amount(value)
        except ValueError as exc:
            raise ValueError(f"amount must look like $134.09, got {value!r}") from exc
        if not np.isfinite(amount) or abs(amount) > 1e7:
            raise ValueError("amount out of range")
        return value

    @field_validator("merchant_name")
    @classmethod
    def _merchant(cls, value: int | str) -> int:
        try:
            merchant = int(value)
        except ValueError as exc:
            raise ValueError("merchant_name must be an integer id") from exc
        if not INT64_MIN <= merchant <= INT64_MAX:
            raise ValueError("merchant_name must fit in a signed 64-bit integer")
        return merchant

    @field_validator("errors")
    @classmethod
    def _errors(cls, value: str) -> str:
        error_mask(value)
        return value

    @model_validator(mode="after")
    def _date(self) -> Transaction:
        dt.date(self.year, self.month, self.day)   # ValueError -> 422 for 2019-02-30
        return self

    @property
    def minute(self) -> int:
        days = dt.date(self.year, self.month, self.day).toordinal() - dt.date(1970, 1, 1).toordinal()
        return days * 1440 + parse_time(self.time)


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


class ScoreResponse(BaseModel):
    threshold: float
    results: list[Scored]


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


def openapi() -> dict:
    schemas = {}
    for model in (Transaction, ScoreRequest, StreamResponse, ScoreResponse):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}", by_alias=False)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema

    def body(name):
        return {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}

    def ok(name):
        return {"200": {"description": "scored", "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{name}"}}}},
            "400": {"description": "body is not JSON"}, "409": {"description": "event older than the card's history"},
            "422": {"description": "validation failed"}, "503": {"description": "model not ready"}}

    return {
        "openapi": "3.1.0",
        "info": {"title": "rocketce-fraud", "version": "1"},
        "paths": {
            "/v1/stream": {"post": {"summary": "score one transaction and add it to the card's history",
                                    "requestBody": body("Transaction"), "responses": ok("StreamResponse")}},
            "/v1/score": {"post": {"summary": "score a batch using stored history (history is not changed)",
                                   "requestBody": body("ScoreRequest"), "responses": ok("ScoreResponse")}},
            "/livez": {"get": {"responses": {"200": {"description": "alive"}}}},
            "/readyz": {"get": {"responses": {"200": {"description": "ready"}, "503": {"description": "not ready"}}}},
            "/metrics": {"get": {"responses": {"200": {"description": "Prometheus metrics"}}}},
        },
        "components": {"schemas": schemas},
    }
