"""A site name's first character: the rule and the message agree (session 30 follow-up).
``railwatch.limits`` has always accepted a name starting with '_' (its pattern starts
with ``\\w``), so sites named so may exist; the message said a name starts "with a letter
or digit". The message now names '_' too, and '-' and '.' stay refused first."""

from __future__ import annotations

import pytest

from railwatch.errors import InputError
from railwatch.limits import check_site_name

#: A first character, and whether a site name may start with it.
FIRST = (("y", True), ("7", True), ("두", True), ("_", True), ("-", False), (".", False))


def _refusal(name: str) -> str:
    with pytest.raises(InputError) as err:
        check_site_name(name)
    return str(err.value)


@pytest.mark.parametrize(("first", "allowed"), FIRST)
def test_the_first_characters_accepted_are_those_the_message_names(
    first: str, allowed: bool
) -> None:
    name = f"{first}yard"
    # what the message says a name may start with
    said = first.isalpha() or first.isdigit() or first == "_"
    assert said == allowed
    if allowed:
        assert check_site_name(name) == name
    else:
        msg = _refusal(name)
        assert f"it starts with {first!r}" in msg
        assert "starting with a letter, digit or '_'," in msg


def test_a_name_starting_with_an_underscore_is_kept() -> None:
    """Existing sites named '_...' (accepted since the first release) stay valid."""
    assert check_site_name("_old_yard") == "_old_yard"
    assert check_site_name("_") == "_"
