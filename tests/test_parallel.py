"""pmap and jit modes (and 1 vs 8 devices) compute the same training run; evaluation counts each example once;
the per_device data layout (each device holds its own rows) trains alike in both modes and both input paths."""
import jax
import numpy as np
import pytest

from configs import mnist_mlp
from jaxlab import errors, models, parallel, programs, shards, steps, train
from jaxlab.data import Splits


def synthetic_splits(num_train=160, num_eval=77, seed=0):
    rng = np.random.default_rng(seed)
    make = lambda n: {"inputs": rng.normal(size=(n, 6, 6, 1)).astype(np.float32),  # noqa: E731
                      "label": rng.integers(0, 10, size=n).astype(np.int32)}
    info = {"num_classes": 10, "num_outputs": 10, "task": "classification", "input_shape": [6, 6, 1]}
    return Splits(make(num_train), make(num_eval), make(num_eval), info)


def bn_config(mode, num_devices):
    config = mnist_mlp.get_config()
    config.parallelism = mode
    config.batch_size = 32
    config.eval_batch_size = 16
    config.model.hidden = (16, 8)
    config.model.batch_norm = True
    config.optimizer.name = "momentum"
    config.optimizer.learning_rate = 0.1
    config.num_devices = num_devices
    return config


def run_steps(mode, num_devices, tmp_path, num_steps=5):
    config = bn_config(mode, num_devices)
    splits = synthetic_splits()
    model = models.build(config.model, 10, parallel.axis_name(mode))
    s = programs.setup(config, str(tmp_path / f"{mode}{num_devices}"), splits, model)
    order = shards.epoch_order(config.seed, 1, 160, 32)[:num_steps]
    state, totals, losses = s.train_fn(s.state, s.data["train"], parallel.shard_batches(order, mode, s.devices),
                                       s.rng)
    s.mngr.close()
    return (parallel.unreplicate(state, mode), steps.compute(parallel.unreplicate(totals, mode)),
            np.asarray(parallel.unreplicate(losses, mode)))


@pytest.mark.parametrize("mode,num_devices", [("jit", 8), ("pmap", 1), ("jit", 1)])
def test_same_parameters_as_pmap_on_8_devices(mode, num_devices, tmp_path):
    reference_state, reference_metrics, reference_losses = run_steps("pmap", 8, tmp_path)
    state, metrics, losses = run_steps(mode, num_devices, tmp_path)
    assert int(state.step) == 5
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-5),
                 (state.params, state.batch_stats), (reference_state.params, reference_state.batch_stats))
    np.testing.assert_allclose(losses, reference_losses, rtol=1e-5)
    assert metrics == pytest.approx(reference_metrics, rel=1e-5)
    # BatchNorm statistics moved: they are global-batch statistics, not one device's.
    assert not np.allclose(state.batch_stats["BatchNorm_0"]["mean"], 0.0)


@pytest.mark.parametrize("layout", ["replicated", "per_device"])
@pytest.mark.parametrize("mode", ["pmap", "jit"])
@pytest.mark.parametrize("num_rows", [77, 5, 16])
def test_masked_evaluation_counts_each_example_once(mode, num_rows, layout, tmp_path):
    config = bn_config(mode, 8)
    config.data_sharding = layout
    splits = synthetic_splits(num_eval=num_rows)
    model = models.build(config.model, 10, parallel.axis_name(mode))
    s = programs.setup(config, str(tmp_path), splits, model)
    s.mngr.close()
    result = programs.split_metrics(s, s.state, "test", num_rows, config.eval_batch_size)
    host = parallel.unreplicate(s.state, mode)
    logits = np.asarray(model.apply({"params": host.params, "batch_stats": host.batch_stats},
                                    splits.test["inputs"], train=False))
    labels = splits.test["label"]
    log_probs = logits - np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1, keepdims=True)) \
        - logits.max(-1, keepdims=True)
    expected_loss = -log_probs[np.arange(num_rows), labels].mean()
    assert result["accuracy"] == pytest.approx((logits.argmax(-1) == labels).mean(), abs=1e-6)
    assert result["loss"] == pytest.approx(expected_loss, rel=1e-5)


def test_eval_order_pads_and_masks():
    rows, mask = shards.eval_order(10, 4)
    assert rows.shape == mask.shape == (3, 4)
    assert sorted(rows[mask > 0].tolist()) == list(range(10))
    assert mask.sum() == 10


def test_epoch_order_is_a_pure_function_of_seed_and_epoch():
    a = shards.epoch_order(0, 3, 100, 8)
    np.testing.assert_array_equal(a, shards.epoch_order(0, 3, 100, 8))
    assert not np.array_equal(a, shards.epoch_order(0, 4, 100, 8))
    assert a.shape == (12, 8) and len(set(a.ravel().tolist())) == 96


def per_device_rows(num_rows, num_devices, batch_size):
    """Global rows of each device's batches in an epoch and of its evaluation (unmasked), per_device layout."""
    held = [shards.held_rows(num_rows, num_devices, device) for device in range(num_devices)]
    order = shards.device_epoch_order(0, 1, num_rows, batch_size, num_devices, "per_device")
    rows, mask = shards.device_eval_order(num_rows, batch_size, num_devices, "per_device")
    trained = [held[device][order[device]] for device in range(num_devices)]
    evaluated = [held[device][rows[device][mask[device] > 0]] for device in range(num_devices)]
    return held, order, trained, evaluated


