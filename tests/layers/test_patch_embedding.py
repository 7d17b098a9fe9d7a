import numpy as np
import pytest
from harness import run_layer_test

from models.layers import PatchEmbedding

IMAGES = np.random.default_rng(0).normal(size=(2, 8, 6, 3)).astype("float32")


def test_patch_embedding(tmp_path):
    run_layer_test(
        PatchEmbedding,
        {"patch_size": 2, "embedding_dim": 5},
        {"inputs": IMAGES},
        (2, 12, 5),  # (8 / 2) * (6 / 2) patches
        3,  # conv kernel + bias, position embeddings
        tmp_path,
    )


def test_indivisible_image_says_what_to_change():
    with pytest.raises(ValueError, match=r"divisible by `patch_size` \(4\)"):
        PatchEmbedding(patch_size=4, embedding_dim=5)(IMAGES)
