"""Packing and figures of a day's points, without the database."""

import numpy as np
from shapely.geometry import box

from wangge.patrol import tracks

LIMITS = {"max_accuracy_m": 50, "max_gap_s": 120, "max_speed_mps": 30}
# About 33.4 m per 0.0003° of latitude.
STEP = 0.0003


def walk(n, *, start_t=36000, every=30, lat=22.9, lng=113.67, acc=10.0):
    return tracks.make_points([(start_t + i * every, lat + i * STEP, lng, acc) for i in range(n)])


def test_pack_round_trip_keeps_points_to_a_decimetre():
    points = tracks.make_points([(1, 22.912345, 113.671234, 8.4), (2, 22.9, 113.6, None)])
    back = tracks.unpack(tracks.pack(points))
    assert back["t"].tolist() == [1, 2]
    assert back["lat"][0] / tracks.SCALE == 22.912345 and back["lng"][0] / tracks.SCALE == 113.671234
    assert back["acc"].tolist() == [8, tracks.NO_ACCURACY]
    assert len(tracks.pack(points)) == 2 * 14


def test_merge_keeps_one_point_per_second_and_counts_resent_ones():
    first = walk(5)
    merged, dupes = tracks.merge(tracks.unpack(b""), first)
    assert len(merged) == 5 and dupes == 0
    again, dupes = tracks.merge(merged, walk(7))  # the same five plus two new
    assert len(again) == 7 and dupes == 5
    assert np.all(np.diff(again["t"]) > 0)
    late, dupes = tracks.merge(again, walk(2, start_t=100))  # an old batch arriving late is sorted in
    assert late["t"][0] == 100 and dupes == 0


def test_distance_and_time_on_duty_of_a_steady_walk():
    figures = tracks.figures(walk(11), None, **LIMITS)
    assert figures.point_count == 11 and figures.flagged_count == 0
    assert 330 < figures.distance_m < 340  # ten steps of about 33.4 m
    assert figures.seconds_on_duty == 300 and figures.seconds_in_grid == 0


def test_poor_fixes_jumps_and_gaps_are_not_walked():
    rows = [(0, 22.9, 113.67, 10), (30, 22.9 + STEP, 113.67, 10)]
    rows.append((60, 23.5, 113.67, 10))  # a 66 km jump in 30 s: a bad fix
    rows.append((90, 22.9 + 2 * STEP, 113.67, 200))  # poor accuracy: flagged
    rows.append((120, 22.9 + 3 * STEP, 113.67, None))  # no accuracy: flagged
    rows.append((1000, 22.9 + 4 * STEP, 113.67, 10))  # after a 14-minute silence
    figures = tracks.figures(tracks.make_points(rows), None, **LIMITS)
    assert figures.flagged_count == 2
    assert 33 < figures.distance_m < 34  # only the first step
    assert figures.seconds_on_duty == 120  # the silence is not time on duty


def test_time_inside_the_grid():
    grid = box(113.66, 22.89, 113.68, 22.9 + 5.5 * STEP)  # the walk leaves it after the sixth point
    figures = tracks.figures(walk(11), grid, **LIMITS)
    assert figures.seconds_in_grid == 5 * 30


def test_buildings_passed_counts_those_near_a_good_fix():
    points = walk(11)  # north from 22.9, 113.67 in 33 m steps
    near = (22.9 + 5 * STEP, 113.67 + 0.0002)  # about 20 m east of the sixth fix
    far = (22.9 + 5 * STEP, 113.67 + 0.001)  # about 100 m east
    only_poor = tracks.make_points([(0, 22.95, 113.7, 300)])
    passed = tracks.buildings_passed(points, [near, far], max_accuracy_m=50, within_m=30)
    assert passed == 1
    assert tracks.buildings_passed(only_poor, [(22.95, 113.7)], max_accuracy_m=50, within_m=30) == 0
