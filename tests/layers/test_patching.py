import numpy as np
import pytest
from harness import run_layer_test

from models.layers.patching import Patching, num_patches

SERIES = np.arange(2 * 20, dtype="float32").reshape(2, 20)


@pytest.mark.parametrize(
    "length, patch_length, stride, expected",
    [(48, 16, 8, 6), (50, 16, 8, 6), (51, 8, 8, 7), (336, 16, 8, 42), (20, 20, 5, 2), (5, 8, 4, 1)],
)
def test_patch_count(length, patch_length, stride, expected):
    """PatchTST's count: (T + S - L) // S + 1 after padding the end with S copies of the last value."""
    assert num_patches(length, patch_length, stride) == expected
    patches = Patching(patch_length, stride)(np.zeros((3, length), "float32"))
    assert tuple(patches.shape) == (3, expected, patch_length)


def test_patches_hold_the_series_in_order_and_pad_with_the_last_value():
    """Lookback 20 is not a multiple of stride 6: the last patch reaches into the padding."""
    patches = np.asarray(Patching(8, 6)(SERIES))  # padded length 26: starts 0, 6, 12, 18
    assert patches.shape == (2, 4, 8)
    np.testing.assert_array_equal(patches[0, 1], np.arange(6, 14))
    np.testing.assert_array_equal(patches[1, 3], [38, 39] + [39] * 6)  # two real values, then padding
    covered = {v for p in patches[0] for v in p}
    assert covered == set(SERIES[0])  # every step of the window is in some patch


def test_patch_longer_than_the_window_says_what_to_change():
    with pytest.raises(ValueError, match=r"`patch_length` \(30\) must be <= lookback \+ stride \(20 \+ 4\)"):
        Patching(30, 4)(SERIES)


def test_patching_layer(tmp_path):
    run_layer_test(Patching, {"patch_length": 8, "stride": 4}, {"series": SERIES}, (2, 5, 8), 0, tmp_path)
