"""The several-counts warning names the line of a type that the analysis keeps: since
0ef04be every class of a day follows the image the day's total keeps, where the lines
name their scenes; the warning chose each class's own best image (the higher count), so
it named a line the analysis drops."""

from __future__ import annotations

from railwatch.analysis.csvio import parse_counts_csv
from railwatch.analysis.series import build_series

CSV = """date,scene_id,class,count
2024-03-05T00:30:00Z,1,all,7
2024-03-05T10:30:00Z,2,all,5
2024-03-05T00:30:00Z,1,boxcar,3
2024-03-05T10:30:00Z,2,boxcar,4
"""


def test_a_types_warning_names_the_line_of_the_totals_image() -> None:
    warnings: list[str] = []
    points = parse_counts_csv(CSV, warn=warnings.append)
    series = build_series(points[""])
    kept = series["boxcar"].points[0]
    assert (kept.scene_id, kept.count) == (1, 3)  # the analysis keeps the total's image
    (boxcar,) = [w for w in warnings if "boxcars" in w]
    assert "(3, line 4, scene 1)" in boxcar, boxcar
    assert "follows the day's total" in boxcar
    assert "line 5:" not in boxcar and "(4, line 5" not in boxcar
    (total,) = [w for w in warnings if "count railcars" in w]
    assert "(7, line 2)" in total, total


def test_without_scene_ids_a_type_keeps_its_own_best_as_before() -> None:
    text = "\n".join(
        line.replace(",1,", ",,").replace(",2,", ",,") if i else line.replace("scene_id,", ",")
        for i, line in enumerate(CSV.splitlines())
    )
    warnings: list[str] = []
    parse_counts_csv(text.replace("date,,", "date,scene_id,"), warn=warnings.append)
    (boxcar,) = [w for w in warnings if "boxcars" in w]
    assert "the highest (4, line 5)" in boxcar, boxcar
