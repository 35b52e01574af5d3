import numpy as np
import pytest

from model_runtime.errors import SignAvatarError
from model_runtime.motion import SignMotion


def make_motion(T=12, seed=0):
    rng = np.random.default_rng(seed)
    return SignMotion(poses=rng.normal(0, 0.4, (T, 55, 3)), trans=rng.normal(0, 0.1, (T, 3)), fps=30,
                      gloss="drink", gender="female", source="test")


def test_round_trip_is_bit_exact(tmp_path):
    m = make_motion()
    p = m.save(tmp_path / "drink.npz")
    m2 = SignMotion.load(p)
    assert m2.poses.dtype == np.float32 and np.array_equal(m2.poses, m.poses)
    assert np.array_equal(m2.trans, m.trans) and np.array_equal(m2.betas, m.betas)
    assert (m2.fps, m2.gloss, m2.gender, m2.source) == (30.0, "drink", "female", "test")
    m2.save(tmp_path / "again.npz")
    with np.load(tmp_path / "again.npz") as a, np.load(p) as b:
        for k in a.files:
            assert np.array_equal(a[k], b[k])


def test_file_is_amass_style(tmp_path):
    p = make_motion(T=5).save(tmp_path / "x.npz")
    with np.load(p, allow_pickle=False) as z:
        assert z["poses"].shape == (5, 165) and z["trans"].shape == (5, 3)
        assert str(z["gender"]) == "female" and float(z["mocap_frame_rate"]) == 30.0
        assert str(z["surface_model_type"]) == "smplx"


def write(path, **arrays):
    np.savez(path, **arrays)
    return path


def good_arrays(T=4):
    return dict(poses=np.zeros((T, 165), np.float32), trans=np.zeros((T, 3), np.float32),
                betas=np.zeros(10, np.float32), gender=np.array("neutral"), mocap_frame_rate=np.array(30.0))


@pytest.mark.parametrize("change,message", [
    (lambda a: a.update(poses=np.zeros((4, 156), np.float32)), "SMPL-H"),
    (lambda a: a.update(poses=np.zeros((4, 55, 3), np.float32)), r"\(T, 165\)"),
    (lambda a: a.update(trans=np.zeros((3, 3), np.float32)), "trans has 3 frames"),
    (lambda a: a.update(poses=np.full((4, 165), np.nan, np.float32)), "NaN or inf"),
    (lambda a: a.update(trans=np.full((4, 3), np.inf, np.float32)), "NaN or inf"),
    (lambda a: a.pop("betas"), r"missing keys \['betas'\]"),
    (lambda a: a.pop("mocap_frame_rate"), "missing keys.*mocap_frame_rate"),
    (lambda a: a.update(my_extra=np.zeros(2)), r"unexpected keys \['my_extra'\]"),
    (lambda a: a.update(gender=np.array("alien")), "gender must be one of"),
    (lambda a: a.update(mocap_frame_rate=np.array(-5.0)), "fps must be"),
    (lambda a: a.update(poses=np.zeros((0, 165), np.float32), trans=np.zeros((0, 3), np.float32)), "no frames"),
])
def test_malformed_files_are_refused(tmp_path, change, message):
    a = good_arrays()
    change(a)
    p = write(tmp_path / "bad.npz", **a)
    with pytest.raises(SignAvatarError, match=message):
        SignMotion.load(p)


def test_pickled_object_arrays_are_refused(tmp_path):
    a = good_arrays()
    a["gender"] = np.array({"evil": "payload"}, dtype=object)
    p = write(tmp_path / "pickle.npz", **a)
    with pytest.raises(SignAvatarError, match="pickled object arrays"):
        SignMotion.load(p)


def test_not_a_zip_and_missing_file(tmp_path):
    p = tmp_path / "junk.npz"
    p.write_bytes(b"not a zip at all")
    with pytest.raises(SignAvatarError, match="not a valid .npz"):
        SignMotion.load(p)
    with pytest.raises(SignAvatarError, match="not found"):
        SignMotion.load(tmp_path / "nope.npz")


def test_amass_spelling_of_frame_rate_and_extra_amass_keys(tmp_path):
    a = good_arrays()
    a["mocap_framerate"] = a.pop("mocap_frame_rate")
    a["surface_model_type"] = np.array("smplx")
    a["root_orient"] = np.zeros((4, 3))
    m = SignMotion.load(write(tmp_path / "amass.npz", **a))
    assert m.fps == 30.0 and m.num_frames == 4


def test_constructor_validates():
    with pytest.raises(SignAvatarError, match=r"poses must be \(T, 55, 3\)"):
        SignMotion(poses=np.zeros((3, 52, 3)), trans=np.zeros((3, 3)), fps=30)


def test_resample_keeps_duration_and_endpoints():
    m = make_motion(T=31)
    up = m.resample(60)
    assert up.num_frames == 61 and up.fps == 60
    np.testing.assert_allclose(up.poses[0], m.poses[0], atol=1e-5)
    down = m.resample(15)
    assert down.num_frames == 16
    np.testing.assert_allclose(down.trans[-1], m.trans[-1], atol=1e-6)
    # halfway frames of the upsampled clip lie between their neighbours (translation is linear)
    np.testing.assert_allclose(up.trans[1], (m.trans[0] + m.trans[1]) / 2, atol=1e-6)


def test_resample_rotation_midpoint_is_slerp():
    poses = np.zeros((2, 55, 3), np.float32)
    poses[1, 16] = [0, 0, 1.0]
    m = SignMotion(poses=poses, trans=np.zeros((2, 3)), fps=10)
    up = m.resample(20)
    np.testing.assert_allclose(up.poses[1, 16], [0, 0, 0.5], atol=1e-6)
