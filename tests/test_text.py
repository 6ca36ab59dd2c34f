"""IMDB text: every imdb_bow / imdb_embed variant end to end under mock tfds data; the vocabulary is fitted on the
training part only (and so is the idf); OOV and padding ids; the ids-sum bag-of-words layer equals the dense counts
formulation, for raw, binary, log1p and tf-idf counts (tf-idf as scikit-learn computes it), on id sequences and on
the loader's bags of words (data.encoding=bag)."""
import json
import os
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from ml_collections import ConfigDict
from sklearn.feature_extraction.text import TfidfTransformer

from configs import imdb_bow, imdb_embed
from jaxlab import errors, experiment, models, predict
from jaxlab.data import imdb
from jaxlab.models import text
from jaxlab.ops import bag as bag_ops

TINY = {"data.vocab_size": 50, "data.max_length": 12}
CASES = [(imdb_bow, v) for v in imdb_bow.VARIANTS] + [(imdb_embed, v) for v in imdb_embed.VARIANTS]


@pytest.mark.parametrize("module,variant", CASES, ids=[f"{m.__name__.split('.')[-1]}:{v}" for m, v in CASES])
def test_variant_end_to_end(module, variant, mock_tfds, tiny, tmp_path):
    config = tiny(module.get_config(variant), **TINY)
    summary = experiment.run(config, str(tmp_path))
    assert summary["epochs_run"] == 1 and summary["num_test_examples"] == 96
    assert 0.0 <= summary["test_accuracy"] <= 1.0 and np.isfinite(summary["test_loss"])
    assert 0.0 <= summary["test_roc_auc"] <= 1.0
    assert os.path.exists(tmp_path / "plots" / "curves.png")
    with open(tmp_path / "data_info.json") as f:
        info = json.load(f)
    assert info["vocabulary"][:2] == ["", "[UNK]"] and len(info["vocabulary"]) <= 50 and info["max_length"] == 12


def test_predict_takes_raw_strings(mock_tfds, tiny, tmp_path):
    config = tiny(imdb_bow.get_config("l2"), **TINY)
    experiment.run(config, str(tmp_path))
    run = predict.load(str(tmp_path))
    probabilities = run.predict(["a fine film", b"dull<br />and long"])
    assert probabilities.shape == (2,) and ((probabilities > 0) & (probabilities < 1)).all()
    assert run.predict("one review").shape == (1,)


def _corpus():
    train = {"text": np.array(["good great film", "bad awful film", "great great acting", "awful bad plot",
                               "onlyinvalidation words here"]), "label": np.array([1, 0, 1, 0, 1])}
    test = {"text": np.array(["great film onlyintest", "bad"]), "label": np.array([1, 0])}
    return train, test


def test_vocabulary_sees_only_training_text():
    train, test = _corpus()
    splits = imdb.make_splits(train, test, ConfigDict({"validation_split": 0.2, "vocab_size": 100, "max_length": 6}))
    vocabulary = splits.info["vocabulary"]
    assert vocabulary[0] == "" and vocabulary[1] == "[UNK]"
    assert {"good", "great", "film", "bad", "awful", "acting", "plot"} == set(vocabulary[2:])
    assert splits.validation["inputs"].tolist() == [[1, 1, 1, 0, 0, 0]]   # held-out words are OOV
    assert splits.test["inputs"][0, 2] == imdb.OOV_ID
    assert vocabulary[2] == "great"                                       # most frequent first


def test_oov_and_padding_ids():
    vocabulary = ["", "[UNK]", "the", "movie"]
    ids = imdb.encode(["The MOVIE, the zebra!<br />movie", "the the the the the the the the"], vocabulary, 6)
    assert ids.tolist() == [[2, 3, 2, 1, 3, 0], [2, 2, 2, 2, 2, 2]]      # case, punctuation, <br />, OOV, padding


