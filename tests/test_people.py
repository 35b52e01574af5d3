"""Two people in view: the most central, largest one is followed and the landmarks land on the whole frame;
one person in view is read exactly as before."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from conftest import require_shared
from model_runtime.landmarks import people
from model_runtime.landmarks.video import load_video
from video_frames import read_frames

W, H = 640, 320




def _canvas(main, side):
    """The StartASL signer (cropped to her upper body, 310x320) right of centre; the Lifeprint signer small at
    the lower left when ``side`` is given; plain grey elsewhere."""
    c = np.full((H, W, 3), (96, 100, 92), np.uint8)
    c[:, 200:510] = cv2.resize(main[:, 168:568], (310, 320), interpolation=cv2.INTER_AREA)
    if side is not None:
        c[140:320, 20:180] = cv2.resize(side[:, 160:480], (160, 180), interpolation=cv2.INTER_AREA)
    return c


@pytest.fixture(scope="module")
def two_and_one(tmp_path_factory):
    """The same 78 frames (2.6 s) with and without a second, smaller person at the side."""
    folder = tmp_path_factory.mktemp("people")
    main = read_frames(require_shared("videos", "startasl_hello.mp4"))
    side = read_frames(require_shared("videos", "lifeprint_help.mp4"))
    paths = {}
    for name, with_side in (("two", True), ("one", False)):
        paths[name] = folder / f"{name}.mp4"
        wr = cv2.VideoWriter(str(paths[name]), cv2.VideoWriter_fourcc(*"mp4v"), 29.97, (W, H))
        for i, f in enumerate(main):
            wr.write(_canvas(f, side[min(i, len(side) - 1)] if with_side else None))
        wr.release()
    return paths


def test_two_people_the_central_largest_is_followed_and_mapped_to_the_whole_frame(two_and_one, capsys):
    two = load_video(two_and_one["two"], progress=False, workers=1)
    assert "note: two.mp4: 2 people in view; following the one at the centre (largest)" in capsys.readouterr().err
    assert two.meta["people"] == 2 and two.meta["people_note"] == ("2 people in view; following the one at the "
                                                                  "centre (largest)")
    x0, y0, x1, y1 = two.meta["people_crop"]
    assert 100 < x0 < 200 and x1 > 505 and (y0, y1) == (0, H)  # the side person's face (x ~100) is left out
    assert two.image_size == (W, H)
    one = load_video(two_and_one["one"], progress=False, workers=1)  # the signer alone on the same canvas
    assert one.meta["people"] == 1 and one.meta["people_crop"] is None
    both = np.isfinite(two.pose[:, 11:17]).all((1, 2)) & np.isfinite(one.pose[:, 11:17]).all((1, 2))
    assert both.sum() > 70
    # normalised x/y of the whole frame: the crop's landmarks land where the whole-frame pass put them
    assert np.median(np.abs(two.pose[both, 11:17, :2] - one.pose[both, 11:17, :2])) < 0.005
    hands = np.isfinite(two.right_hand).all((1, 2)) & np.isfinite(one.right_hand).all((1, 2))
    assert hands.sum() > 30 and np.median(np.abs(two.right_hand[hands, :, :2] - one.right_hand[hands, :, :2])) < 0.005
    # z rescaled with x, pose_world (metres) independent of the crop
    assert np.median(np.abs(two.pose[both, 11:17, 2] - one.pose[both, 11:17, 2])) < 0.05
    assert np.median(np.abs(two.pose_world[both] - one.pose_world[both])) < 0.01
    # split over two worker processes: the crop travels with each job; the first stretch is the single pass
    split = load_video(two_and_one["two"], progress=False, workers=2)
    assert split.meta["workers"] == 2 and split.meta["people_crop"] == two.meta["people_crop"]
    first = 47  # plan_spans(78, 2): frames 0-46 in the first worker, no warm-up
    np.testing.assert_array_equal(split.pose[:first], two.pose[:first])
    assert np.nanmedian(np.abs(split.pose[first:, 11:17, :2] - two.pose[first:, 11:17, :2])) < 0.01


def test_one_person_in_view_is_read_bit_for_bit_as_without_the_probe():
    soup = require_shared("videos", "pose_soup.mp4")
    a = load_video(soup, progress=False, workers=1)
    b = load_video(soup, progress=False, workers=1, people=False)
    for k in ("pose", "left_hand", "right_hand", "face", "pose_world"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k))
    np.testing.assert_array_equal(a.meta["pose_visibility"], b.meta["pose_visibility"])
    assert a.meta["people"] == 1 and a.meta["people_note"] == ""


def test_the_choice_prefers_the_largest_unless_another_is_clearly_more_central():
    # (cx, cy, w, h) as fractions of the frame
    big_side, small_centre = (0.2, 0.3, 0.12, 0.2), (0.5, 0.3, 0.1, 0.17)
    assert people._choose([big_side, small_centre]) == 1  # 0.85 - 0 beats 1 - 0.45
    near_centre_big = (0.4, 0.3, 0.12, 0.2)
    assert people._choose([small_centre, near_centre_big]) == 1
    assert people._where(near_centre_big, [small_centre, near_centre_big]) == "at the centre (largest)"
    assert people._where((0.8, 0.3, 0.1, 0.1), [near_centre_big, (0.8, 0.3, 0.1, 0.1)]) == "on the right"


def test_the_crop_keeps_to_its_side_of_the_border_with_a_neighbour_and_maps_back():
    chosen, neighbour = (0.5, 0.3, 0.1, 0.15), (0.8, 0.3, 0.05, 0.08)  # the neighbour is further from the camera
    crop = people._crop([chosen], [neighbour], (1000, 500), 2, "")
    border = 800 + (500 - 800) * 50 / 150
    # 7 face widths wide (x0 = 500 - 350), one face height above the face (112.5 - 75), to the frame's bottom
    assert crop.x1 == int(np.ceil(border)) and crop.x0 == 150 and crop.y0 == 37 and crop.y1 == 500
    arrays = {k: np.array([[[0.0, 0.0, 0.1], [1.0, 1.0, -0.2]]], dtype=np.float32)
              for k in ("pose", "left_hand", "right_hand", "face")}
    full = people.to_full_frame(arrays, crop)
    cw, ch = crop.x1 - crop.x0, crop.y1 - crop.y0
    np.testing.assert_allclose(full["pose"][0], [[0.15, 37 / 500, 0.1 * cw / 1000],
                                                 [crop.x1 / 1000, 1.0, -0.2 * cw / 1000]], rtol=1e-6)
    assert ch == 463
