"""The shipped NER's fast paths give exactly what the straightforward definitions give.

The featurizer gathers a batch's arrays from per-word tables, the feature CRF
sums its weights for a whole batch in one ``np.add.reduceat``, the gazetteer
caches per word, and Viterbi runs over a batch at once. Each is checked here
against a plain reference written the direct way (string keys hashed one by
one, feature dicts, one sentence at a time), on the shipped model's files:
the ids must be equal and the scores equal to the bit.
"""
from __future__ import annotations

import sys
import threading
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from akhbar.core.text import proclitic_stems
from akhbar.lib.models import NER_MODEL
from akhbar.lib.ner import load_runtime
from akhbar.lib.ner.canonical import proclitic_forms
from akhbar.lib.ner.crf import FeatureCrf, attributes, sentence_features
from akhbar.lib.ner.entities import windows
from akhbar.lib.ner.features import (
    MAX_CHARS,
    MAX_PIECES,
    SPARSE_BUCKETS,
    UNK,
    WordFeaturizer,
    affix_ids,
    norm_word,
    shape_id,
    sparse_feature_ids,
    split_words,
)
from akhbar.lib.ner.gazetteer import Gazetteer
from akhbar.lib.ner.runtime import _softmax, viterbi, viterbi_batch
from akhbar.sample.corpus import load_corpus

LETTERS = "ابتثجحخدذرسشصضطظعغفقكلمنهويءآأإؤئةى"
MARKS = "\u064b\u064e\u064f\u0650\u0651\u0652\u0640\u200f"
OTHER = "0123456789٠١٢٣abcXYZ.,،:-()«»"


@pytest.fixture(scope="module")
def runtime():
    return load_runtime(NER_MODEL, threads=1)


@pytest.fixture(scope="module")
def pools(runtime):
    """Words to draw from: real vocabulary words, gazetteer phrases (so names are matched), name parts."""
    gazetteer = runtime.featurizer.gazetteer
    return {"vocab": runtime.featurizer.vocab.words[2:3000:3], "phrases": sorted(" ".join(p) for p in gazetteer.phrases)[::3],
            "parts": sorted(gazetteer.parts)[::3]}