def test_keep_end_takes_the_last_tokens_padded_in_front():
    vocabulary = ["", "[UNK]", "a", "b", "c"]
    texts = ["a b c a b c b", "c", ""]
    assert imdb.encode(texts, vocabulary, 4, keep="start").tolist() == [[2, 3, 4, 2], [4, 0, 0, 0], [0, 0, 0, 0]]
    assert imdb.encode(texts, vocabulary, 4, keep="end").tolist() == [[2, 3, 4, 3], [0, 0, 0, 4], [0, 0, 0, 0]]
    with pytest.raises(errors.Error, match="unknown data.keep 'middle'"):
        imdb.encode(texts, vocabulary, 4, keep="middle")


def _brute_force_counts(ids, vocab_size, encoding="raw"):
    counts = np.zeros((len(ids), vocab_size), np.float64)
    for row, review in enumerate(ids):
        for token in review:
            if token != imdb.PAD_ID:
                counts[row, token] += 1
    if encoding == "tfidf":  # scikit-learn's TfidfTransformer(sublinear_tf=True), fitted on these reviews
        return TfidfTransformer(sublinear_tf=True).fit_transform(counts).toarray()
    return {"raw": counts, "binary": (counts > 0).astype(np.float64), "log1p": np.log1p(counts)}[encoding]


IDS = np.array([[5, 5, 5, 1, 1, 9, 0, 0],        # repeated words, OOV twice, padding
                [1, 2, 3, 4, 5, 6, 7, 39],       # no padding
                [0, 0, 0, 0, 0, 0, 0, 0],        # empty review
                [39, 0, 39, 0, 7, 7, 7, 7]], np.int32)


@pytest.mark.parametrize("encoding", bag_ops.COUNTS)
def test_bag_of_words_equals_dense_counts(encoding):
    vocab_size, features = 40, 7
    idf = imdb.fit_idf(IDS, vocab_size)  # used by tfidf only
    table = np.random.default_rng(0).normal(size=(vocab_size, features)).astype(np.float32)
    counts = _brute_force_counts(IDS, vocab_size, encoding)
    upstream = np.random.default_rng(1).normal(size=(len(IDS), features)).astype(np.float32)
    for inputs in (IDS, imdb.bags(IDS)):  # id sequences, or the loader's bags (data.encoding="bag")
        inputs = jnp.asarray(inputs)
        np.testing.assert_allclose(bag_ops.word_counts(inputs, vocab_size, encoding, idf), counts, rtol=1e-6, atol=1e-7)
        bag = bag_ops.bag_of_words(jnp.asarray(table), inputs, encoding, idf)
        np.testing.assert_allclose(bag, counts @ table, atol=1e-5)
        grad = jax.grad(lambda t: jnp.sum(bag_ops.bag_of_words(t, inputs, encoding, idf) * upstream))(
            jnp.asarray(table))
        np.testing.assert_allclose(grad, counts.T @ upstream, atol=1e-5)


def test_distinct_ids_come_first_and_the_bag_stops_after_them():
    """binary / log1p / tfidf: each review's distinct ids in increasing order, once each, weighted by their
    encoded count, then padding; the bag's loops visit only the longest review's distinct positions."""
    ids, weights = bag_ops.position_weights(jnp.asarray(IDS[[0, 2, 3]]), "log1p")
    np.testing.assert_array_equal(ids, [[1, 5, 9, 0, 0, 0, 0, 0], [0] * 8, [7, 39, 0, 0, 0, 0, 0, 0]])
    np.testing.assert_allclose(weights, [[np.log(3), np.log(4), np.log(2), 0, 0, 0, 0, 0], [0] * 8,
                                         [np.log(5), np.log(3), 0, 0, 0, 0, 0, 0]], rtol=1e-6)
    np.testing.assert_array_equal(bag_ops._lengths(weights), [3, 0, 2])  # positions each review's loop visits
    raw_ids, raw_weights = bag_ops.position_weights(jnp.asarray(IDS[[0, 2]]), "raw")  # raw: positions as they are
    np.testing.assert_array_equal(raw_ids, IDS[[0, 2]])
    np.testing.assert_array_equal(bag_ops._lengths(raw_weights), [6, 0])


