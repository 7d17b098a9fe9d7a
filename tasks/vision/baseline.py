"""The vision task's challenger: logistic regression on pixels.

Fitted by the Trainer on the train split only (scikit-learn; its penalty chosen on eval),
on the same standardized pixels the ViT reads, then carried into the SavedModel as
TensorFlow ops (`PixelClassifier`), so the Evaluator and the Scorer score it on the very
examples they score the candidate on.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf
from sklearn.linear_model import LogisticRegression

from components.classification import logistic_regression_weights

PENALTIES = (0.01, 0.1)  # inverse L2 strengths (C); the best on eval accuracy is kept
MAX_TRAIN_IMAGES = 20000  # a larger train split is subsampled (seeded) for the challenger


def fit_baseline(train: tuple, evaluation: tuple, num_classes: int, seed: int = 0, penalties=PENALTIES):
    """(classifier, C, {C: eval accuracy}). `train`, `evaluation`: (pixels (N, H, W, C), label ids (N,))."""
    pixels, labels = train
    if len(pixels) > MAX_TRAIN_IMAGES:
        keep = np.random.RandomState(seed).choice(len(pixels), MAX_TRAIN_IMAGES, replace=False)
        pixels, labels = pixels[keep], labels[keep]
    x_train = pixels.reshape(len(pixels), -1)
    x_eval = evaluation[0].reshape(len(evaluation[0]), -1)
    fits, accuracy = {}, {}
    for penalty in penalties:
        fits[penalty] = LogisticRegression(C=penalty, max_iter=300).fit(x_train, labels)
        accuracy[penalty] = float(fits[penalty].score(x_eval, evaluation[1]))
    best = max(accuracy, key=accuracy.get)
    return PixelClassifier.from_sklearn(fits[best], num_classes), best, accuracy


class PixelClassifier(tf.Module):
    """(B, H, W, C) standardized pixels -> (B, classes) probabilities, as the fitted logistic regression."""

    def __init__(self, weights: np.ndarray, bias: np.ndarray):
        super().__init__(name="pixel_classifier")
        self.weights = tf.Variable(np.asarray(weights, np.float32), trainable=False, name="weights")  # (P, K)
        self.bias = tf.Variable(np.asarray(bias, np.float32), trainable=False, name="bias")  # (K,)

    @classmethod
    def from_sklearn(cls, model: LogisticRegression, num_classes: int):
        return cls(*logistic_regression_weights(model, num_classes))

    def __call__(self, pixels: tf.Tensor) -> tf.Tensor:
        flat = tf.reshape(pixels, (tf.shape(pixels)[0], -1))  # (B, P)
        return tf.nn.softmax(flat @ self.weights + self.bias)
