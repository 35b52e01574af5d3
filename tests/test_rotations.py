import math

import numpy as np
import pytest
import torch

from model_runtime import rotations as R


def random_rotvec(n, dtype, gen):
    axis = torch.randn(n, 3, generator=gen, dtype=dtype)
    axis = axis / axis.norm(dim=-1, keepdim=True)
    angle = torch.rand(n, 1, generator=gen, dtype=dtype) * math.pi
    return axis * angle


def corner_rotvecs(dtype):
    pi = math.pi
    rows = [[0, 0, 0], [1e-9, 0, 0], [pi, 0, 0], [0, pi, 0], [0, 0, pi],
            [pi / math.sqrt(2), pi / math.sqrt(2), 0], [pi / math.sqrt(3)] * 3, [0, 0, pi - 1e-6]]
    return torch.tensor(rows, dtype=dtype)


def same_rotation(a, b, tol):
    return (R.axis_angle_to_matrix(a) - R.axis_angle_to_matrix(b)).abs().max().item() < tol


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 2e-5), (torch.float64, 1e-10)])
def test_round_trips(dtype, tol):
    gen = torch.Generator().manual_seed(0)
    v = torch.cat([random_rotvec(500, dtype, gen), corner_rotvecs(dtype)])
    m = R.axis_angle_to_matrix(v)
    assert m.dtype == dtype
    # matrix <-> axis-angle (angles up to and including pi: compare as rotations)
    assert same_rotation(R.matrix_to_axis_angle(m), v, tol * 10)
    # 6D round trip is exact up to float error
    assert (R.sixd_to_matrix(R.matrix_to_6d(m)) - m).abs().max() < tol * 10
    assert same_rotation(R.sixd_to_axis_angle(R.axis_angle_to_6d(v)), v, tol * 10)
    # quaternion round trips, comparing quaternions up to sign
    q = R.axis_angle_to_quat(v)
    assert torch.allclose(q.norm(dim=-1), torch.ones(len(q), dtype=dtype), atol=tol)
    q2 = R.matrix_to_quat(R.quat_to_matrix(q))
    assert torch.minimum((q2 - q).abs().amax(-1), (q2 + q).abs().amax(-1)).max() < tol * 10
    assert same_rotation(R.quat_to_axis_angle(q), v, tol * 10)


def test_pi_rotation_axis_angle_is_pi():
    v = corner_rotvecs(torch.float64)[2:5]
    back = R.matrix_to_axis_angle(R.axis_angle_to_matrix(v))
    assert torch.allclose(back.norm(dim=-1), torch.full((3,), math.pi, dtype=torch.float64), atol=1e-9)
    assert torch.allclose(back.abs(), v.abs(), atol=1e-9)  # same axis up to sign


def test_6d_layout_is_first_two_columns():
    m = R.axis_angle_to_matrix(torch.tensor([0.3, -1.1, 0.7], dtype=torch.float64))
    d6 = R.matrix_to_6d(m)
    assert torch.allclose(d6[:3], m[:, 0]) and torch.allclose(d6[3:], m[:, 1])


def test_6d_gram_schmidt_accepts_unnormalised_input():
    gen = torch.Generator().manual_seed(1)
    d6 = torch.randn(100, 6, generator=gen, dtype=torch.float64) * 3
    m = R.sixd_to_matrix(d6)
    eye = torch.eye(3, dtype=torch.float64).expand(100, 3, 3)
    assert torch.allclose(m @ m.transpose(-1, -2), eye, atol=1e-10)
    assert torch.allclose(torch.linalg.det(m), torch.ones(100, dtype=torch.float64), atol=1e-10)


def test_quaternions_are_xyzw_scalar_last():
    q = R.axis_angle_to_quat(torch.tensor([0.0, 0.0, math.pi / 2]))
    assert torch.allclose(q, torch.tensor([0, 0, math.sin(math.pi / 4), math.cos(math.pi / 4)]), atol=1e-6)


