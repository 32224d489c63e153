#!/usr/bin/env python3
"""Fails when two source files of one folder define a file-local function of the same name.

scripts/setup.sh builds as a unity build: CMake compiles each target's sources joined into a few files, so
the functions of an anonymous namespace (or `static`) of one file are visible in the next. Two of one name
either fail to compile or, worse, compile and call the other one: s3_location.cpp's `trim(std::string)`
(spaces, tabs, CRs), joined before s3_client.cpp, would be a better match for s3_client.cpp's calls with a
std::string than its own `trim(std::string_view)` (every space character), and would leave the newline on
the HTTP header lines curl hands back. Whether it happens depends on the order of the files in the joined
file, which adding a file changes. A folder is a target (src/<stage>, tests/<stage>), so a name must be
unique within its folder.

Usage: check_file_local_names.py [ROOT]   (ROOT: the repository, default: this script's parent's parent)
"""
import collections
import os
import re
import sys

# A definition at column 0 (clang-format does not indent namespaces): a return type, the name, its '('.
DEFINITION = re.compile(
    r"^(?!(?:return|if|for|while|switch|case|else|namespace|using|class|struct|enum|union|typedef|template|"
    r"TEST|TEST_F|TEST_P|EXPECT|ASSERT|INSTANTIATE|#)\b)"
    r"(?:static\s+|inline\s+|constexpr\s+)*[A-Za-z_][\w:<>,\s*&]*?[\s*&>]([A-Za-z_]\w*)\((.*)$")
OPEN_ANONYMOUS = re.compile(r"^namespace\s*\{")
CLOSE_NAMESPACE = re.compile(r"^\}\s*//\s*namespace\s*$")


def file_local_functions(path):
    names = set()
    anonymous = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if OPEN_ANONYMOUS.match(line):
                anonymous += 1
                continue
            if anonymous and CLOSE_NAMESPACE.match(line):
                anonymous -= 1
                continue
            m = DEFINITION.match(line)
            declaration = line.rstrip().endswith(");")  # a prototype or an object built with arguments
            if m and not declaration and (anonymous or line.startswith("static ")):
                names.add(m.group(1))
    return names


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    clashes = []
    for top in ("src", "tests", "bench"):
        for folder, _, files in os.walk(os.path.join(root, top)):
            where = collections.defaultdict(list)
            for name in sorted(files):
                if name.endswith((".cpp", ".cc")):
                    for function in file_local_functions(os.path.join(folder, name)):
                        where[function].append(name)
            for function, in_files in sorted(where.items()):
                if len(in_files) > 1:
                    clashes.append(f"{os.path.relpath(folder, root)}: {function}() in {', '.join(in_files)}")
    for c in clashes:
        print(c)
    if clashes:
        print(f"{len(clashes)} file-local function name(s) defined in more than one file of a folder: rename one or "
              "share it in a header (a unity build joins the files)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
