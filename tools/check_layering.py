#!/usr/bin/env python3
"""Checks that every `#include "tutti/<stage>/..."` in src/tutti/<stage>/ follows the dependency
graph that the CMake targets declare (`tutti_module(<stage> DEPS tutti_<lower> ...)` in
CMakeLists.txt, transitively), and that LibTorch is included only in the stages allowed to use it.

  tools/check_layering.py [REPO]     # exit 0 and "layering: N files, no violation", else 1

The graph in docs/design.md is this one; the test Tools.Layering runs this script."""
import os
import re
import sys

TORCH_STAGES = {"embed", "models", "train", "infer", "dist"}
TORCH_INCLUDE = re.compile(r'#\s*include\s*<(torch/|ATen/|c10/)')
TUTTI_INCLUDE = re.compile(r'#\s*include\s*"tutti/([a-z_]+)/')


def module_graph(cmake_text):
    """stage -> set of stages it links directly, from tutti_module(...) calls."""
    graph = {}
    for m in re.finditer(r"tutti_module\((\w+)((?:\s+[^)]*)?)\)", cmake_text):
        name, rest = m.group(1), m.group(2)
        if name == "name":  # the function definition's own signature
            continue
        deps = re.findall(r"\btutti_(\w+)", rest)
        graph[name] = set(deps)
    return graph


def closure(graph, stage):
    seen, todo = set(), [stage]
    while todo:
        for d in graph.get(todo.pop(), ()):
            if d not in seen:
                seen.add(d)
                todo.append(d)
    return seen


def main():
    repo = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    with open(os.path.join(repo, "CMakeLists.txt")) as f:
        graph = module_graph(f.read())
    src = os.path.join(repo, "src", "tutti")
    violations, files = [], 0
    for stage in sorted(os.listdir(src)):
        if stage not in graph:
            violations.append(f"src/tutti/{stage}: no tutti_module({stage} ...) in CMakeLists.txt")
            continue
        allowed = closure(graph, stage) | {stage}
        for root, _, names in os.walk(os.path.join(src, stage)):
            for name in sorted(names):
                if not name.endswith((".h", ".cpp")):
                    continue
                path = os.path.join(root, name)
                rel = os.path.relpath(path, repo)
                files += 1
                with open(path, encoding="utf-8") as f:
                    for lineno, line in enumerate(f, 1):
                        m = TUTTI_INCLUDE.search(line)
                        if m and m.group(1) not in allowed:
                            violations.append(f"{rel}:{lineno}: {stage} includes {m.group(1)} "
                                              f"(allowed: {', '.join(sorted(allowed))})")
                        if TORCH_INCLUDE.search(line) and stage not in TORCH_STAGES:
                            violations.append(f"{rel}:{lineno}: {stage} includes LibTorch")
    for v in violations:
        print(v)
    if violations:
        print(f"layering: {len(violations)} violation(s) in {files} files")
        return 1
    print(f"layering: {files} files, no violation")
    return 0


if __name__ == "__main__":
    sys.exit(main())
