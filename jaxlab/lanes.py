"""K lanes of one config trained as ONE compiled program: `jax.vmap` of the same `steps.train_chunk` /
`steps.eval_pass` that `train.fit` uses, over a stacked train state. A lane has its own seed (init, dropout, data
order) and its own values of keys that keep the parameter shapes (`values`: dotted key → one number per lane,
traced inside the program: the optimizer's constants, L2, dropout rates; see `programs.step_parts`). Many seeds
(`jaxlab.seeds`) are lanes that differ only in the seed; a sweep (`jaxlab.sweep`) sets the values. Inside the
program the lanes run side by side (vmap) or, for larger nets on CPU, one after another (`lax.map`:
`lanes_vmapped`); either way one compile, one dispatch per few epochs.

The program runs inside either parallel mode (the batch is still split across devices; every replica is a vmapped
lane), several epochs per dispatch (`config.epochs_per_dispatch`, never past a checkpoint epoch). Checkpoints
(orbax) hold the stacked state, so a stopped run resumes; every lane's epochs are in one CSV.
"""
import contextlib
import dataclasses
import functools
import os
import time

import jax
import jax.numpy as jnp
import numpy as np

from jaxlab import checkpoint, console, data, errors, parallel, programs, report, shards, steps, train


def epochs_program(state, train_data, rows, rng, val_data, val_rows, val_mask, values, *, lane_steps, metrics_cls,
                   mode, has_val):
    """One lane, several epochs: `rows` is [epochs, steps, batch]. Returns the state, per-epoch train totals,
    per-epoch validation totals (or None) and the step losses [epochs, steps]."""
    train_step, eval_step, _ = lane_steps(values)
    train_fn = functools.partial(steps.train_chunk, step=train_step, metrics_cls=metrics_cls, mode=mode)
    eval_fn = functools.partial(steps.eval_pass, step=eval_step, metrics_cls=metrics_cls, mode=mode)

    def epoch(state, epoch_rows):
        state, totals, step_losses = train_fn(state, train_data, epoch_rows, rng)
        val = eval_fn(state, val_data, val_rows, val_mask) if has_val else None
        return state, (totals, val, step_losses)

    state, (totals, val, step_losses) = jax.lax.scan(epoch, state, rows)
    return state, totals, val, step_losses


def over_lanes(fn, lanes, vmapped: int):
    """`fn` on every lane of `lanes` (a tree with a leading lane axis): `vmapped` lanes side by side at a time (one
    `jax.vmap`), those groups one after another (`lax.map`); 0 = every lane side by side."""
    num_lanes = jax.tree.leaves(lanes)[0].shape[0]
    if vmapped <= 0 or vmapped >= num_lanes:
        return jax.vmap(fn)(lanes)
    return jax.lax.map(fn, lanes, batch_size=vmapped if vmapped > 1 else None)


SIDE_BY_SIDE_MAX_PARAMS = 10_000


def lanes_vmapped(config, devices, params_per_lane: int) -> int:
    """`config.lanes_vmapped`, -1 resolved: every lane side by side on GPU/TPU and for nets of fewer than
    `SIDE_BY_SIDE_MAX_PARAMS` parameters; one lane at a time for larger nets on CPU, where XLA runs a vmapped net's
    batched matmuls up to 2× slower than the same matmuls lane by lane (benchmarks/README.md, "Lanes on CPU")."""
    if config.lanes_vmapped >= 0:
        return config.lanes_vmapped
    return 1 if devices[0].platform == "cpu" and params_per_lane >= SIDE_BY_SIDE_MAX_PARAMS else 0


def many(state, train_data, rows, rng, val_data, val_rows, val_mask, values, *, program, vmapped):
    """`rows` arrives as [steps, batch, epochs, lanes] (the batch axis where `parallel.shard_batches` splits it)."""
    def one(lane):
        state, rows, rng, values = lane
        return program(state, train_data, rows, rng, val_data, val_rows, val_mask, values)
    return over_lanes(one, (state, jnp.transpose(rows, (3, 2, 0, 1)), rng, values), vmapped)


