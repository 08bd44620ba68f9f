"""``railwatch analyze --counts FILE --event DATE=LABEL`` (session 28): the event was
taken as written, so ``--event 1800-01-01=x`` (a mistyped year), an event dated decades
ahead (never named by any alert) and a label holding a line break (which split the
one-line explanations that name it) were all accepted, though `railwatch event add`
refuses each. They are now refused with the same words, naming the option."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from railwatch.cli.analyze import parse_event_option
from railwatch.cli.main import main
from railwatch.errors import InputError


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("1800-01-01=x", "--event '1800-01-01=x': event date 1800-01-01 is before 1900"),
        ("2099-01-01=x", "--event '2099-01-01=x': event date 2099-01-01 is more than a year after"),
        ("2023-09-13=a\nb", "an event label 'a\\nb' holds a line break at character 2"),
        ("2023-09-13=" + "x" * 201, "an event label has at most 200 characters, this one 201"),
    ],
)
def test_event_option_is_checked_as_event_add_checks(text: str, says: str) -> None:
    with pytest.raises(InputError) as err:
        parse_event_option(text)
    assert says in str(err.value)


def test_event_option_label_is_stripped() -> None:
    ev = parse_event_option("2023-09-13= Kim–Putin summit ")
    assert (ev.when, ev.label) == (date(2023, 9, 13), "Kim–Putin summit")


def test_analyze_counts_refuses_a_bad_event(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.csv"
    path.write_text("date,count\n2023-10-05,3\n")
    assert main(["analyze", "--counts", str(path), "--event", "1800-01-01=x"]) == 2
    err = capsys.readouterr().err
    assert "error: --event '1800-01-01=x': event date 1800-01-01 is before 1900" in err
