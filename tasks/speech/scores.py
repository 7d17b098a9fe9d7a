"""The Scorer's function for speech: the candidate and the MFCC challenger on eval and test clips.

It runs the candidate's `evaluation` signature on the raw examples (WAV bytes, as served)
and scores every transcript with the same arithmetic (components/transcripts.py): the
candidate as it serves (`model`: lexicon or greedy decoding, as `speech.vocabulary` declares),
the same logits read greedily (`model_greedy`: greedy CER beside lexicon CER) and the challenger.
It counts the eval and test transcripts outside the lexicon (the train transcripts), which
lexicon decoding cannot write, and warns when lexicon decoding meets any (tasks/speech/vocabulary.py).
"""
from __future__ import annotations

import tensorflow as tf

from components import examples_io, export
from components.transcripts import transcript_scores
from data.notices import notices
from tasks.speech import features, vocabulary

SPLITS = ("eval", "test")
TRANSCRIBERS = {  # scores row -> the evaluation signature's output
    "model": features.TRANSCRIPT_KEY,
    "model_greedy": features.GREEDY_TRANSCRIPT_KEY,
    "baseline": features.baseline_output_key(features.TRANSCRIPT_KEY),
}


def score(model_dir: str, examples_uri: str, config: dict) -> dict:
    """{split: {"model"|"model_greedy"|"baseline": {"accuracy", "cer"}}, "examples": {split: N},
    "decoding": "lexicon"|"greedy", "lexicon_size": W, "outside_lexicon": {split: clips}}."""
    del config  # the alphabet, the lexicon and the decoding travel in the model
    model = tf.saved_model.load(model_dir)
    signature = model.signatures[export.EVALUATION_SIGNATURE]
    lexicon = [entry.decode() for entry in getattr(model, vocabulary.LEXICON_ATTRIBUTE).numpy()]
    how = getattr(model, vocabulary.DECODING_ATTRIBUTE).numpy().decode()
    result: dict = {"examples": {}, "decoding": how, "lexicon_size": len(lexicon), "outside_lexicon": {}}
    for split in SPLITS:
        records = examples_io.read_split(examples_uri, split)
        outputs = export.call_in_batches(signature, records, 128)
        truth = examples_io.first_strings(records, features.TRANSCRIPT_KEY)
        result[split] = {
            name: transcript_scores(truth, [t.decode() for t in outputs[key].reshape(-1)])
            for name, key in TRANSCRIBERS.items()
        }
        result["examples"][split] = len(records)
        result["outside_lexicon"][split] = vocabulary.count_outside(truth, lexicon)
    message = vocabulary.warning(how, len(lexicon), result["outside_lexicon"], result["examples"])
    if message:
        notices().warning(f"Scorer: {message}")
    return result