def many_eval(state, split_data, rows, mask, values, *, lane_steps, metrics_cls, mode, vmapped):
    def one(lane):
        state, values = lane
        return steps.eval_pass(state, split_data, rows, mask, step=lane_steps(values)[1], metrics_cls=metrics_cls,
                               mode=mode)
    return over_lanes(one, (state, values), vmapped)


def divergence(step_losses, first_loss, epochs, steps_per_epoch, factors) -> dict[int, tuple[int, str]]:
    """lane → (epoch, `train.check_divergence`'s message) for every lane that diverged in a dispatch ([lanes,
    epochs, steps] losses, one factor per lane); the per-epoch search only runs when something is wrong."""
    factors = np.asarray(factors, np.float64)
    bad = ~np.isfinite(step_losses)
    reference = np.maximum(np.nan_to_num(first_loss, nan=np.inf), 1e-8)
    bad |= (factors > 0)[:, None, None] & (step_losses > (factors * reference)[:, None, None])
    found = {}
    for k in np.flatnonzero(bad.any(axis=(1, 2))):
        for i, epoch in enumerate(epochs):
            try:
                train.check_divergence(step_losses[k, i], (epoch - 1) * steps_per_epoch, epoch, float(first_loss[k]),
                                       float(factors[k]))
            except errors.Error as exc:
                found[int(k)] = (epoch, str(exc))
                break
    return found


def batched_compute(totals) -> dict[str, np.ndarray]:
    """`Collection.compute()` of a collection with leading (lane, epoch) axes: every metric is elementwise."""
    return {field.name: np.asarray(getattr(totals, field.name).compute()) for field in dataclasses.fields(totals)
            if not field.name.startswith("_")}


def lane_slice(tree, k: int):
    return jax.tree.map(lambda x: x[k], tree)


