"""Writes one `## heading` section of benchmarks/README.md, shared by the benchmarks that record their tables."""
import os
import re
import time

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "README.md")


def write_section(heading: str, body: str, path: str = PATH) -> None:
    """Replaces the section titled `## heading` (up to the next `## ` or the end) with `body`, or appends it."""
    current = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    section = f"## {heading}\n\n{body.strip()}\n"
    pattern = re.compile(r"^## " + re.escape(heading) + r"\n.*?(?=\n## |\Z)", re.S | re.M)
    if pattern.search(current):
        updated = pattern.sub(lambda _: section, current, count=1)
    else:
        updated = current.rstrip("\n") + "\n\n" + section
    with open(path, "w") as f:
        f.write(updated.rstrip("\n") + "\n")


def timing_table(rows, count: int, unit: str, extra_headers: list[str]) -> str:
    """Markdown: one row per side (name, how many `unit`s it measured, seconds, extra cells), its seconds for `count`
    (extrapolated linearly when it measured fewer, and marked so) and its time as a multiple of the first side's."""
    first = rows[0][2] * count / rows[0][1]
    lines = [f"| side | {unit} measured | seconds measured | seconds for {count} {unit} | × the first side | "
             + " | ".join(extra_headers) + " |", "|" + "---|" * (5 + len(extra_headers))]
    for name, measured, seconds, *extras in rows:
        total = seconds * count / measured
        note = "" if measured == count else " (extrapolated)"
        lines.append(f"| {name} | {measured} | {seconds:.1f} | {total:.1f}{note} | {total / first:.1f} | "
                     + " | ".join(extras) + " |")
    return "\n".join(lines)



def timing_report(heading: str, command: str, rows, count: int, unit: str, extra_headers: list[str], summary: str,
                  write: bool) -> None:
    """`timing_table` of `rows` and `summary` (its ``{speedup}``: the second side's time for `count` over the
    first's), dated; printed, and with `write` the section `heading` of benchmarks/README.md (`command` first)."""
    totals = [seconds * count / measured for _, measured, seconds, *_ in rows[:2]]
    text = (timing_table(rows, count, unit, extra_headers) + "\n\n"
            + summary.format(speedup=f"{totals[1] / totals[0]:.1f}")
            + f" Measured {time.strftime('%Y-%m-%d')} on the 2-core CPU, nothing else running.")
    print(text)
    if write:
        write_section(heading, f"`{command}`\n\n{text}")
