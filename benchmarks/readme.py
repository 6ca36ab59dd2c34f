"""Writes one `## heading` section of benchmarks/README.md, shared by the benchmarks that record their tables."""
import os
import re

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
