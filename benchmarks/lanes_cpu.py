"""Lanes side by side (`jax.vmap`) vs one after another (`lax.map`) inside one program, on this machine's CPU: the
measurement behind `config.lanes_vmapped = -1` (jaxlab/lanes.py, `SIDE_BY_SIDE_MAX_PARAMS`).

    python benchmarks/lanes_cpu.py [--write]

Each case is K lanes of a dense relu net, each lane with its own parameters and its own batch, training 10 SGD steps
of softmax cross-entropy in one compiled call (`lanes.over_lanes` with vmapped = 0 and = 1); the best of 5 calls
after a warm-up, in ms. `--write` replaces the "Lanes on CPU" section of benchmarks/README.md.
"""
import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

STEPS = 10
# (lanes, batch, layer sizes): XOR seeds, small tabular nets, the MNIST MLP sweep, the Simpsons search MLP
CASES = [(100, 4, (2, 4, 1)), (30, 16, (20, 32, 1)), (30, 32, (64, 64, 10)), (30, 32, (100, 100, 10)),
         (16, 32, (784, 100, 10)), (16, 128, (784, 100, 10)), (30, 32, (784, 256, 10)),
         (30, 32, (784, 512, 256, 10))]


def measure(num_lanes: int, batch: int, sizes: tuple[int, ...]) -> tuple[int, float, float]:
    import jax
    import jax.numpy as jnp
    import numpy as np

    from jaxlab import lanes
    rng = np.random.default_rng(0)
    params = [(jnp.asarray(rng.normal(size=(num_lanes, a, b)) * 0.05, jnp.float32),
               jnp.zeros((num_lanes, b), jnp.float32)) for a, b in zip(sizes[:-1], sizes[1:])]
    inputs = jnp.asarray(rng.random((num_lanes, batch, sizes[0])), jnp.float32)
    labels = jnp.asarray(rng.integers(0, sizes[-1], (num_lanes, batch)))

    def loss(lane_params, x, y):
        for i, (kernel, bias) in enumerate(lane_params):
            x = x @ kernel + bias
            x = jax.nn.relu(x) if i < len(lane_params) - 1 else x
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(x), y[:, None], 1))

    def train(lane):
        lane_params, x, y = lane
        return jax.lax.fori_loop(0, STEPS, lambda _, p: jax.tree.map(
            lambda w, g: w - 0.01 * g, p, jax.grad(loss)(p, x, y)), lane_params)

    def best_ms(vmapped: int) -> float:
        fn = jax.jit(lambda *lane: lanes.over_lanes(train, lane, vmapped))
        jax.block_until_ready(fn(params, inputs, labels))
        times = []
        for _ in range(5):
            started = time.perf_counter()
            jax.block_until_ready(fn(params, inputs, labels))
            times.append(time.perf_counter() - started)
        return 1e3 * min(times)
    num_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    return num_params, best_ms(0), best_ms(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    lines = ["| lanes | batch | net | parameters per lane | side by side (vmap), ms | one after another, ms | "
             "vmap / one after another |", "|---|---|---|---|---|---|---|"]
    for num_lanes, batch, sizes in CASES:
        num_params, side, after = measure(num_lanes, batch, sizes)
        lines.append(f"| {num_lanes} | {batch} | {'-'.join(map(str, sizes))} | {num_params:,} | {side:.1f} | "
                     f"{after:.1f} | {side / after:.2f} |")
        print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n\n" + (
        f"{STEPS} SGD steps per call, best of 5; measured {time.strftime('%Y-%m-%d')} on the 2-core CPU, nothing else "
        "running. Above 1 the lanes run faster one after another: XLA:CPU's batched matmuls (what vmap makes of each "
        "lane's matmul) are slower than the same matmuls one lane at a time once a lane's matmuls are large enough to "
        "use the cores, while tiny nets gain from vectorising the lanes. `config.lanes_vmapped = -1` therefore "
        "computes lanes side by side on CPU only below `lanes.SIDE_BY_SIDE_MAX_PARAMS` (10,000) parameters per lane.")
    print(text)
    if args.write:
        import readme
        readme.write_section("Lanes on CPU", "`python benchmarks/lanes_cpu.py --write`\n\n" + text)

if __name__ == "__main__":
    main()
