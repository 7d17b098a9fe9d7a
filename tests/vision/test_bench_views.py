"""The shifted views `bench_augmentation kept` averages: the content moves, the edge gets the background."""
import numpy as np
import pytest

from tasks.vision.bench_augmentation import SHIFTS, shifted


@pytest.mark.parametrize(("dy", "dx"), [(1, 0), (-1, 0), (0, 2), (-2, -1)])
def test_a_shift_moves_each_pixel_and_fills_the_edge_with_the_background(dy, dx):
    images = np.full((2, 5, 6, 1), -0.5, dtype=np.float32)  # (N, H, W, C), background -0.5
    images[0, 2, 3, 0], images[1, 3, 3, 0] = 3.0, 2.0
    images[1] -= 1.0  # a second image with its own background, -1.5
    out = shifted(images, dy, dx)
    assert out.shape == images.shape
    assert out[0, 2 + dy, 3 + dx, 0] == 3.0 and out[1, 3 + dy, 3 + dx, 0] == 1.0
    assert np.count_nonzero(out[0] == -0.5) == 5 * 6 - 1 and np.count_nonzero(out[1] == -1.5) == 5 * 6 - 1


def test_every_view_set_holds_the_image_itself():
    assert all((0, 0) in views and len(set(views)) == len(views) for views in SHIFTS.values())