def test_numpy_inputs_give_float64_numpy_with_the_torch_values():
    rv = np.array([[0.3, -0.2, 1.1], [0.0, 0.0, 0.0], [math.pi, 0.0, 0.0]], dtype=np.float32)
    m = R.axis_angle_to_matrix(rv)
    assert isinstance(m, np.ndarray) and m.dtype == np.float64
    assert np.allclose(m, R.axis_angle_to_matrix(torch.from_numpy(rv).double()).numpy(), atol=1e-15)
    assert np.allclose(R.axis_angle_to_matrix(R.matrix_to_axis_angle(m)), m, atol=1e-12)
    q = R.matrix_to_quat(m)
    assert np.allclose(R.quat_to_matrix(q), m, atol=1e-12)


def test_twist_angle_reads_the_rotation_about_the_axis():
    axis = np.array([0.0, 1.0, 0.0])
    swing = R.axis_angle_to_quat(np.array([0.0, 0.0, 0.4]))
    for angle in (-2.5, -0.3, 0.0, 0.7, 3.0):
        twist = R.axis_angle_to_quat(axis * angle)
        # swing after twist: the twist about the axis is what twist_angle reads back
        q = R.quat_product(torch.from_numpy(swing), torch.from_numpy(twist)).numpy()
        assert abs(R.twist_angle(q, axis) - angle) < 1e-9


def test_align_hemisphere_removes_flips_and_follows_the_reference():
    gen = torch.Generator().manual_seed(3)
    t = torch.linspace(0, 3, 50, dtype=torch.float64)
    q = R.axis_angle_to_quat(torch.stack([t, 0.5 * t, torch.zeros_like(t)], -1))[:, None]
    signs = torch.where(torch.rand(50, 1, 1, generator=gen, dtype=torch.float64) < 0.5, -1.0, 1.0)
    fixed = R.align_hemisphere(q * signs, reference=-q[0])
    assert ((fixed[1:] * fixed[:-1]).sum(-1) > 0).all()
    assert torch.allclose(fixed, -q)  # the first frame went onto the reference's hemisphere
    # numpy in, numpy out, one joint without a joint axis
    flat = R.align_hemisphere((q * signs)[:, 0].numpy())
    assert np.allclose(np.abs(flat), np.abs(q[:, 0].numpy())) and (np.sum(flat[1:] * flat[:-1], -1) > 0).all()


def test_gradients_are_finite_at_zero_and_pi():
    v = corner_rotvecs(torch.float64).requires_grad_(True)
    R.axis_angle_to_6d(v).sum().backward()
    assert torch.isfinite(v.grad).all()


def test_slerp_endpoints_and_midpoint():
    a = R.axis_angle_to_quat(torch.tensor([[0.0, 0.0, 0.0]], dtype=torch.float64))
    b = R.axis_angle_to_quat(torch.tensor([[0.0, 1.0, 0.0]], dtype=torch.float64))
    for t, angle in ((0.0, 0.0), (0.5, 0.5), (1.0, 1.0)):
        q = R.quat_slerp(a, b, torch.tensor([t], dtype=torch.float64))
        assert torch.allclose(R.quat_to_axis_angle(q), torch.tensor([[0.0, angle, 0.0]], dtype=torch.float64),
                              atol=1e-9)
    # shortest path: -b is the same rotation as b
    q = R.quat_slerp(a, -b, torch.tensor([0.5], dtype=torch.float64))
    assert torch.allclose(R.quat_to_axis_angle(q).abs(), torch.tensor([[0.0, 0.5, 0.0]], dtype=torch.float64),
                          atol=1e-9)
    # shortest=False keeps the arc as given: from a to -b is the long way round (2 pi - 1 rad)
    q = R.quat_slerp(a, -b, torch.tensor([0.5], dtype=torch.float64), shortest=False)
    assert torch.allclose(R.quat_to_axis_angle(q).norm(dim=-1), torch.tensor([math.pi - 0.5], dtype=torch.float64),
                          atol=1e-9)
