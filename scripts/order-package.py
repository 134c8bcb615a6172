#!/usr/bin/env python3
"""Orders the targets of Package.swift as the module graph reads: every module after the modules it
depends on (each keeps its place unless a dependency has to come first), then TestSupport, then the
test targets in the order of the modules they are named for. Each target keeps the comment lines
above it. Tests/RecoveryGatewayTests/PackageOrderTests.swift fails while the order is off; run this
after adding a target or merging two branches that did.

    scripts/order-package.py [Package.swift]
"""

import re
import sys

TARGET = re.compile(r"        \.(target|testTarget|executableTarget|systemLibrary)\(")


def blocks_of(body):
    """The targets of the `targets: [ … ]` body: each its lines, with the comment lines above it."""
    blocks, pending, current, depth = [], [], None, 0
    for line in body.split("\n"):
        if current is None:
            if TARGET.match(line):
                current, pending, depth = pending + [line], [], 0
            elif line.strip():
                pending.append(line)
                continue
            else:
                continue
        else:
            current.append(line)
        depth += line.count("(") - line.count(")")
        if depth <= 0:
            blocks.append(current)
            current = None
    if current is not None or pending:
        raise SystemExit("order-package: cannot read the targets' list")
    return blocks


def name_of(block):
    return re.search(r'name: "([^"]+)"', "\n".join(line for line in block if not line.lstrip().startswith("//"))).group(
        1
    )


def is_test(block):
    text = "\n".join(block)
    return ".testTarget(" in text or name_of(block) == "TestSupport"


def dependencies_of(block, names):
    text = "\n".join(line for line in block if not line.lstrip().startswith("//"))
    listed = re.search(r"dependencies: \[(.*?)\]", text, re.S)
    if not listed:
        return []
    local = re.sub(r"\.product\([^)]*\)", "", listed.group(1))
    return [name for name in re.findall(r'"([^"]+)"', local) if name in names]


def ordered(blocks):
    modules = [b for b in blocks if not is_test(b)]
    by_name = {name_of(b): b for b in modules}
    placed, result = set(), []

    def place(block, path=()):
        name = name_of(block)
        if name in placed:
            return
        if name in path:
            raise SystemExit(f"order-package: a dependency cycle through {name}")
        for dependency in dependencies_of(block, by_name):
            place(by_name[dependency], (*path, name))
        placed.add(name)
        result.append(block)

    for block in modules:
        place(block)
    position = {name_of(b): n for n, b in enumerate(result)}
    tests = [b for b in blocks if is_test(b)]

    def rank(block):
        name = name_of(block)
        if name == "TestSupport":
            return -1
        module = name.removesuffix("Tests")
        if module in position:
            return position[module]
        return max((position.get(d, 0) for d in dependencies_of(block, position)), default=len(position))

    return result + sorted(tests, key=rank)  # sorted() is stable: ties keep their order


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "Package.swift"
    text = open(path, encoding="utf-8").read()
    start = text.index("    targets: [\n") + len("    targets: [\n")
    end = text.index("\n    ]\n)", start)
    body = "\n\n".join("\n".join(block) for block in ordered(blocks_of(text[start:end])))
    with open(path, "w", encoding="utf-8") as f:
        f.write(text[:start] + body + text[end:])


if __name__ == "__main__":
    main()
