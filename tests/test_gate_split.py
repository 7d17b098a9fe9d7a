"""The eval split cut into a selection part and a gate part (components/examples_io.carve_gate)."""
import pytest
import tensorflow as tf

from components import examples_io
from data.splits import GATE_SPLIT


def _write_eval(uri, n: int) -> None:
    examples_io.write_split(str(uri), "eval", (examples_io.to_tf_example({"i": [i]}) for i in range(n)))


def _ids(uri, split: str) -> list[int]:
    return [tf.train.Example.FromString(r).features.feature["i"].int64_list.value[0] for r in examples_io.read_split(str(uri), split)]


def test_ordered_examples_give_the_gate_the_later_half_and_purge_the_overlap(tmp_path):
    _write_eval(tmp_path, 20)
    counts = examples_io.carve_gate(str(tmp_path), ordered=True, purge=3)
    assert _ids(tmp_path, GATE_SPLIT) == list(range(10, 20))  # the later half, in time order
    assert _ids(tmp_path, "eval") == list(range(0, 7))  # 7, 8, 9 share targets with the gate's first windows
    assert counts == {"eval": 7, GATE_SPLIT: 10}


def test_unordered_examples_are_cut_by_a_seeded_draw_and_keep_their_order(tmp_path):
    _write_eval(tmp_path / "a", 100)
    _write_eval(tmp_path / "b", 100)
    examples_io.carve_gate(str(tmp_path / "a"), ordered=False, seed=1)
    examples_io.carve_gate(str(tmp_path / "b"), ordered=False, seed=1)
    selection, gate = _ids(tmp_path / "a", "eval"), _ids(tmp_path / "a", GATE_SPLIT)
    assert sorted(selection + gate) == list(range(100)) and not set(selection) & set(gate)
    assert len(gate) == 50 and gate == sorted(gate) and gate != list(range(50, 100))  # not simply the later half
    assert _ids(tmp_path / "b", GATE_SPLIT) == gate  # the same seed, the same cut


def test_a_tiny_eval_split_is_cut_without_error_and_the_purge_never_empties_selection(tmp_path):
    _write_eval(tmp_path, 3)  # data validation, not the cut, says what is wrong with such data
    assert examples_io.carve_gate(str(tmp_path), ordered=True, purge=5) == {"eval": 1, GATE_SPLIT: 2}


def test_a_stratified_cut_keeps_each_class_in_proportion(tmp_path):
    labels = ["a"] * 24 + ["b"] * 12  # stored class by class, as some writers do
    examples_io.write_split(str(tmp_path), "eval", (examples_io.to_tf_example({"label": [x], "i": [i]}) for i, x in enumerate(labels)))
    examples_io.carve_gate(str(tmp_path), ordered=False, seed=3, stratify="label")
    for split in ("eval", GATE_SPLIT):
        kept = examples_io.first_strings(examples_io.read_split(str(tmp_path), split), "label")
        assert (kept.count("a"), kept.count("b")) == (12, 6)  # 2:1, as in the whole eval split


def test_a_stable_cut_keeps_each_example_in_its_part_as_more_examples_arrive(tmp_path):
    """Spans: an example the selection part held (a deployed model was kept on it) never moves to the gate."""
    _write_eval(tmp_path / "first", 200)
    _write_eval(tmp_path / "grown", 300)  # the same 200 examples, then 100 new ones
    for name in ("first", "grown"):
        examples_io.carve_gate(str(tmp_path / name), ordered=False, seed=3, stratify="i", stable=True)
    first_gate, grown_gate = set(_ids(tmp_path / "first", GATE_SPLIT)), set(_ids(tmp_path / "grown", GATE_SPLIT))
    assert grown_gate & set(range(200)) == first_gate
    assert 0.4 < len(grown_gate) / 300 < 0.6  # half in expectation
    unstable = tmp_path / "unstable"
    _write_eval(unstable, 300)
    examples_io.carve_gate(str(unstable), ordered=False, seed=3)
    assert set(_ids(unstable, GATE_SPLIT)) & set(range(200)) != first_gate  # what the stable cut prevents


@pytest.mark.slow
def test_the_cut_streams_the_split_instead_of_holding_it(tmp_path):
    """At 100x the data the eval split is GBs (bench/scale.py): the cut holds a chunk of records
    and one small value per example, never the whole split."""
    import tracemalloc

    import numpy as np

    payload = np.random.default_rng(0).random(512).astype(np.float32)  # ~2 KB per example, 20 MB in all
    examples_io.write_split(str(tmp_path), "eval", (examples_io.to_tf_example({"i": [i], "x": payload}) for i in range(10_000)))
    tracemalloc.start()
    try:
        counts = examples_io.carve_gate(str(tmp_path), ordered=True, purge=3)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert counts == {"eval": 4997, GATE_SPLIT: 5000}
    assert _ids(tmp_path, GATE_SPLIT)[:2] == [5000, 5001]
    assert peak < 10 * 2**20  # a chunk or two (1024 x 2 KB each), not the 20 MB split
