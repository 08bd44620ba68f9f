"""A refused site name says what is wrong with it (the characters a name cannot hold,
named; a wrong first character; its length) and gives a valid form of it: `site add
"Zürich Güterbahnhof"` said only "use 1-64 letters, digits, '_', '-' or '.'", leaving
the analyst to find that the space was the fault."""

from __future__ import annotations

import pytest

from railwatch.cli.main import main
from railwatch.errors import InputError
from railwatch.limits import SITE_NAME_MAX, check_site_name
from railwatch.sites import validate_name

RULE = "use 1-64 letters, digits, '_', '-' or '.', starting with a letter, digit or '_'"


def refusal(name: str) -> str:
    with pytest.raises(InputError) as info:
        validate_name(name)
    return str(info.value)


@pytest.mark.parametrize(
    ("name", "fault", "valid"),
    [
        (
            "Zürich Güterbahnhof",
            "a site name cannot hold ' ' (a space)",
            "e.g. 'Zürich-Güterbahnhof'",
        ),
        ("a/b", "a site name cannot hold '/'", "e.g. 'a-b'"),
        ("yard 2 / east", "a site name cannot hold ' ' (a space) and '/'", "e.g. 'yard-2-east'"),
        ("x\u00a0y", "a site name cannot hold U+00A0 (no-break space)", "e.g. 'x-y'"),
        ("yard2\n", "a site name cannot hold a line break", "e.g. 'yard2'"),
        ("-yard", "it starts with '-'", "e.g. 'yard'"),
        ("a" * 65, "it has 65 characters", f"e.g. {'a' * SITE_NAME_MAX!r}"),
        ("", "it is empty", "for example tumangang-yard"),
        ("///", "a site name cannot hold '/'", "for example tumangang-yard"),
    ],
)
def test_the_fault_is_named_and_a_valid_form_given(name: str, fault: str, valid: str) -> None:
    msg = refusal(name)
    assert msg == f"invalid site name {name!r}: {fault}: {RULE}, {valid}"
    suggested = valid.removeprefix("e.g. ").strip("'")
    if valid.startswith("e.g."):
        assert check_site_name(suggested) == suggested  # the form given is accepted


def test_many_wrong_characters_are_counted_not_all_listed() -> None:
    msg = refusal("a b/c:d*e?f<g")
    assert "cannot hold ' ' (a space), '/', ':', '*', '?' and 1 more:" in msg
    assert msg.endswith("e.g. 'a-b-c-d-e-f-g'")


def test_a_huge_name_is_not_echoed_whole() -> None:
    msg = refusal("n" * 100_000)
    assert msg.startswith(f"invalid site name {'n' * 64!r}... (100000 characters): {RULE}")
    assert len(msg) < 300


def test_site_add_says_it(capsys: pytest.CaptureFixture[str], tmp_db_url: str) -> None:
    bbox = "130.6072,42.4208,130.6090,42.4220"
    assert main(["--db", tmp_db_url, "site", "add", "Zürich Güterbahnhof", "--bbox", bbox]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "invalid site name 'Zürich Güterbahnhof': a site name cannot hold ' ' (a space)" in err
    assert err.endswith("e.g. 'Zürich-Güterbahnhof'")
    assert main(["--db", tmp_db_url, "site", "add", "Zürich-Güterbahnhof", "--bbox", bbox]) == 0