def fit(config, workdir, splits, model, seeds: list[int], values: dict[str, np.ndarray], devices, *,
        column: str, ids: list[int], print_row, diverged_lane_stops: bool = False,
        after_dispatch=None) -> tuple[list, list]:
    """Trains the lanes; returns each lane's test metrics ("test_*", "final", "epochs_run") and epoch histories.
    The lanes are called `column` `ids[k]` ("seed 5", "lane 2") in messages and in ``WORKDIR/<column>s_history.csv``;
    `print_row(epoch, seconds, histories)` prints the console line after each dispatch (process 0). A diverged lane
    stops the run with its one line, or with `diverged_lane_stops` only stops counting: its entry gets "diverged"
    (the message), its history ends before the epoch it diverged in, the other lanes train on.
    `after_dispatch(epoch, histories)` (every process; it must return the same on each) → {lane: reason} stops
    those lanes counting after this epoch (a pruned search trial): their entries get "stopped" (the reason)."""
    parts = programs.step_parts(config, splits, model, devices)
    mode, devices, metrics_cls = parts.mode, parts.devices, parts.metrics_cls
    num_train, num_val = data.num_rows(splits, "train"), data.num_rows(splits, "validation")
    lane_values = {key: jnp.asarray(value, jnp.float32) for key, value in values.items()}
    program = functools.partial(epochs_program, lane_steps=parts.lane, metrics_cls=metrics_cls, mode=mode,
                                has_val=bool(num_val))
    sample = jnp.asarray(splits.train["inputs"][:1])
    host_state = jax.jit(jax.vmap(lambda seed, values: steps.init_state(model, parts.lane(values)[2], None, sample,
                                                                        seed)))(jnp.asarray(seeds, jnp.int32),
                                                                                lane_values)
    params_per_lane = sum(leaf.size for leaf in jax.tree.leaves(host_state.params)) // len(seeds)
    vmapped = lanes_vmapped(config, devices, params_per_lane)
    run_epochs = parallel.compiled(functools.partial(many, program=program, vmapped=vmapped), mode, devices)
    run_eval = parallel.compiled(functools.partial(many_eval, lane_steps=parts.lane, metrics_cls=metrics_cls,
                                                   mode=mode, vmapped=vmapped), mode, devices, donate_first=False)
    rng = parallel.replicate(jax.vmap(lambda seed: jax.random.PRNGKey(seed + 1))(jnp.asarray(seeds, jnp.int32)),
                             mode, devices)
    placed_values = parallel.replicate(lane_values, mode, devices)
    placed = {name: programs.hold(splits, name, "replicated", "device", mode, devices)
              for name in ("train", "validation", "test") if getattr(splits, name) is not None}
    val_rows, val_mask = shards.eval_order(max(num_val, 1), config.eval_batch_size)
    val_rows, val_mask = (parallel.shard_batches(a, mode, devices) for a in (val_rows, val_mask))
    val_data = placed.get("validation", placed["train"])
    factors = values.get("divergence_factor", np.full(len(seeds), config.divergence_factor))

    mngr = checkpoint.manager(workdir, config.checkpoint, parts.best_metric)
    history_path = os.path.join(workdir, f"{column}s_history.csv")
    names = [f"{column} {i}" for i in ids]
    histories = [[] for _ in seeds]
    stopped: dict[int, dict[str, str]] = {}   # lane → {"diverged" | "stopped": why}
    try:
        saved = sorted(mngr.all_steps(), reverse=True)
        restored, start_epoch = checkpoint.restore_first_usable(mngr, saved, host_state)
        if restored is not None:
            host_state = restored
            histories = read_histories(history_path, column, ids, start_epoch)
            console.notice(f"resumed {len(seeds)} {column}s from epoch {start_epoch}")
        elif saved:
            raise errors.Error(f"no usable checkpoint in {mngr.directory} (all moved to checkpoints_unreadable/): "
                               f"use a new --workdir, or rerun to train the {column}s again from epoch 1")
        state = parallel.replicate(host_state, mode, devices)
        every = config.checkpoint.every_epochs or config.num_epochs
        per_dispatch = max(1, config.epochs_per_dispatch)
        epoch = start_epoch or 0
        while epoch < config.num_epochs:
            next_save = (epoch // every + 1) * every
            count = min(per_dispatch, next_save - epoch, config.num_epochs - epoch)
            epochs = list(range(epoch + 1, epoch + count + 1))
            orders = np.stack([np.stack([shards.epoch_order(seed, e, num_train, config.batch_size)
                                         for seed in seeds], axis=-1) for e in epochs], axis=2)
            dispatch_started = time.perf_counter()
            state, totals, val, step_losses = run_epochs(
                state, placed["train"], parallel.shard_batches(orders, mode, devices), rng, val_data, val_rows,
                val_mask, placed_values)
            step_losses = np.asarray(parallel.unreplicate(step_losses, mode))  # [lanes, epochs, steps]
            first_loss = np.asarray(parallel.unreplicate(state.first_loss, mode))
            columns = batched_compute(parallel.unreplicate(totals, mode))  # each [lanes, epochs]
            if num_val:
                columns.update({f"val_{n}": v for n, v in batched_compute(parallel.unreplicate(val, mode)).items()})
            counted_until = {k: epochs[-1] for k in range(len(seeds)) if k not in stopped}
            for k, (when, message) in divergence(step_losses, first_loss, epochs, parts.steps_per_epoch,
                                                 factors).items():
                if not diverged_lane_stops:
                    raise errors.Error(f"{names[k]}: {message}")
                if k in counted_until:
                    stopped[k], counted_until[k] = {"diverged": message}, when - 1
                    console.notice(f"{names[k]} stopped counting: {message.split(';')[0]}")
            for k, last in counted_until.items():
                histories[k].extend({"epoch": e, **{n: float(v[k, i]) for n, v in columns.items()}}
                                    for i, e in enumerate(epochs) if e <= last)
            epoch += count
            if after_dispatch is not None:
                for k, reason in after_dispatch(epoch, histories).items():
                    stopped.setdefault(k, {"stopped": reason})
            if jax.process_index() == 0:
                print_row(epoch, time.perf_counter() - dispatch_started, histories)
                write_histories(history_path, column, ids, histories)
            if epoch % every == 0 or epoch == config.num_epochs:
                mean_row = mean_of([history[-1] for history in histories if history])
                checkpoint.save(mngr, epoch, parallel.unreplicate(state, mode),
                                {k: v for k, v in mean_row.items() if k != "epoch"})
        checkpoint.finish(mngr)
        test_totals = None
        if splits.test is not None:
            rows, mask = shards.eval_order(data.num_examples(splits.test), config.eval_batch_size)
            test_totals = parallel.unreplicate(run_eval(state, placed["test"], parallel.shard_batches(
                rows, mode, devices), parallel.shard_batches(mask, mode, devices), placed_values), mode)
        per_lane = []
        for k in range(len(seeds)):
            test = steps.compute(lane_slice(test_totals, k)) if test_totals is not None else {}
            per_lane.append({**{f"test_{n}": v for n, v in test.items()},
                             "final": histories[k][-1] if histories[k] else {}, "epochs_run": len(histories[k]),
                             **stopped.get(k, {})})
    finally:
        with contextlib.suppress(Exception):   # a failed save was reported by checkpoint.finish / save
            mngr.wait_until_finished()
        mngr.close()
    return per_lane, histories


def write_histories(path: str, column: str, ids, histories) -> None:
    """Every lane's epochs in one CSV, `column` saying whose (lane k's is `ids[k]`)."""
    report.write_history(path, [{"epoch": row["epoch"], column: i, **{n: v for n, v in row.items() if n != "epoch"}}
                                for i, history in zip(ids, histories) for row in history])


def read_histories(path: str, column: str, ids, up_to_epoch: int) -> list[list[dict[str, float]]]:
    by_id = {i: [] for i in ids}
    for row in report.read_history(path, up_to_epoch=up_to_epoch):
        i = int(row.pop(column))
        if i in by_id:
            by_id[i].append(row)
    return [by_id[i] for i in ids]


def mean_of(rows: list[dict[str, float]]) -> dict[str, float]:
    return {name: float(np.mean([row[name] for row in rows])) for name in rows[0]} if rows else {}


def lane_limit(config, model, splits, devices, cap: int) -> int:
    """How many lanes one program holds: `cap` (> 0), or what fits in half the memory of one device by an estimate
    (parameters, gradients and two optimizer slots per lane in float32, plus twice every activation of a training
    batch); at least 1."""
    if cap > 0:
        return cap
    sample = jnp.asarray(splits.train["inputs"][:1])
    try:
        shapes = jax.eval_shape(lambda x: model.init(jax.random.PRNGKey(0), x, train=False,
                                                     capture_intermediates=True), sample)
    except Exception:  # intermediates that cannot be captured: one activation per parameter (a generous guess)
        shapes = jax.eval_shape(lambda x: model.init(jax.random.PRNGKey(0), x, train=False), sample)
        shapes = {**shapes, "intermediates": shapes["params"]}
    params = sum(int(np.prod(leaf.shape)) for leaf in jax.tree.leaves(shapes["params"]))
    activations = sum(int(np.prod(leaf.shape)) for leaf in jax.tree.leaves(shapes.get("intermediates", {})))
    per_lane = 4 * (4 * params + 2 * activations * config.batch_size)
    return max(1, int(0.5 * device_memory(devices[0]) // max(per_lane, 1)))


def device_memory(device) -> int:
    """Bytes one device can hold: the accelerator's limit, or on CPU the machine's memory."""
    stats = device.memory_stats() if hasattr(device, "memory_stats") else None
    if stats and stats.get("bytes_limit"):
        return int(stats["bytes_limit"])
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
