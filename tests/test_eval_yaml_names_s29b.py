"""Class names of a YOLO-OBB dataset from its data.yaml, in each form YAML writes them:
``names: {0: tank, 1: hopper}`` (inline id map) was refused as having "no 'names:'
list", a list written by ``yaml.safe_dump`` (``- tank`` in column 0) too, and a quoted
name holding a comma was cut in two."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from railwatch.errors import InputError
from railwatch.export.labels import read_labels, read_yaml_names


@pytest.mark.parametrize(
    "text",
    [
        # flow (inline) forms
        "names: {0: tank, 1: hopper}\n",
        "nc: 2\nnames: {1: hopper, 0: 'tank'}  # classes\ntrain: images\n",
        'names: {"0": tank, "1": "hopper",}\n',
        "names: {\n  0: tank,  # oil\n  1: hopper\n}\nnc: 2\n",
        "names: [tank, hopper]\n",
        "names: ['tank', \"hopper\"]  # two\n",
        "names:\n  [tank,   # oil\n   hopper,\n  ]\nnc: 2\n",
        # block forms
        "nc: 2\nnames:\n  0: tank  # oil\n  1: 'hopper' # ore\n",
        "names:\n  1: hopper\n  0: tank\nval: images\n",
        "names:\n  - tank\n  - hopper\n",
        "names:\n- tank\n- hopper\nnc: 2\n",  # yaml.safe_dump's layout
        "names:\r\n  0: tank\r\n  1: hopper\r\n",
    ],
)
def test_every_form_of_names_is_read(tmp_path: Path, text: str) -> None:
    (tmp_path / "data.yaml").write_text(text, encoding="utf-8", newline="")
    assert read_yaml_names(tmp_path / "data.yaml") == ["tank", "hopper"]


def test_quoted_names_keep_their_commas_and_quotes(tmp_path: Path) -> None:
    (tmp_path / "data.yaml").write_text(
        "names: ['tank, pressurised', \"hop\\\"per\", 'it''s', tank's car]\n"
    )
    assert read_yaml_names(tmp_path / "data.yaml") == [
        "tank, pressurised",
        'hop"per',
        "it's",
        "tank's car",
    ]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("nc: 2\n", "no 'names:' list of classes: write names: [tank, hopper]"),
        ("names: tank\n", "('names: tank' is one value)"),
        ("names: []\n", "lists no classes"),
        ("names:\nnc: 2\n", "lists no classes"),
        ("names: [tank, hopper\n", "'names: [' is never closed with ']'"),
        ("names: [tank, [x]]\n", "nested list or map"),
        ("names: {0: tank, 2: hopper}\n", "class ids in 'names' must be 0..1"),
        ("names: {a: tank}\n", "'names' key 'a' is not a class id"),
        ("names: {tank}\n", "'names' entry 'tank' is not id: name"),
    ],
)
def test_names_that_are_not_a_list_of_classes_say_how_to_write_them(
    tmp_path: Path, text: str, says: str
) -> None:
    (tmp_path / "data.yaml").write_text(text)
    with pytest.raises(InputError) as err:
        read_yaml_names(tmp_path / "data.yaml")
    assert says in str(err.value)


def test_a_dataset_with_an_inline_id_map_is_read(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    Image.fromarray(np.full((200, 300, 3), 90, np.uint8)).save(tmp_path / "images" / "a.png")
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "a.txt").write_text("1 0.1 0.1 0.2 0.1 0.2 0.15 0.1 0.15\n")
    (tmp_path / "data.yaml").write_text("nc: 2\nnames: {0: tank, 1: hopper}\n")
    labels = read_labels(tmp_path, "yolo-obb")
    assert [o.cls for o in labels.images[0].objects] == ["hopper"]
