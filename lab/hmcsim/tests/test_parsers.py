"""Parsers driven by YAML cases: configuration records, the restricted shell's parser, and the text filters."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hmcsim import filters, formats
from hmcsim.shell import Refused, ShellSyntaxError, parse

CASES = Path(__file__).parent / "cases"


def load(name: str) -> list[dict]:
    return yaml.safe_load((CASES / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", load("records.yml"), ids=lambda c: c["id"])
def test_parse_record(case):
    if "error" in case:
        with pytest.raises(formats.RecordError, match=case["error"]):
            formats.parse_record(case["input"])
        return
    items = formats.parse_record(case["input"])
    assert [[i.name, i.operator, i.value] for i in items] == case["items"]


@pytest.mark.parametrize("case", load("shell.yml"), ids=lambda c: c["id"])
def test_shell_parse(case):
    if "error" in case:
        with pytest.raises((ShellSyntaxError, Refused)) as raised:
            parse(case["line"])
        kind = "substitution" if isinstance(raised.value, Refused) else "syntax"
        assert kind == case["error"]
        return
    pipelines = parse(case["line"])
    resolved = [[command.argv({}) for command in pipeline.commands] for pipeline in pipelines]
    assert resolved == case["pipelines"]


@pytest.mark.parametrize("case", load("filters.yml"), ids=lambda c: c["id"])
def test_filters(case):
    stdout, _stderr, status = filters.FILTERS[case["argv"][0]](case["argv"], case["stdin"])
    assert (stdout, status) == (case["stdout"], case["status"])


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"name": "a", "state": "Running"}, "name=a,state=Running"),
        ({"io_slots": "21010002/none/1,21050003/none/1"}, '"io_slots=21010002/none/1,21050003/none/1"'),
        ({"virtual_eth_adapters": '"2/1/1/3,4,5/0/1"'}, '"virtual_eth_adapters=""2/1/1/3,4,5/0/1"""'),
        ({"rmc_ipaddr": ""}, "rmc_ipaddr="),
        ({"name": 'say "hi"'}, '"name=say ""hi"""'),
    ],
)
def test_render_pairs_quotes_whole_pair(row, expected):
    assert formats.render_pairs(row) == expected


@pytest.mark.parametrize(
    ("spec", "names", "delimiter"),
    [
        ("name,lpar_id,state", ("name", "lpar_id", "state"), ","),
        ("name:type_model:serial_num", ("name", "type_model", "serial_num"), ":"),
        ("name state", ("name", "state"), " "),
        ("5250_application_capable", ("5250_application_capable",), ","),
    ],
)
def test_field_selection_delimiter(spec, names, delimiter):
    selection = formats.parse_field_selection(spec)
    assert (selection.names, selection.delimiter) == (names, delimiter)


def test_render_values_quotes_values_containing_the_delimiter():
    row = {"name": "lpar a", "state": "Not Activated"}
    assert formats.render_values(row, ["name", "state"], " ", "null") == '"lpar a" "Not Activated"'
    assert formats.render_values(row, ["name", "state"], ",", "null") == "lpar a,Not Activated"