def test_bag_encoding_holds_each_reviews_distinct_ids_and_counts():
    """data.encoding=bag: per review its distinct ids in increasing order, then their counts, padded with 0 to the
    longest list in the data — the same words as the id sequences (the idf too), made in chunks of any size."""
    np.testing.assert_array_equal(imdb.bags(IDS), [[[1, 5, 9, 0, 0, 0, 0, 0], [2, 3, 1, 0, 0, 0, 0, 0]],
                                                   [[1, 2, 3, 4, 5, 6, 7, 39], [1] * 8],
                                                   [[0] * 8, [0] * 8],
                                                   [[7, 39, 0, 0, 0, 0, 0, 0], [4, 2, 0, 0, 0, 0, 0, 0]]])
    np.testing.assert_array_equal(imdb.bags(IDS, chunk=3), imdb.bags(IDS))
    train, test = _corpus()
    config = ConfigDict({"validation_split": 0.2, "vocab_size": 100, "max_length": 6})
    sequences = imdb.make_splits(train, test, config)
    bags = imdb.make_splits(train, test, ConfigDict({**config.to_dict(), "encoding": "bag"}))
    for split in ("train", "validation", "test"):  # cut to the longest list of distinct ids: 3 ("great film ...")
        ids, bag = getattr(sequences, split)["inputs"], getattr(bags, split)["inputs"]
        assert bag.shape == (len(ids), 2, 3) and bag.dtype == np.int32
        np.testing.assert_array_equal(bag, imdb.bags(ids)[:, :, :3])
        assert not imdb.bags(ids)[:, :, 3:].any()
        np.testing.assert_array_equal(getattr(bags, split)["label"], getattr(sequences, split)["label"])
    assert bags.info["input_shape"] == [2, 3] and bags.info["idf"] == sequences.info["idf"]
    with pytest.raises(errors.Error, match="unknown data.encoding 'onehot'"):
        imdb.make_splits(train, test, ConfigDict({**config.to_dict(), "encoding": "onehot"}))
    with pytest.raises(errors.Error, match="reads id sequences, the data are bags of words"):
        text.EmbedDense(1, vocab_size=100).init(jax.random.PRNGKey(0), jnp.asarray(bags.train["inputs"]), train=False)


def test_bag_loops_over_the_longest_reviews_equal_dense_counts():
    """100 reviews of 0 to 40 words: the loops run over groups of the longest reviews (100, 75, 56, … 17), each
    only while a review outside it is unfinished; every review's words are still counted once, forward and
    gradient, for sequences and bags, in any order of the reviews."""
    rng = np.random.default_rng(7)
    ids = rng.integers(1, 60, size=(100, 40)).astype(np.int32)
    ids[np.arange(40)[None, :] >= rng.integers(0, 41, (100, 1))] = 0
    assert bag_ops._groups(100) == [100, 75, 56, 42, 31, 23, 17]
    table = rng.normal(size=(60, 5)).astype(np.float32)
    upstream = rng.normal(size=(100, 5)).astype(np.float32)
    counts = _brute_force_counts(ids, 60, "log1p")
    for inputs in (ids, imdb.bags(ids)):
        value, grad = jax.value_and_grad(lambda t: jnp.sum(bag_ops.bag_of_words(t, jnp.asarray(inputs), "log1p") *
                                                            upstream))(jnp.asarray(table))
        np.testing.assert_allclose(bag_ops.bag_of_words(jnp.asarray(table), jnp.asarray(inputs), "log1p"),
                                   counts @ table, atol=1e-5)
        np.testing.assert_allclose(grad, counts.T @ upstream, atol=1e-4)
    lengths = jnp.asarray(np.sort((imdb.bags(ids)[:, 1] > 0).sum(1))[::-1])
    loops = bag_ops._loops(lengths)
    assert [int(first) for _, first, _ in loops[1:]] == [int(end) for _, _, end in loops[:-1]]  # contiguous
    for review, length in enumerate(np.asarray(lengths)):  # each review's positions all visited
        assert sum(int(end) - int(first) for rows, first, end in loops if review < rows) >= length
    visited = sum(rows * (int(end) - int(first)) for rows, first, end in loops)  # review-positions
    assert visited < 0.8 * 100 * int(lengths[0])  # fewer than every review up to the longest


