"""CTC pieces the speech model and its serving graph share: blank padding, greedy and lexicon decoding.

CTC (Graves et al., 2006) lets a model write a transcript shorter than its output without
an alignment: it emits one symbol per step, `BLANK` (id 0) or a character (ids 1..A), and a
transcript is read by merging repeats and dropping blanks ("--sseev-e-nn" -> "seven").
"""
from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

BLANK = 0
PADDING_LOGIT = 1e4  # a padded step's blank logit (every other is 0): probability 1 for blank


@keras.saving.register_keras_serializable(package="tfx_transformers")
class BlankPadding(keras.layers.Layer):
    """(logits (B, T, V), real (B, T) true for real steps) -> logits where every padded step is certainly blank.

    Then CTC over all T steps equals CTC over each clip's real steps (a certain blank adds
    nothing to the loss), so `keras.losses.CTC`, which assumes full length, is exact, and
    greedy decoding needs no lengths either."""

    def call(self, logits, real):
        vocabulary = ops.shape(logits)[-1]
        blank = ops.one_hot(ops.convert_to_tensor([BLANK]), vocabulary) * PADDING_LOGIT  # (1, V)
        return ops.where(ops.cast(real, "bool")[..., None], logits, ops.cast(blank[None], logits.dtype))

    def compute_output_shape(self, logits_shape, real_shape):
        return logits_shape


@keras.saving.register_keras_serializable(package="tfx_transformers")
class RealSteps(keras.layers.Layer):
    """(x (B, T, ...), lengths (B,)) -> (B, T) bool: true for the first `lengths` steps of each row,
    for any T (training batches are cut to their longest clip, serving reads the full length)."""

    def call(self, x, lengths):
        steps = ops.arange(ops.shape(x)[1])[None, :]  # (1, T)
        return ops.less(steps, ops.expand_dims(ops.cast(lengths, "int32"), 1))

    def compute_output_shape(self, x_shape, lengths_shape):
        return (x_shape[0], x_shape[1])

    def compute_output_spec(self, x, lengths):
        return keras.KerasTensor((x.shape[0], x.shape[1]), dtype="bool")


def greedy_decode(logits: tf.Tensor) -> tf.RaggedTensor:
    """(B, T, V) logits -> (B, None) symbol ids: the best symbol per step, repeats merged, blanks dropped."""
    best = tf.argmax(logits, axis=-1, output_type=tf.int32)  # (B, T)
    previous = tf.pad(best[:, :-1], [[0, 0], [1, 0]], constant_values=-1)
    keep = tf.logical_and(tf.not_equal(best, previous), tf.not_equal(best, BLANK))
    return tf.ragged.boolean_mask(best, keep)


@keras.saving.register_keras_serializable(package="tfx_transformers")
class GreedyTranscriptAccuracy(keras.metrics.Metric):
    """Share of clips whose greedy transcript (`greedy_decode`) is exactly the label: labels (B, L)
    character ids 0-padded on the right, logits (B, T, V). A CTC loss on voices the model has not
    heard keeps rising as the model grows confident on the voices it has, while the transcripts it
    writes keep improving; choosing the kept epoch on this (`trainer.keep_best_on: accuracy`)
    follows the transcripts."""

    def __init__(self, name: str = "accuracy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.exact = self.add_variable((), initializer="zeros", name="exact")
        self.clips = self.add_variable((), initializer="zeros", name="clips")

    def update_state(self, y_true, y_pred, sample_weight=None):
        del sample_weight
        labels = tf.cast(y_true, tf.int32)  # (B, L)
        written = greedy_decode(y_pred)  # (B, None)
        width = tf.maximum(tf.shape(labels)[1], tf.cast(written.bounding_shape()[1], tf.int32))
        dense = written.to_tensor(BLANK, shape=tf.stack([tf.shape(labels)[0], width]))  # (B, W)
        labels = tf.pad(labels, [[0, 0], [0, width - tf.shape(labels)[1]]])  # (B, W)
        exact = tf.reduce_all(tf.equal(dense, labels), axis=1)  # (B,)
        self.exact.assign_add(tf.reduce_sum(tf.cast(exact, self.dtype)))
        self.clips.assign_add(tf.cast(tf.shape(labels)[0], self.dtype))

    def result(self):
        return self.exact / tf.maximum(self.clips, 1.0)


def lexicon_decode(logits: tf.Tensor, lexicon: list[str], alphabet: str) -> tf.Tensor:
    """(B, T, V) logits -> (B,) strings: for each clip, the lexicon entry the model gives the highest
    CTC likelihood (summed over every alignment, as the training loss sums them).

    For a closed vocabulary (commands, digits) this turns near misses that greedy decoding
    spells out ("fiv", "eightt") into the word the model meant. It scores every entry for every
    clip (B x W CTC passes), so it suits tens of entries, not a dictionary. Padded steps are
    certainly blank (`BlankPadding`), so the full length T is exact for every clip."""
    ids = [[alphabet.index(character) + 1 for character in entry] for entry in lexicon]
    width = max(len(entry) for entry in ids)
    labels = tf.constant([entry + [0] * (width - len(entry)) for entry in ids], tf.int32)  # (W, L)
    lengths = tf.constant([len(entry) for entry in ids], tf.int32)  # (W,)
    batch, steps = tf.shape(logits)[0], tf.shape(logits)[1]
    log_probabilities = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)  # (B, T, V)

    def likelihood(entry):  # one entry's log-likelihood for every clip: (B,)
        label, length = entry
        return -tf.nn.ctc_loss(
            tf.tile(label[None], [batch, 1]), log_probabilities, tf.fill([batch], length), tf.fill([batch], steps),
            logits_time_major=False, blank_index=BLANK,
        )  # fmt: skip

    scores = tf.map_fn(likelihood, (labels, lengths), fn_output_signature=tf.float32)  # (W, B)
    return tf.gather(tf.constant(lexicon), tf.argmax(scores, axis=0))  # (B,)


def ids_to_text(ids: tf.RaggedTensor, alphabet: str) -> tf.Tensor:
    """(B, None) ids 1..A -> (B,) strings over `alphabet` (id i is alphabet[i - 1])."""
    characters = tf.constant(list(alphabet))
    return tf.strings.reduce_join(tf.gather(characters, ids - 1), axis=-1)
