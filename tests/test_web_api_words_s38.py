"""A 422 about a scene's cars or review names the API's requests, not CLI commands
(2026-12-06, session 38, web review).

The library's messages point a CLI user to a command; the API passed them on, so an API
client (and the analyst, whose dashboard shows the API's words beside the review's
upload) was told ``give its total instead: `railwatch scene review 222 --count N``` or
``write scene 5's with `railwatch scene cars 5```. A 404's pointers were replaced by the
API's since session 34 (:data:`railwatch.web.errors.API_HINTS`); a 422's about a
scene's review and cars now are too (:data:`railwatch.web.errors.API_COMMANDS`).
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("fastapi")

from railwatch.storage import repo
from test_web_occupied_s30 import TOKEN, world  # noqa: F401

AUTH = {"Authorization": f"Bearer {TOKEN}"}

pytestmark = [pytest.mark.slow]


def _detail(r: Any) -> str:
    assert r.status_code == 422, (r.status_code, r.text)
    return str(r.json()["detail"])


def test_a_length_image_says_which_request_gives_its_total(
    world: dict[str, Any],  # noqa: F811
) -> None:
    sid = world["yard"]["runs"]
    detail = _detail(world["client"].get(f"/api/scenes/{sid}/cars"))
    assert "not separable" in detail, detail
    assert f'PUT /api/scenes/{sid}/review with {{"counts": {{"all": N}}}}' in detail, detail
    assert "railwatch" not in detail.replace("railwatch measures", ""), detail


def test_another_scenes_cars_name_the_review_and_the_download(
    world: dict[str, Any],  # noqa: F811
) -> None:
    c = world["client"]
    a, b = world["objects"]["scene_ids"][4], world["objects"]["scene_ids"][0]
    cars = c.get(f"/api/scenes/{a}/cars").json()
    detail = _detail(c.put(f"/api/scenes/{b}/review", json={"cars": cars}, headers=AUTH))
    assert f"holds the cars of scene {a}" in detail, detail
    assert f"send it as scene {a}'s review (PUT /api/scenes/{a}/review)" in detail, detail
    assert f"download scene {b}'s with GET /api/scenes/{b}/cars" in detail, detail
    assert "`railwatch" not in detail, detail
    assert c.get(f"/api/scenes/{b}/review").status_code == 404  # nothing written


def test_an_unprocessed_scene_names_the_job_that_processes_it(
    world: dict[str, Any],  # noqa: F811
) -> None:
    site = world["objects"]["site"]
    sid = world["objects"]["scene_ids"][1]
    with world["db"].session() as s:
        scene = repo.get_scene(s, sid)
        scene.status = "ingested"  # as a scene ingested and not processed yet
    detail = _detail(world["client"].get(f"/api/scenes/{sid}/cars"))
    assert f"process the site first (POST /api/sites/{site}/jobs)" in detail, detail
    assert "`railwatch" not in detail, detail