def _loop_bodies_containing(hlo: str, op: str) -> list[str]:
    """Names of the while-loop bodies of compiled HLO text that hold an `op` instruction."""
    bodies = set(re.findall(r"body=%?([\w.\-]+)", hlo))
    found, current = [], None
    for line in hlo.splitlines():
        if line and not line[0].isspace() and line.rstrip().endswith("{"):
            current = line.replace("ENTRY ", "").lstrip("%").split(" ")[0]
        elif f" {op}(" in line and current in bodies:
            found.append(current)
    return found


def test_bag_gradient_with_the_batch_split_over_devices():
    """jit with the reviews split over the 8 devices: the same table gradient as one device, and the partial
    tables are summed once after the loop over positions, not at every position (with that all-reduce per position
    a real BoW epoch on 2 CPU devices took 52-57 s instead of 0.5-0.8 s; benchmarks/README.md). Also vmapped over
    tables (many seeds)."""
    ids = np.random.default_rng(4).integers(0, 60, size=(16, 30)).astype(np.int32)
    table = np.random.default_rng(5).normal(size=(60, 7)).astype(np.float32)
    upstream = np.random.default_rng(6).normal(size=(16, 7)).astype(np.float32)
    grad_fn = jax.jit(jax.grad(lambda t, i, u: jnp.sum(bag_ops.bag_of_words(t, i, "log1p") * u)))
    expected = _brute_force_counts(ids, 60, "log1p").T @ upstream
    by_review = NamedSharding(Mesh(np.asarray(jax.devices()), ("data",)), PartitionSpec("data", None))
    split = [jax.device_put(x, by_review) for x in (ids, upstream)]
    np.testing.assert_allclose(grad_fn(table, *split), expected, atol=1e-5)
    np.testing.assert_allclose(grad_fn(table, ids, upstream), expected, atol=1e-5)
    hlo = grad_fn.lower(table, *split).compile().as_text()
    assert "all-reduce(" in hlo and not _loop_bodies_containing(hlo, "all-reduce")
    # the forward: each device sums its own reviews (sorted longest first on the device), no communication at all
    forward = jax.jit(lambda t, i: bag_ops.bag_of_words(t, i, "log1p"))
    np.testing.assert_allclose(forward(table, split[0]), _brute_force_counts(ids, 60, "log1p") @ table, atol=1e-5)
    assert forward(table, split[0]).sharding.spec[0] == "data"
    assert not re.search(r"all-gather|all-reduce|all-to-all|collective-permute",
                         forward.lower(table, split[0]).compile().as_text())
    tables = np.stack([table, 2 * table])
    vmapped = jax.vmap(grad_fn, in_axes=(0, None, 0))(tables, ids, np.stack([upstream, -upstream]))
    np.testing.assert_allclose(vmapped, np.stack([expected, -expected]), atol=1e-5)


def test_idf_is_fitted_on_the_training_part_only():
    train, test = _corpus()
    config = ConfigDict({"validation_split": 0.2, "vocab_size": 100, "max_length": 6})
    splits = imdb.make_splits(train, test, config)
    counts = _brute_force_counts(splits.train["inputs"], 100)
    np.testing.assert_allclose(splits.info["idf"], TfidfTransformer().fit(counts).idf_, rtol=1e-6)
    changed = {"text": np.array([*train["text"][:4], "great great great great"]), "label": train["label"]}
    assert imdb.make_splits(changed, test, config).info["idf"] == splits.info["idf"]  # validation text unseen
    great = splits.info["vocabulary"].index("great")   # in 2 of the 4 training reviews
    assert splits.info["idf"][great] == pytest.approx(np.log(5 / 3) + 1)


@pytest.mark.parametrize("batch_norm,dropout,encoding", [(False, 0.0, "raw"), (True, 0.0, "raw"), (False, 0.5, "raw"),
                                                         (False, 0.5, "binary"), (True, 0.0, "log1p"),
                                                         (False, 0.0, "tfidf"), (True, 0.0, "tfidf")])
