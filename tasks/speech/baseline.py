"""The speech task's challenger: logistic regression on per-clip MFCC statistics.

Fitted by the Trainer on the train split only (scikit-learn; its penalty chosen on eval):
each clip becomes the mean and standard deviation, over its real frames, of the first
MFCC_COEFFICIENTS MFCCs of the standardized log-mel spectrogram the transformer reads, and
the classes are the transcripts seen in train. It can only say a transcript it has heard,
which on a closed vocabulary such as spoken digits is a strong bar. It is carried into the
SavedModel as TensorFlow ops (`MfccClassifier`), so the Evaluator and the Scorer score it on
the very clips they score the candidate on.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from components.classification import logistic_regression_weights
from tasks.speech import features

MFCC_COEFFICIENTS = 20
PENALTIES = (0.1, 1.0, 10.0)  # inverse L2 strengths (C); the best on eval accuracy is kept


def clip_features(transformed: dict) -> tf.Tensor:
    """{spectrogram (B, F, M), frames (B,)} -> (B, 2 * MFCC_COEFFICIENTS): mean and std of MFCCs over real frames."""
    spectrogram = transformed[features.SPECTROGRAM_KEY]
    coefficients = min(MFCC_COEFFICIENTS, spectrogram.shape[-1])
    mfccs = tf.signal.mfccs_from_log_mel_spectrograms(spectrogram)[..., :coefficients]  # (B, F, K)
    real = tf.cast(tf.sequence_mask(transformed[features.FRAMES_KEY], tf.shape(spectrogram)[1]), tf.float32)[..., None]
    count = tf.maximum(tf.reduce_sum(real, axis=1), 1.0)  # (B, 1)
    mean = tf.reduce_sum(mfccs * real, axis=1) / count  # (B, K)
    variance = tf.reduce_sum(tf.square(mfccs - mean[:, None]) * real, axis=1) / count
    return tf.concat([mean, tf.sqrt(variance + 1e-6)], axis=-1)


def fit_baseline(train: tuple, evaluation: tuple, seed: int = 0, penalties=PENALTIES):
    """(classifier, C, {C: eval accuracy}). `train`, `evaluation`: (clip features (N, K), transcripts (N,))."""
    x_train, y_train = train
    classes = sorted(set(y_train))
    index = {c: i for i, c in enumerate(classes)}
    labels = np.array([index[y] for y in y_train])
    scaler = StandardScaler().fit(x_train)
    fits, accuracy = {}, {}
    for penalty in penalties:
        fits[penalty] = LogisticRegression(C=penalty, max_iter=2000, random_state=seed).fit(scaler.transform(x_train), labels)
        predicted = np.array(classes, dtype=object)[fits[penalty].predict(scaler.transform(evaluation[0]))]
        accuracy[penalty] = float(np.mean(predicted == np.asarray(evaluation[1], dtype=object)))
    best = max(accuracy, key=accuracy.get)
    weights, bias = logistic_regression_weights(fits[best], len(classes))
    # Fold the scaler in: (x - mean) / scale @ W + b == x @ (W / scale) + (b - mean / scale @ W).
    weights, bias = weights / scaler.scale_[:, None], bias - (scaler.mean_ / scaler.scale_) @ weights
    return MfccClassifier(weights, bias, classes), best, accuracy


class MfccClassifier(tf.Module):
    """Transformed clips -> (B,) the most probable train transcript, as the fitted logistic regression."""

    def __init__(self, weights: np.ndarray, bias: np.ndarray, transcripts: list[str]):
        super().__init__(name="mfcc_classifier")
        self.weights = tf.Variable(np.asarray(weights, np.float32), trainable=False, name="weights")  # (K, C)
        self.bias = tf.Variable(np.asarray(bias, np.float32), trainable=False, name="bias")  # (C,)
        self.transcripts = tf.constant(transcripts)  # (C,)

    def __call__(self, transformed: dict) -> tf.Tensor:
        logits = clip_features(transformed) @ self.weights + self.bias  # (B, C)
        return tf.gather(self.transcripts, tf.argmax(logits, axis=-1))