def word_lists(pools, max_words: int = 70):
    """Lists of Arabic-ish words: made-up words with marks, digits, Latin and punctuation, vocabulary words,
    gazetteer phrases and name parts, some with a proclitic in front."""
    made_up = st.text(LETTERS + MARKS + OTHER, min_size=1, max_size=14).filter(lambda w: w.strip() == w and w)
    chunk = st.one_of(
        made_up.map(lambda w: [w]),
        st.sampled_from(pools["vocab"]).map(lambda w: [w]),
        st.sampled_from(pools["parts"]).map(lambda w: [w]),
        st.sampled_from(pools["phrases"]).map(str.split),
    )
    with_clitic = st.tuples(st.sampled_from(["", "", "و", "ب", "لل", "وال", "ف"]), chunk).map(
        lambda pc: [pc[0] + pc[1][0], *pc[1][1:]])
    return st.lists(with_clitic, max_size=max_words // 2).map(lambda chunks: [w for c in chunks for w in c][:max_words])


# -- references: the features as first written, one key at a time ----------------------------------------------

def _h(key: str) -> int:
    return 1 + zlib.crc32(key.encode("utf-8")) % (SPARSE_BUCKETS - 1)


def _word_keys(nw: str, shape: int, at: str) -> list[str]:
    keys = [f"{at}w:{nw}", f"{at}p2:{nw[:2]}", f"{at}p3:{nw[:3]}", f"{at}s2:{nw[-2:]}", f"{at}s3:{nw[-3:]}",
            f"{at}sh:{shape}"]
    return keys + [f"{at}st:{stem}" for stem in proclitic_stems(nw)[:2]]


def reference_sparse(words, norms, max_sparse, extra):
    n = len(words)
    out = []
    for i, nw in enumerate(norms):
        ids = [_h("bias")]
        if extra is not None:
            keys = list(extra[i])
            keys += [f"-1:{k}" for k in extra[i - 1]] if i > 0 else []
            keys += [f"+1:{k}" for k in extra[i + 1]] if i + 1 < n else []
            ids += [_h(k) for k in keys]
        own = [f"p1:{nw[:1]}", f"s1:{nw[-1:]}", f"p4:{nw[:4]}", f"s4:{nw[-4:]}", f"len:{min(len(nw), 10)}"]
        ids += [_h(k) for k in own + _word_keys(nw, shape_id(words[i]), "")]
        for off in (-2, -1, 1, 2):
            j = i + off
            if 0 <= j < n:
                ids += [_h(k) for k in _word_keys(norms[j], shape_id(words[j]), f"{off}:")[:4]]
            else:
                ids.append(_h(f"{off}:edge"))
        if i > 0:
            ids.append(_h(f"b-1:{norms[i - 1]}|{nw}"))
        if i + 1 < n:
            ids.append(_h(f"b+1:{nw}|{norms[i + 1]}"))
        out.append(ids[:max_sparse])
    return out


def reference_encode(f: WordFeaturizer, sentences):
    n = len(sentences)
    length = max((len(s) for s in sentences), default=1) or 1
    shapes = {"word_ids": (), "stem_ids": (), "piece_ids": (MAX_PIECES,), "char_ids": (MAX_CHARS,), "affix_ids": (4,),
              "shape_ids": (), "sparse_ids": (f.max_sparse,), "mask": ()}
    out = {k: np.zeros((n, length, *s), np.int64) for k, s in shapes.items()}
    for b, words in enumerate(sentences):
        norms = [norm_word(w) for w in words]
        extra = reference_keys(f.gazetteer, norms) if f.gazetteer is not None else None
        for t, ids in enumerate(reference_sparse(words, norms, f.max_sparse, extra)):
            out["sparse_ids"][b, t, : len(ids)] = ids
        for t, (word, nw) in enumerate(zip(words, norms)):
            out["word_ids"][b, t] = f.vocab.word_index.get(nw, UNK)
            stem = next((f.vocab.word_index[s] for s in proclitic_stems(nw) if s in f.vocab.word_index), None)
            out["stem_ids"][b, t] = f.vocab.word_index.get(nw, UNK) if stem is None else stem
            pieces = f.tokenizer.encode(nw, add_special_tokens=False).ids[:MAX_PIECES] or [UNK]
            out["piece_ids"][b, t, : len(pieces)] = pieces
            chars = [f.vocab.char_index.get(c, UNK) for c in nw[:MAX_CHARS]]
            out["char_ids"][b, t, : len(chars)] = chars
            out["affix_ids"][b, t] = affix_ids(nw)
            out["shape_ids"][b, t] = shape_id(word)
            out["mask"][b, t] = 1
    return out


def reference_keys(g: Gazetteer, norms):
    out = [[] for _ in norms]
    i, n = 0, len(norms)
    while i < n:
        found = None
        forms = (norms[i], *proclitic_forms(norms[i]))
        for size in range(min(g.longest, n - i), 0, -1):
            for first in forms:
                kind = g.phrases.get((first, *norms[i + 1: i + size]))
                if kind is not None:
                    found = (size, kind)
                    break
            if found:
                break
        if found is None:
            kind = next((g.parts[f] for f in forms if f in g.parts), None)
            if kind is not None:
                out[i].append(f"gz:P-{kind}")
            i += 1
            continue
        size, kind = found
        out[i].append(f"gz:B-{kind}")
        for j in range(i + 1, i + size):
            out[j].append(f"gz:I-{kind}")
        i += size
    return out


def reference_crf(crf: FeatureCrf, tokens, extra=None) -> np.ndarray:
    """The weighted sum over each word's attributes of ``sentence_features``, after a zero row."""
    if not tokens:
        return np.zeros((0, len(crf.labels)), np.float32)
    rows, values, starts = [], [], []
    for features in sentence_features(tokens, extra):
        starts.append(len(rows))
        rows.append(len(crf.attrs))
        values.append(0.0)
        for attr, value in attributes(features):
            if attr in crf.index:
                rows.append(crf.index[attr])
                values.append(value)
    table = np.vstack([crf.weights, np.zeros((1, len(crf.labels)), np.float32)])
    return np.add.reduceat(table[np.asarray(rows)] * np.asarray(values, np.float32)[:, None], np.asarray(starts), axis=0)


def reference_tag(rt, sentences):
    """``tag`` one sentence at a time from the reference features and CRF sums."""
    em = rt.emissions(reference_encode(rt.featurizer, sentences))
    transitions, start, end = rt.crf
    if rt.feature_crf is not None:
        transitions = transitions + rt.crf_weight * rt.feature_crf.transitions
    out = []
    for i, words in enumerate(sentences):
        e = em[i, : len(words)]
        if rt.feature_crf is not None:
            e = e + rt.crf_weight * reference_crf(rt.feature_crf, words)
        if rt.tag_bias is not None:
            e = e + rt.tag_bias
        probs = _softmax(e)
        out.append([(rt.labels[t], float(probs[j, t])) for j, t in enumerate(viterbi(e, transitions, start, end))])
    return out


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype == np.float32 and a.shape == b.shape and np.array_equal(a.view(np.uint32), b.view(np.uint32))


def _assert_same_arrays(got: dict, want: dict) -> None:
    assert list(got) == list(want)
    for name in want:
        assert got[name].dtype == want[name].dtype, name
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


# -- the tests ---------------------------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_featurizer_equals_the_word_by_word_reference(runtime, pools, data):
    f = runtime.featurizer
    batch = data.draw(st.lists(word_lists(pools), min_size=1, max_size=4))
    _assert_same_arrays(f.encode(batch), reference_encode(f, batch))
    for words in batch:
        norms = [norm_word(w) for w in words]
        extra = reference_keys(f.gazetteer, norms)
        assert f.gazetteer.keys(norms) == extra
        assert sparse_feature_ids(words, norms, f.max_sparse, extra) == reference_sparse(words, norms, f.max_sparse, extra)


def test_featurizer_tables_start_over_when_full(runtime, pools):
    """A tiny table: it is refilled between batches, and grown for a batch of more new words than it holds."""
    f = runtime.featurizer
    small = WordFeaturizer(f.vocab, f.tokenizer, max_sparse=f.max_sparse, gazetteer=f.gazetteer, cache_words=40)
    corpus = [[t[a:b] for a, b in split_words(t)][:64] for t in (a.text for a in load_corpus()[:12])]
    for batch in ([corpus[0][:20]], [corpus[1][:30], corpus[2][:5]], corpus[3:6], [corpus[0][:20]], corpus[6:12]):
        _assert_same_arrays(small.encode(batch), reference_encode(f, batch))
    assert len(small._words) <= len(small._table) - 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_crf_emissions_equal_the_feature_dict_sums_to_the_bit(runtime, pools, data):
    crf = runtime.feature_crf
    batch = data.draw(st.lists(word_lists(pools), min_size=1, max_size=4))
    both = crf.emissions_batch(batch)
    for i, words in enumerate(batch):
        want = reference_crf(crf, words)
        assert _same_bits(crf.emissions(words), want)
        assert _same_bits(both[i, : len(words)], want)
        assert not both[i, len(words):].any()
    words = [w for s in batch for w in s][:64]
    extra = reference_keys(runtime.featurizer.gazetteer, [norm_word(w) for w in words])
    if words:
        assert _same_bits(crf.emissions(words, extra), reference_crf(crf, words, extra))


def test_crf_tables_start_over_when_full(runtime):
    crf = runtime.feature_crf
    small = FeatureCrf(crf.labels, crf.attrs, crf.weights, crf.transitions, cache_words=40)
    corpus = [[t[a:b] for a, b in split_words(t)][:64] for t in (a.text for a in load_corpus()[:8])]
    for batch in ([corpus[0][:20]], [corpus[1][:30], corpus[2][:5]], corpus[3:6], [corpus[0][:20]], corpus[5:8]):
        got = small.emissions_batch(batch)
        for i, words in enumerate(batch):
            assert _same_bits(got[i, : len(words)], reference_crf(crf, words))


@settings(max_examples=200, deadline=None)
@given(lengths=st.lists(st.integers(0, 12), min_size=1, max_size=6), seed=st.integers(0, 2**32 - 1),
       ties=st.booleans())
def test_batch_viterbi_equals_one_sequence_at_a_time(lengths, seed, ties):
    rng = np.random.default_rng(seed)
    k = 5
    # Small integers make many equal scores: the first best must win in both, as argmax picks it.
    draw = (lambda *s: rng.integers(-2, 3, s).astype(np.float32)) if ties else (lambda *s: rng.normal(size=s).astype(np.float32))
    em, transitions, start, end = draw(len(lengths), max(lengths, default=0) or 1, k), draw(k, k), draw(k), draw(k)
    got = viterbi_batch(em, lengths, transitions, start, end)
    assert got == [viterbi(em[i, :n], transitions, start, end) for i, n in enumerate(lengths)]


def test_tags_and_probabilities_equal_the_one_sentence_reference(runtime):
    """The shipped default (model + feature CRF + tag bias) on real news windows: same tags, same probabilities."""
    words = [[t[a:b] for a, b in split_words(t)] for t in (a.text for a in load_corpus()[:40])]
    jobs = [w[s:e] for w in words for s, e in windows(len(w), runtime.max_words, 16)]
    jobs += [[], ["."], words[0][:3]]
    assert runtime.crf_weight > 0 and runtime.tag_bias is not None
    for i in range(0, len(jobs), 32):
        batch = jobs[i: i + 32]
        assert runtime.tag(batch) == reference_tag(runtime, batch)
    alone = load_runtime(NER_MODEL, threads=1, crf_weight=0)
    assert alone.tag(jobs[:32]) == reference_tag(alone, jobs[:32])


def test_threads_sharing_one_runtime_get_their_own_batches(runtime):
    """A worker's threads share one model: tables that start over while another batch is being read stay right."""
    f, crf = runtime.featurizer, runtime.feature_crf
    features = WordFeaturizer(f.vocab, f.tokenizer, max_sparse=f.max_sparse, gazetteer=f.gazetteer, cache_words=150)
    scores = FeatureCrf(crf.labels, crf.attrs, crf.weights, crf.transitions, cache_words=150)
    corpus = [[t[a:b] for a, b in split_words(t)][:40] for t in (a.text for a in load_corpus()[:24])]
    batches = [corpus[i: i + 3] for i in range(0, len(corpus), 3)]
    want = [(reference_encode(f, b), [reference_crf(crf, words) for words in b]) for b in batches]
    failures: list[str] = []

    def work(k: int) -> None:
        for r in range(6):
            i = (k + r) % len(batches)
            got = features.encode(batches[i])
            if any(not np.array_equal(got[name], want[i][0][name]) for name in got):
                failures.append(f"features of batch {i}")
            got_crf = scores.emissions_batch(batches[i])
            if any(not _same_bits(got_crf[j, : len(w)], want[i][1][j]) for j, w in enumerate(batches[i])):
                failures.append(f"CRF scores of batch {i}")

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, inside the table updates
    try:
        threads = [threading.Thread(target=work, args=(k,)) for k in range(len(batches))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert not failures