def test_bow_net_same_as_dense_formulation(batch_norm, dropout, encoding):
    """The whole net (both bag layers) and its gradients: ids-sum == counts @ W, to 1e-5."""
    ids = jnp.asarray(np.random.default_rng(2).integers(0, 60, size=(16, 30)).astype(np.int32))
    labels = jnp.asarray(np.arange(16) % 2, jnp.float32)
    idf = tuple(imdb.fit_idf(np.asarray(ids), 60).tolist())
    models = {bag: text.BowConcat(1, vocab_size=60, batch_norm=batch_norm, dropout=dropout, bag=bag, counts=encoding,
                                  idf=idf)
              for bag in text.BAGS}
    variables = models["scan"].init(jax.random.PRNGKey(0), ids, train=False)

    def loss(params, model, inputs):
        logits, _ = model.apply({**variables, "params": params}, inputs, train=True, mutable=["batch_stats"],
                                rngs={"dropout": jax.random.PRNGKey(3)})
        return jnp.mean((logits[:, 0] - labels) ** 2)

    bags = jnp.asarray(imdb.bags(np.asarray(ids)))  # data.encoding=bag: the same net on the loader's bags
    results = {(bag, form): jax.value_and_grad(loss)(variables["params"], model, inputs)
               for bag, model in models.items() for form, inputs in (("ids", ids), ("bags", bags))}
    for key, result in results.items():
        np.testing.assert_allclose(result[0], results["dense", "ids"][0], rtol=1e-5, atol=1e-5, err_msg=str(key))
        for a, b in zip(jax.tree.leaves(result[1]), jax.tree.leaves(results["dense", "ids"][1])):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5, err_msg=str(key))


def test_parameter_counts_match_the_lab_models():
    ids = jnp.zeros((2, 500), jnp.int32)
    count = {}
    for name, model in {"dense": text.EmbedDense(1), "conv": text.EmbedConv(1)}.items():
        params = model.init(jax.random.PRNGKey(0), ids, train=False)["params"]
        count[name] = sum(np.size(x) for x in jax.tree.leaves(params))
    assert 1_900_000 < count["dense"] < 1_950_000 and 170_000 < count["conv"] < 175_000


def test_unknown_counts_encoding_is_an_error():
    ids = jnp.ones((2, 5), jnp.int32)
    with pytest.raises(errors.Error, match="unknown counts 'sqrt'"):
        text.BowConcat(1, vocab_size=10, counts="sqrt").init(jax.random.PRNGKey(0), ids, train=False)
    with pytest.raises(errors.Error, match="tfidf.*inverse document frequencies"):
        text.BowConcat(1, vocab_size=10, counts="tfidf").init(jax.random.PRNGKey(0), ids, train=False)
    with pytest.raises(errors.Error, match=r"unknown bag 'sparse'.*--config.model.bag"):
        text.BowConcat(1, vocab_size=10, bag="sparse").init(jax.random.PRNGKey(0), ids, train=False)


def test_idf_comes_from_the_data_not_the_config():
    config = ConfigDict({"name": "bow_concat", "vocab_size": 4, "counts": "tfidf"})
    assert models.build(config, 1, info={"idf": [0.0, 1.0, 2.0, 3.0]}).idf == (0.0, 1.0, 2.0, 3.0)
    with pytest.raises(errors.Error, match="no option idf"):
        models.build(ConfigDict({**config.to_dict(), "idf": [1.0] * 4}), 1)


def test_a_model_vocabulary_smaller_than_the_datas_is_an_error():
    """The bag indexes its table with the data's ids unchecked (a faster gather): the ids must fit."""
    for config in (ConfigDict({"name": "bow_concat", "vocab_size": 40}), ConfigDict({"name": "embed_conv"})):
        with pytest.raises(errors.Error, match=r"model.vocab_size \d+ is smaller than the data's vocabulary \(20000"):
            models.build(config, 1, info={"vocab_size": 20_000})
    fitting = models.build(ConfigDict({"name": "bow_concat", "vocab_size": 40}), 1, info={"vocab_size": 40})
    assert fitting.vocab_size == 40
