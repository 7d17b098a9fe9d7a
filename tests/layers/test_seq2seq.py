import keras
import numpy as np
import pytest

from models.seq2seq import build_transformer, greedy_decode

VOCAB, LENGTH, START = 10, 6, 1  # id 0 is padding, 1 the start token, 2..9 the content


def reverse_task(n, seed):
    """Source: random content tokens; target: the same tokens reversed."""
    rng = np.random.default_rng(seed)
    source = rng.integers(2, VOCAB, size=(n, LENGTH)).astype("int32")
    target = source[:, ::-1].copy()
    decoder_inputs = np.concatenate([np.full((n, 1), START, "int32"), target[:, :-1]], axis=1)
    return {"encoder_inputs": source, "decoder_inputs": decoder_inputs}, target


def small_transformer(**kwargs):
    return build_transformer(
        VOCAB, VOCAB, LENGTH, LENGTH, embedding_dim=32, num_layers=1, num_heads=4,
        intermediate_dim=64, **kwargs,
    )


@pytest.mark.slow
def test_transformer_learns_to_reverse():
    keras.utils.set_random_seed(0)
    model = small_transformer()
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=False,
    )
    x, y = reverse_task(4000, seed=1)
    model.fit(x, y, batch_size=64, epochs=2, verbose=0)
    x_test, y_test = reverse_task(300, seed=2)  # held out
    teacher_forced = np.argmax(model.predict(x_test, verbose=0), axis=-1)
    assert (teacher_forced == y_test).mean() >= 0.95
    generated = greedy_decode(model, x_test["encoder_inputs"], START)
    assert (generated == y_test).mean() >= 0.95


@pytest.mark.slow
def test_transformer_saves_and_reloads(tmp_path):
    keras.utils.set_random_seed(0)
    model = small_transformer(dropout=0.1)
    x, _ = reverse_task(2, seed=3)
    x["encoder_inputs"][1, 4:] = 0  # the second source has 4 tokens and 2 pads
    logits = model(x).numpy()
    assert logits.shape == (2, LENGTH, VOCAB)
    assert np.isfinite(logits).all()

    # Samples are independent: changing the first source leaves the second's logits.
    changed = {k: v.copy() for k, v in x.items()}
    changed["encoder_inputs"][0] = 9
    np.testing.assert_allclose(model(changed).numpy()[1], logits[1], atol=1e-5)

    path = str(tmp_path / "transformer.keras")
    model.save(path)
    np.testing.assert_allclose(keras.saving.load_model(path)(x).numpy(), logits, atol=1e-5)