@pytest.mark.parametrize("num_rows,num_devices,batch_size", [(77, 8, 16), (160, 8, 32), (10, 2, 4), (5, 8, 8)])
def test_per_device_layout_reads_each_devices_own_rows(num_rows, num_devices, batch_size):
    held, order, trained, evaluated = per_device_rows(num_rows, num_devices, batch_size)
    assert order.shape == (num_devices, num_rows // batch_size, batch_size // num_devices)
    assert all(len(rows) == len(held[0]) == -(-num_rows // num_devices) for rows in held)
    blocks = np.array_split(np.arange(num_rows), num_devices)  # device d holds the d-th contiguous block
    for device in range(num_devices):  # every device reads only rows of its own block
        assert set(trained[device].ravel().tolist()) <= set(blocks[device].tolist())
        np.testing.assert_array_equal(np.sort(evaluated[device]), blocks[device])
    trained_rows = np.concatenate([rows.ravel() for rows in trained])
    assert len(set(trained_rows.tolist())) == len(trained_rows)  # no row twice in an epoch
    np.testing.assert_array_equal(np.sort(np.concatenate(evaluated)), np.arange(num_rows))  # each row once
    other = shards.device_epoch_order(0, 2, num_rows, batch_size, num_devices, "per_device")
    if order.size > 1:
        assert not np.array_equal(order, other)  # every epoch its own order


def test_each_process_holds_only_its_devices_rows():
    split = {"inputs": np.arange(100, dtype=np.float32)[:, None], "label": np.arange(100, dtype=np.int32)}
    first, second = (shards.hold(split, 8, positions, "per_device") for positions in ([0, 1, 2, 3], [4, 5, 6, 7]))
    held = np.concatenate(first["label"] + second["label"])
    assert sum(len(rows) for rows in first["label"]) == 4 * 13  # 100 rows over 8 devices: 13 each, padded
    assert set(held.tolist()) == set(range(100))
    np.testing.assert_array_equal(first["inputs"][1][:, 0], first["label"][1])
    assert shards.process_window(100, 8, [0, 1, 2, 3], "per_device") == (0, 52)  # blocks of 13, 13, 13, 13 | 12 …
    assert shards.process_window(100, 8, [4, 5, 6, 7], "per_device") == (52, 100)
    assert shards.process_window(100, 8, [0, 1], "replicated") == (0, 100)
    window = {key: value[52:100] for key, value in split.items()}  # what process 1 reads of the split
    from_window = shards.hold(window, 8, [4, 5, 6, 7], "per_device", num_rows=100, first_row=52)
    for key in split:
        for piece, expected in zip(from_window[key], second[key]):
            np.testing.assert_array_equal(piece, expected)
    replicated = shards.hold(split, 8, [0, 1], "replicated")
    assert all(value is split["label"] for value in replicated["label"])  # no copies


def test_replicated_orders_split_the_global_batch():
    global_order = shards.epoch_order(3, 2, 100, 8)
    order = shards.device_epoch_order(3, 2, 100, 8, 4, "replicated")
    np.testing.assert_array_equal(order[1], global_order[:, 2:4])
    rows, mask = shards.device_eval_order(10, 4, 2, "replicated")
    assert rows.shape == mask.shape == (2, 3, 2) and mask.sum() == 10


def test_per_device_layout_trains_alike_in_pmap_and_jit(tmp_path):
    results = {}
    for mode in ("pmap", "jit"):
        config = bn_config(mode, 8)
        config.data_sharding, config.num_epochs = "per_device", 2
        model = models.build(config.model, 10, parallel.axis_name(mode))
        results[mode] = train.fit(config, str(tmp_path / mode), synthetic_splits(), model)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6),
                 (results["pmap"].state.params, results["pmap"].state.batch_stats),
                 (results["jit"].state.params, results["jit"].state.batch_stats))
    assert results["pmap"].test == pytest.approx(results["jit"].test, rel=1e-5)


@pytest.mark.parametrize("mode,layout", [("pmap", "replicated"), ("jit", "replicated"), ("pmap", "per_device"),
                                         ("jit", "per_device")])
def test_host_input_gives_the_same_run_as_device_input(mode, layout, tmp_path):
    """config.input=host (batches gathered in host memory, shipped per dispatch in ~20 chunks per epoch) trains
    and evaluates exactly like device input (splits on the devices, whole epoch per dispatch), random-shift
    augmentation and dropout included; in both data layouts."""
    results = {}
    for input_mode in ("device", "host"):
        config = bn_config(mode, 8)
        config.input = input_mode
        config.data_sharding = layout
        config.num_epochs = 2
        config.model.dropout = 0.3
        config.data.augment = ("random_shift",)
        splits = synthetic_splits()
        model = models.build(config.model, 10, parallel.axis_name(mode))
        results[input_mode] = train.fit(config, str(tmp_path / input_mode), splits, model)
    device, host = results["device"], results["host"]
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6),
                 (host.state.params, host.state.batch_stats),
                 (device.state.params, device.state.batch_stats))
    assert int(host.state.step) == int(device.state.step) == 2 * (160 // 32)
    for host_row, device_row in zip(host.history, device.history):
        assert host_row == pytest.approx(device_row, rel=1e-6)
    assert host.test == pytest.approx(device.test, rel=1e-6)


@pytest.mark.parametrize("key,value,message", [
    ("input", "disk", "unknown input mode 'disk'.*--config.input=device or host"),
    ("data_sharding", "striped", "unknown data_sharding 'striped'.*--config.data_sharding=auto, replicated or")])
def test_unknown_input_setting_is_one_clear_error(key, value, message, tmp_path):
    config = bn_config("jit", 8)
    config[key] = value
    model = models.build(config.model, 10, parallel.axis_name("jit"))
    with pytest.raises(errors.Error, match=message):
        programs.setup(config, str(tmp_path), synthetic_splits(), model)
