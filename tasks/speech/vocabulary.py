"""Which transcripts the speech model may write, and the eval and test transcripts it could not.

An open vocabulary (any spelling over the alphabet) is decoded greedily; a closed one (every
clip says one of the train transcripts: commands, digits) by the lexicon, the likeliest train
transcript under CTC. The lexicon turns near misses ("eigh", "twor") into the word meant, but a
clip whose transcript is not a train transcript can never be right with it, and nothing else
would show it. So a closed vocabulary is declared, never assumed:

- `open` (the code's default): greedy decoding.
- `closed`: lexicon decoding, on any data. Declare it for your recordings only when every clip
  the model will hear says one of the train transcripts.
- `closed_if_vendored` (what tasks/speech/config.yaml declares): closed for the vendored digits
  (`data: null`: every clip says one of ten words), open for your recordings (DATA=...). A copy
  of the shipped config pointed at your own clips therefore decodes open.

Whatever the decoding, the Scorer counts the eval and test transcripts outside the lexicon
(`outside_lexicon` in the scores) and warns when lexicon decoding meets any.
"""
from __future__ import annotations

from collections.abc import Iterable

from data.config import PipelineConfig

OPEN = "open"
CLOSED = "closed"
CLOSED_IF_VENDORED = "closed_if_vendored"
VOCABULARIES = (OPEN, CLOSED, CLOSED_IF_VENDORED)
GREEDY = "greedy"  # decodings: the best symbol per step, repeats merged, blanks dropped
LEXICON = "lexicon"  # the likeliest lexicon entry (models.ctc.lexicon_decode)
# The candidate's SavedModel carries both (tf.string variables), so that the Scorer reports what the model does.
LEXICON_ATTRIBUTE = "lexicon"  # the distinct train transcripts, whatever the decoding
DECODING_ATTRIBUTE = "decoding"  # how its `transcript` output is decoded: GREEDY or LEXICON


def is_closed(vocabulary: str, data: str | None) -> bool:
    """Whether `speech.vocabulary` declares a closed vocabulary for this data (None: the vendored digits)."""
    return vocabulary == CLOSED or (vocabulary == CLOSED_IF_VENDORED and data is None)


def decoding(config: PipelineConfig) -> str:
    """LEXICON for a declared closed vocabulary, else GREEDY."""
    return LEXICON if is_closed(config.speech.vocabulary, config.data) else GREEDY


def lexicon_of(train_transcripts: Iterable[str]) -> list[str]:
    """The lexicon: the distinct train transcripts, sorted (so that a rerun builds the same graph)."""
    return sorted(set(train_transcripts))


def count_outside(transcripts: Iterable[str], lexicon: Iterable[str]) -> int:
    """How many of `transcripts` (one per clip) are not lexicon entries."""
    known = set(lexicon)
    return sum(transcript not in known for transcript in transcripts)


def warning(how: str, lexicon_size: int, outside: dict[str, int], examples: dict[str, int]) -> str | None:
    """What to tell a user whose eval or test transcripts are not among the train transcripts
    (None when there are none): lexicon decoding can never write them; greedy decoding can,
    but the model never heard them said."""
    if not any(outside.values()):
        return None
    counts = ", ".join(f"{outside[split]} of {examples[split]} {split}" for split in outside)
    if how != LEXICON:
        return (
            f"{counts} transcripts are not among the {lexicon_size} train transcripts: greedy decoding may spell "
            "them, but the model never heard them said in training; their scores show how it does on new words"
        )
    return (
        f"{counts} transcripts are not among the {lexicon_size} train transcripts, and lexicon decoding "
        "can never write them (they count as errors). If new words are expected, set speech.vocabulary: open "
        "(greedy decoding); the scores' model_greedy row shows how greedy decoding does"
    )
