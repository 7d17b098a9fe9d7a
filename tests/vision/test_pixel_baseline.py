import numpy as np
import tensorflow as tf

from tasks.vision.baseline import fit_baseline


def test_the_exported_pixel_classifier_equals_sklearn_and_picks_c_on_eval():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 300)
    pixels = rng.normal(size=(300, 4, 4, 1)).astype("float32")
    pixels[np.arange(300), labels, 0, 0] += 3.0  # a bright pixel per class: linearly separable
    train, evaluation = (pixels[:200], labels[:200]), (pixels[200:], labels[200:])
    classifier, penalty, accuracy = fit_baseline(train, evaluation, num_classes=4)  # class 3 never seen
    assert penalty == max(accuracy, key=accuracy.get)
    probabilities = classifier(tf.constant(evaluation[0])).numpy()
    assert probabilities.shape == (100, 4)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert probabilities[:, 3].max() < 1e-6  # an unseen class is never predicted
    assert (probabilities.argmax(axis=1) == evaluation[1]).mean() == accuracy[penalty]
