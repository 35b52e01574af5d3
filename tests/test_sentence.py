"""Sentences from real signs: trimmed, joined at chosen points, continuous, fingerspelled where unknown."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from conftest import require_shared
from model_runtime import rotations as rot
from model_runtime.errors import SignAvatarError
from model_runtime.motion import SignMotion
from model_runtime.sentence import MotionLibrary, SentenceConfig, generate_sentence, join_jerk
from model_runtime.sentence.kinematics import hand_points
from model_runtime.sentence.library import LibraryMatch
from model_runtime.sentence.trim import trim_idle
from model_runtime.skeleton import JOINT_INDEX, SIGNING_JOINTS
from real_clips import real_clip_library

SIGNS = ("hello", "thank_you", "please", "yes", "sorry", "b", "o")
SENTENCES = ("hello bob thank you", "please yes sorry")


@pytest.fixture(scope="module")
def library() -> MotionLibrary:
    return MotionLibrary.open(real_clip_library(require_shared("data", "aslapp"), SIGNS))


def angular_steps(poses: np.ndarray) -> np.ndarray:
    """(T-1, J) rotation angle between consecutive frames of each signing joint, radians."""
    idx = [JOINT_INDEX[n] for n in SIGNING_JOINTS]
    R = rot.axis_angle_to_matrix(torch.from_numpy(poses[:, idx]).double())
    return rot.matrix_to_axis_angle(R[:-1].transpose(-1, -2) @ R[1:]).norm(dim=-1).numpy()


def join_mask(n: int, transitions, margin: int = 3) -> np.ndarray:
    m = np.zeros(n, bool)
    for a, b in transitions:
        m[max(0, a - margin):b + margin] = True
    return m


def test_a_sentence_is_one_motion_with_a_range_per_word(library):
    r = generate_sentence("Hello, Bob; thank you!", library, seed=0)
    T = r.motion.num_frames
    assert [(s.word, s.gloss) for s in r.ranges] == [("Hello", "hello"), ("Bob", "B-O-B"), ("thank you", "thank_you")]
    assert r.notices == ["'Bob' is not in the vocabulary: fingerspelled as B-O-B"]
    assert r.motion.fps == pytest.approx(29.97) and r.motion.gloss == "hello B-O-B thank_you"
    in_word = np.zeros(T, int)
    for s in r.ranges:
        in_word[s.start:s.end] += 1
    assert in_word.max() == 1, "word ranges overlap"
    between = [(a.end, b.start) for a, b in zip(r.ranges, r.ranges[1:])]
    assert [t for t in r.transitions if t in between] == between, "a transition fills each gap between words"
    inside = [t for t in r.transitions if t not in between]  # letter to letter, inside B-O-B
    assert all(r.ranges[1].start <= a < b <= r.ranges[1].end for a, b in inside) and len(inside) == 2
    assert r.ranges[0].start == 0 and r.ranges[-1].end == T
    assert len(r.transitions) == 4  # hello-B, B-O, O-B, B-thank you
    for s in (r.ranges[0], r.ranges[2]):  # no sign grows, and idle frames or cut-aways shorten some
        assert s.end - s.start <= library.generate(s.gloss)[0].num_frames


def spike(steps: np.ndarray) -> np.ndarray:
    """How much each frame's turn of each joint exceeds its neighbours' (a pop reads >> 1, smooth motion ~1)."""
    prev = np.vstack([steps[:1], steps[:-1]])
    nxt = np.vstack([steps[1:], steps[-1:]])
    return steps / (np.maximum(prev, nxt) + 0.02)


@pytest.mark.parametrize("text", SENTENCES)
def test_rotations_are_continuous_at_the_joins(library, text):
    r = generate_sentence(text, library, seed=0)
    steps = angular_steps(r.motion.poses)
    at_join = join_mask(len(steps), r.transitions)
    assert spike(steps)[at_join].max() < 1.5, "some joint pops at a join"
    assert steps[at_join].max() < 0.6, "a joint turns more than 34 degrees in one frame at a join"
    # the same signs butted together pop at every cut: the check above has teeth
    clips = [library.generate(s.gloss)[0] for s in r.ranges if "-" not in s.gloss]
    naive = angular_steps(np.concatenate([c.poses for c in clips]))
    cuts = np.cumsum([c.num_frames for c in clips])[:-1] - 1
    assert spike(naive)[cuts].max() > 5


@pytest.mark.parametrize("text", SENTENCES)
def test_joins_are_no_jerkier_than_the_signs(library, text):
    r = generate_sentence(text, library, seed=0)
    jj = join_jerk(r.motion, r.ranges, r.transitions)
    assert jj.joins == len(r.transitions) and np.isfinite(jj.ratio)
    assert jj.ratio <= 1.5, f"median jerk at the joins is {jj.ratio:.2f} x the median inside the signs"


def test_hold_keeps_each_word_still_for_that_long(library):
    plain = generate_sentence("hello please", library, seed=0)
    held = generate_sentence("hello please", library, seed=0, hold=0.5)
    extra = round(0.5 * plain.motion.fps)
    for a, b in zip(plain.ranges, held.ranges):
        assert (b.end - b.start) - (a.end - a.start) == pytest.approx(extra, abs=1)
        pts = hand_points(held.motion.poses[b.end - 8:b.end], held.motion.trans[b.end - 8:b.end], "neutral")
        assert np.abs(pts - pts[-1]).max() < 0.01, "the hands still move at the end of a hold"


@pytest.mark.parametrize("speed", [2.0, 0.5])
def test_speed_scales_the_sentence(library, speed):
    base = generate_sentence("hello please", library, seed=0)
    fast = generate_sentence("hello please", library, seed=0, speed=speed)
    assert fast.motion.fps == base.motion.fps
    assert fast.motion.num_frames == pytest.approx(base.motion.num_frames / speed, abs=2)
    for a, b in zip(base.ranges, fast.ranges):
        assert b.start == pytest.approx(a.start / speed, abs=1) and b.end == pytest.approx(a.end / speed, abs=1)


def test_same_seed_same_sentence(library):
    a = generate_sentence("hello bob", library, seed=3)
    b = generate_sentence("hello bob", library, seed=3)
    assert np.array_equal(a.motion.poses, b.motion.poses) and a.ranges == b.ranges


def test_idle_frames_at_rest_are_trimmed(library):
    hello = library.generate("hello")[0]
    rest = np.zeros((20, 55, 3), np.float32)  # both arms hanging: shoulders turned down about Z
    rest[:, JOINT_INDEX["left_shoulder"], 2] = -1.3
    rest[:, JOINT_INDEX["right_shoulder"], 2] = 1.3
    padded = replace(hello, poses=np.concatenate([rest, hello.poses, rest]),
                     trans=np.concatenate([np.repeat(hello.trans[:1], 20, 0), hello.trans, np.repeat(hello.trans[-1:], 20, 0)]))
    cfg = SentenceConfig()
    s, e = trim_idle(hand_points(padded.poses, padded.trans, "neutral"), padded.fps, cfg)
    margin = round(cfg.trim_margin * padded.fps)
    assert 20 - margin - 3 <= s <= 20 + 3 and 20 + hello.num_frames - 3 <= e <= 20 + hello.num_frames + margin + 3


def test_words_that_cannot_be_spelled_are_all_named(library):
    with pytest.raises(SignAvatarError) as e:
        generate_sentence("hello box q7", library)
    msg = str(e.value)
    assert "'box'" in msg and "'x'" in msg and "'q7'" in msg and "'7'" in msg and "letter signs cover: bo" in msg


class NearbyWords:
    """The library, plus a word matched by meaning (as the model's text encoder would)."""

    def __init__(self, lib):
        self.lib = lib
        self.vocabulary = lib.vocabulary

    def match(self, text):
        if text.lower() == "hi":
            return LibraryMatch("hello", 0.81, False)
        if text.lower() == "bo":  # a text encoder finds some letter "close" to a short name
            return LibraryMatch("b", 0.78, False)
        return self.lib.match(text)

    def generate(self, text, seed=0, n=1, frames=None, temperature=1.0):
        return self.lib.generate(text, seed=seed, n=n, frames=frames)


def test_a_word_matched_by_meaning_is_signed_with_a_notice(library):
    r = generate_sentence("hi bob", NearbyWords(library))
    assert r.ranges[0].gloss == "hello" and r.notices[0] == "'hi' shown as hello (similarity 0.81)"


def test_a_word_is_not_shown_as_a_letter_by_meaning(library):
    r = generate_sentence("bo o", NearbyWords(library))
    assert [s.gloss for s in r.ranges] == ["B-O", "o"]  # spelled; the one-letter word is the letter sign


def test_bad_settings_are_refused_together(library):
    with pytest.raises(SignAvatarError) as e:
        generate_sentence("hello", library, speed=0, config=SentenceConfig(transition_min=1.0, transition_max=0.5))
    assert "speed" in str(e.value) and "transition_min" in str(e.value)
    with pytest.raises(SignAvatarError, match="hold has 1 values for 2"):
        generate_sentence("hello please", library, hold=[0.2])
    with pytest.raises(SignAvatarError, match="no words"):
        generate_sentence(" ,, ", library)


def test_motion_library_matches_spellings_and_picks_variations_by_seed(tmp_path, library):
    hello = library.generate("hello")[0]
    hello.save(tmp_path / "a" / "hello.npz")
    replace(hello, poses=hello.poses * 0.5, gloss="HELLO").save(tmp_path / "a" / "hello_2.npz")
    replace(hello, gloss="").save(tmp_path / "thank-you.npz")
    lib = MotionLibrary.open(tmp_path)
    assert lib.vocabulary == ["hello", "thank-you"]  # HELLO is the same gloss; a file without one is named by file
    assert lib.match("Thank You").gloss == "thank-you" and lib.match("THANK_YOU").exact
    a, b, c = (lib.generate("hello", seed=s)[0] for s in (0, 1, 2))
    assert np.array_equal(a.poses, hello.poses) and np.allclose(b.poses, hello.poses * 0.5)
    assert np.array_equal(c.poses, a.poses)  # seeds cycle through the variations
    assert lib.generate("hello", frames=20)[0].num_frames == 20
    with pytest.raises(SignAvatarError, match="close: thank-you") as e:
        lib.match("thank yuo")
    assert e.value.suggestions == ("thank-you",)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SignAvatarError, match="no .npz motion files"):
        MotionLibrary.open(tmp_path / "empty")
