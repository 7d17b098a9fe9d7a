"""LayerStack is abstract (Encoder and Decoder are its subclasses): it is tested through the
smallest concrete stack, TransformerBlocks applied in turn."""
import keras
import numpy as np
import pytest
from harness import run_layer_test

from models.layers import Decoder, Encoder, TransformerBlock
from models.layers.stack import LayerStack

X = np.random.default_rng(0).normal(size=(2, 4, 6)).astype("float32")
BLOCK_WEIGHTS = 16  # attention 8, 2 LayerNorms 4, 2 Dense 4
ARGUMENTS = {
    "num_heads": 2,
    "intermediate_dim": 5,
    "dropout": 0.1,
    "activation": "gelu",
    "layer_norm_epsilon": 1e-3,
}


@keras.saving.register_keras_serializable(package="tests_layers")
class BlockStack(LayerStack):
    """`num_layers` TransformerBlocks over x (B, T, D) -> (B, T, D), then the final norm."""

    def build(self, x_shape):
        self.blocks = self.build_layers(TransformerBlock, "block", x_shape)
        self.built = True

    def call(self, x, training=None):
        for block in self.blocks:
            x = block(x, training=training)
        return self.normalize(x)

    def compute_output_shape(self, x_shape):
        return x_shape


@pytest.mark.parametrize(
    "num_layers, norm_first, weights",
    [(2, False, 2 * BLOCK_WEIGHTS), (1, True, BLOCK_WEIGHTS + 2)],  # + the final LayerNorm
    ids=["post_norm", "pre_norm"],
)
@pytest.mark.slow
def test_layer_stack(tmp_path, num_layers, norm_first, weights):
    run_layer_test(
        BlockStack,
        {"num_layers": num_layers, "norm_first": norm_first, **ARGUMENTS},
        {"x": X},
        (2, 4, 6),
        weights,
        tmp_path,
    )


@pytest.mark.parametrize("norm_first", [False, True], ids=["post_norm", "pre_norm"])
def test_every_layer_gets_the_stack_arguments(norm_first):
    stack = BlockStack(3, norm_first=norm_first, dtype="float64", **ARGUMENTS)
    stack.build(X.shape)
    assert [b.name for b in stack.blocks] == ["block_0", "block_1", "block_2"]
    expected = {"norm_first": norm_first, **ARGUMENTS}
    for block in stack.blocks:
        config = block.get_config()
        assert {k: config[k] for k in expected} == expected
        assert block.dtype_policy.name == "float64"
    if norm_first:
        assert stack.final_norm.epsilon == ARGUMENTS["layer_norm_epsilon"]
    else:
        assert stack.final_norm is None


@pytest.mark.parametrize("norm_first", [False, True], ids=["post_norm", "pre_norm"])
def test_applies_its_layers_in_turn_then_the_final_norm(norm_first):
    stack = BlockStack(3, norm_first=norm_first, **ARGUMENTS)
    out = stack(X).numpy()
    h = X
    for block in stack.blocks:
        h = block(h)
    if norm_first:
        h = stack.final_norm(h)
    np.testing.assert_allclose(out, np.asarray(h), rtol=1e-5, atol=1e-6)
    # Three distinct layers: dropping the last one changes the output.
    partial = stack.blocks[1](stack.blocks[0](X))
    assert not np.allclose(out, np.asarray(stack.normalize(partial)), atol=1e-3)


@pytest.mark.parametrize("cls", [Encoder, Decoder])
def test_encoder_and_decoder_keep_num_layers_in_their_config(cls):
    layer = cls(3, 2, 16, norm_first=True)
    config = layer.get_config()
    assert config["num_layers"] == 3
    assert cls.from_config(config).num_layers == 3


def test_no_layers_says_what_to_change():
    with pytest.raises(ValueError, match=r"`num_layers` \(0\) must be >= 1"):
        BlockStack(0, 2, 16)
