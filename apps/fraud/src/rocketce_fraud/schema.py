"""The TabFormer card_transaction.v1.csv schema and value formats (see dataset_facts.json)."""

from __future__ import annotations

HEADER = [
    "User", "Card", "Year", "Month", "Day", "Time", "Amount", "Use Chip", "Merchant Name",
    "Merchant City", "Merchant State", "Zip", "MCC", "Errors?", "Is Fraud?",
]

SWIPE, CHIP, ONLINE = "Swipe Transaction", "Chip Transaction", "Online Transaction"
CHANNELS = (SWIPE, CHIP, ONLINE)

# The 23 `Errors?` values of the full file; combined values are comma-joined (and CSV-quoted).
ERROR_VALUES = (
    "Bad CVV", "Bad CVV,Insufficient Balance", "Bad CVV,Technical Glitch", "Bad Card Number",
    "Bad Card Number,Bad CVV", "Bad Card Number,Bad Expiration", "Bad Card Number,Bad Expiration,Insufficient Balance",
    "Bad Card Number,Bad Expiration,Technical Glitch", "Bad Card Number,Insufficient Balance",
    "Bad Card Number,Technical Glitch", "Bad Expiration", "Bad Expiration,Bad CVV",
    "Bad Expiration,Insufficient Balance", "Bad Expiration,Technical Glitch", "Bad PIN", "Bad PIN,Insufficient Balance",
    "Bad PIN,Technical Glitch", "Bad Zipcode", "Bad Zipcode,Insufficient Balance", "Bad Zipcode,Technical Glitch",
    "Insufficient Balance", "Insufficient Balance,Technical Glitch", "Technical Glitch",
)
ERROR_FLAGS = (
    "Bad CVV", "Bad Card Number", "Bad Expiration", "Bad PIN", "Bad Zipcode", "Insufficient Balance",
    "Technical Glitch",
)

US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK "
    "OR PA RI SC SD TN TX UT VT VA WA WV WI WY AA AE AP".split()
)


def format_amount(value: float) -> str:
    """`$134.09` / `$-25.00` as in the real file."""
    return f"${value:.2f}"


def parse_amount(text: str | float | int) -> float:
    """Accept `$134.09`, `$-25.00`, `134.09` or a number."""
    if isinstance(text, int | float):
        return float(text)
    cleaned = text.strip().replace("$", "").replace(",", "")
    return float(cleaned)


def parse_time(text: str) -> int:
    """`HH:MM` -> minutes after midnight; ValueError on anything else."""
    hours, sep, minutes = text.partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(f"time must be HH:MM, got {text!r}")
    h, m = int(hours), int(minutes)
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise ValueError(f"time out of range: {text!r}")
    return h * 60 + m


def format_zip(zip_code: int | None) -> str:
    """Zip as float text (`91750.0`, leading zeros lost) or empty."""
    return "" if zip_code is None else f"{int(zip_code)}.0"


def is_foreign(state: str, city: str) -> bool:
    """A non-online merchant whose state column holds a country name."""
    return bool(state) and state not in US_STATES and city != "ONLINE"
