"""The bad-input catalogue of docs/reliability.md: each case through the real CLI.

Every case must end in exit 0 (a valid project) or exit 1 with a message that names the notebook and
the cell or the argument; never "unexpected error", never a traceback, never an invalid file, and a
refused promotion writes nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PYTHON_KERNEL = {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}}
BASE = [
    (["parameters"], "lr = 0.1\nepochs = 2"),
    (["promote:data"], "xs = [1.0, 2.0, 3.0]"),
    (["promote:train"], "w = sum(xs) * lr * epochs"),
    (["promote:evaluate"], "score = float(w)"),
]


def notebook(cells: list, metadata: dict | None = None) -> dict:
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": PYTHON_KERNEL if metadata is None else metadata,
        "cells": [
            {
                "cell_type": "code",
                "id": f"c{index}",
                "metadata": {} if tags is None else {"tags": tags},
                "source": source,
                "execution_count": None,
                "outputs": [],
            }
            for index, (tags, source) in enumerate(cells)
        ],
    }


@dataclass
class Case:
    id: str
    cells: list = field(default_factory=lambda: list(BASE))
    args: tuple = ()
    exit: int = 0
    says: str = ""  # a text the message must hold (exit 1), or the stdout/stderr (exit 0)
    metadata: dict | None = None
    file_name: str = "nb.ipynb"
    raw: dict | None = None  # a notebook document to write as is


def deep(text: str) -> list:
    return [*BASE, (["promote:data"], text)]


def base_with(tags, source) -> list:
    return [*BASE, (tags, source)]


def with_markdown(tags: list[str]) -> dict:
    """The base notebook with a markdown cell tagged ``tags`` above its last cell."""
    document = notebook(BASE)
    markdown = {"cell_type": "markdown", "id": "md", "metadata": {"tags": tags}, "source": "## Training"}
    document["cells"].insert(len(BASE) - 1, markdown)
    return document


def malformed(**cell_fields) -> dict:
    document = notebook(BASE)
    document["cells"][1].update(cell_fields)
    return document


CASES = [
    Case("valid-baseline"),
    # malformed notebook documents
    Case("null-source", raw=malformed(source=None), exit=1, says="cell 1 (id c1)"),
    Case("numeric-source", raw=malformed(source=42), exit=1, says="'source' must be text"),
    Case("list-source-with-null", raw=malformed(source=["x = 1\n", None]), exit=1, says="cannot be read as a notebook"),
    Case("string-execution-count", raw=malformed(execution_count="3"), exit=1, says="'execution_count'"),
    Case("bool-execution-count", raw=malformed(execution_count=True), exit=1, says="'execution_count'"),
    Case("tags-a-string", raw=malformed(metadata={"tags": "promote:data"}), exit=1, says='["promote:data"]'),
    Case("tags-with-number", raw=malformed(metadata={"tags": [1]}), exit=1, says="'tags' must be a list"),
    Case("metadata-a-list", raw=malformed(metadata=[]), exit=1, says="cannot be read as a notebook"),
    Case("cell-a-string", raw={**notebook(BASE), "cells": ["x = 1"]}, exit=1, says="cannot be read as a notebook"),
    Case("cell-type-number", raw=malformed(cell_type=3), exit=1, says="cannot be read as a notebook"),
    Case("lone-surrogate", cells=base_with(["promote:data"], "s = '\ud800'"), exit=1, says="surrogate"),
    Case("not-json", raw=None, file_name="broken.ipynb", exit=1, says="cannot be read as a notebook"),
    # not Python
    Case(
        "r-kernel",
        cells=[(["promote:data"], "x <- c(1,2,3)")],
        metadata={"kernelspec": {"name": "ir", "language": "R", "display_name": "R"}},
        exit=1,
        says="not a Python notebook",
    ),
    Case(
        "julia-language-info",
        metadata={"language_info": {"name": "julia"}},
        exit=1,
        says="not a Python notebook",
    ),
    Case("python3-language-info", metadata={"language_info": {"name": "Python"}}),
    Case("no-kernel-metadata", metadata={}),
    # deep nesting: a diagnostic on the cell
    Case("unary-minus-50000", cells=deep("x = " + "-(" * 50_000 + "1" + ")" * 50_000), exit=1, says="PRM001"),
    Case("attribute-chain-20000", cells=deep("x = xs" + ".T" * 20_000), exit=1, says="PRM001"),
    Case("sum-3000", cells=deep("x = " + "+".join(["1"] * 3_000)), exit=1, says="PRM001"),
    Case("lambdas-1000", cells=deep("f = " + "lambda: " * 1_000 + "1"), exit=1, says="PRM001"),
    Case("deep-but-skipped", cells=[*BASE, (["promote:skip"], "x = " + "+".join(["1"] * 3_000))]),
    Case("lists-100", cells=deep("x = " + "[" * 100 + "]" * 100)),
    # package names
    Case("name-keyword-import", args=("--name", "import"), exit=1, says="--name import_"),
    Case("name-keyword-class", args=("--name", "class"), exit=1, says="--name class_"),
    Case(
        "name-torch",
        cells=[*BASE, (["promote:imports"], "import torch")],
        args=("--name", "torch"),
        exit=1,
        says="shadow",
    ),
    Case("name-stdlib-json", args=("--name", "json"), exit=1, says="shadow"),
    Case("file-numpy", file_name="numpy.ipynb", exit=1, says="would shadow the module numpy"),
    Case("name-pytest", args=("--name", "pytest"), exit=1, says="would shadow the module pytest"),
    Case("name-non-ascii", args=("--name", "données_π"), exit=1, says="--name donnees"),
    Case("name-with-dash", args=("--name", "my-pkg"), exit=1, says="--name my_pkg"),
    Case("name-leading-digit", args=("--name", "1pkg"), exit=1, says="--name nb_1pkg"),
    Case("name-valid", args=("--name", "churn_model")),
    # notebook file names
    Case("file-spaces-accents", file_name="my nb (1) ü.ipynb"),
    Case("file-backslash", file_name="back\\q.ipynb"),
    Case("file-double-quote", file_name='say "hi".ipynb'),
    Case("file-newline", file_name="two\nlines.ipynb"),
    Case("file-keyword", file_name="class.ipynb"),
    Case("file-digits", file_name="2024.ipynb"),
    Case("file-triple-quote", file_name='a""".ipynb'),
    # parameters
    Case("param-set", cells=[(["parameters"], "lr = {1, 2}"), *BASE[1:]], exit=1, says="a set value"),
    Case(
        "param-int-keys-large",
        cells=[(["parameters"], "lr = {" + ", ".join(f"{i}: {i}" for i in range(3000)) + "}"), *BASE[1:]],
        exit=1,
        says="parameter lr = {0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9…: a dict with a key that is no text (0)",
    ),
    Case("param-bytes", cells=[(["parameters"], "lr = b'x'"), *BASE[1:]], exit=1, says="a bytes value"),
    Case("param-complex", cells=[(["parameters"], "lr = 1j"), *BASE[1:]], exit=1, says="a complex value"),
    Case("param-ellipsis", cells=[(["parameters"], "lr = ..."), *BASE[1:]], exit=1, says="ellipsis"),
    Case("param-inf", cells=[(["parameters"], "lr = 1e999"), *BASE[1:]], exit=1, says="the float inf"),
    Case("param-nested-set", cells=[(["parameters"], "lr = [{1}]"), *BASE[1:]], exit=1, says="a list holding a set"),
    Case(
        "param-int-keys",
        cells=[(["parameters"], "lr = {1: 2}"), *BASE[1:]],
        exit=1,
        says="a dict with a key that is no text (1)",
    ),
    Case("param-lr-LR", cells=[(["parameters"], "lr = 0.1\nLR = 0.2"), *BASE[1:]], exit=1, says="both be the CLI flag"),
    Case("param-quotes", cells=[(["parameters"], "lr = 0.1\nname = 'a\"b\\'c\\\\d'"), *BASE[1:]]),
    Case("param-unicode-separators", cells=[(["parameters"], "lr = 0.1\nsep = '\u2028\x85'  # \u2029 odd"), *BASE[1:]]),
    Case("param-percent", cells=[(["parameters"], "lr = 0.1\nfmt = '%d %s %%'"), *BASE[1:]]),
    Case("param-none", cells=[(["parameters"], "lr = 0.1\nmaybe = None"), *BASE[1:]]),
    Case("param-tuple", cells=[(["parameters"], "lr = 0.1\nshape = (1, 2)"), *BASE[1:]]),
    Case("param-dict", cells=[(["parameters"], "lr = 0.1\nopts = {'a': [1, 2], 'b': {'c': None}}"), *BASE[1:]]),
    # step tags
    Case("step-non-ascii", cells=base_with(["step:données"], "z = w")),
    Case(
        "step-case-duplicate",
        cells=[*BASE, (["step:prep"], "z = w"), (["step:Prep"], "v = z")],
        exit=1,
        says="both named 'prep'",
    ),
    Case("step-leading-digit", cells=base_with(["step:1abc"], "z = w"), says="unknown tag 'step:1abc'"),
    Case("step-traversal", cells=base_with(["step:../../x"], "z = w"), says="unknown tag 'step:../../x'"),
    Case("step-keyword", cells=base_with(["step:class"], "z = w")),
    # tags that would do nothing without a word
    Case("tag-upper-case", cells=base_with(["PROMOTE:EVALUATE"], "z = w"), says="did you mean 'promote:evaluate'?"),
    Case("tag-dash", cells=base_with(["promote-evaluate"], "z = w"), says="did you mean 'promote:evaluate'?"),
    Case("tag-on-markdown", raw=with_markdown(["promote:train"]), says="on a markdown cell does nothing"),
    # code the generated function cannot hold
    Case(
        "top-level-await",
        cells=base_with(["promote:data"], "import asyncio\nawait asyncio.sleep(0)"),
        exit=1,
        says="top-level await",
    ),
    Case(
        "top-level-async-for",
        cells=base_with(["promote:data"], "async for x in y:\n    pass"),
        exit=1,
        says="top-level await",
    ),
    Case("await-inside-async-def", cells=base_with(["promote:data"], "async def f():\n    await g()")),
    Case("syntax-error-in-skip", cells=base_with(["promote:skip"], "def (:")),
    Case("syntax-error-promoted", cells=base_with(["promote:data"], "def (:"), exit=1, says="PRM001"),
    # code the parser accepts but Python's compiler rejects (IPython compiles every cell): named at its line
    Case(
        "global-after-use",
        cells=base_with(["promote:data"], "z = w + 1\nglobal w"),
        exit=1,
        says="cell 4 (id c4), line 2: error PRM001 syntax error: name 'w' is used prior to global declaration",
    ),
    Case("break-outside-loop", cells=base_with(["promote:data"], "z = 1\nbreak"), exit=1, says="'break' outside loop"),
    Case(
        "duplicate-argument",
        cells=base_with(["promote:data"], "def f(a, a):\n    return a"),
        exit=1,
        says="line 1: error PRM001 syntax error: duplicate argument 'a'",
    ),
    Case("starred-target-alone", cells=base_with(["promote:data"], "*z = [1]"), exit=1, says="starred assignment"),
    Case(
        "future-import-not-first",
        cells=base_with(["promote:data"], "import os\nfrom __future__ import annotations"),
        exit=1,
        says="from __future__ imports must occur at the beginning",
    ),
    Case("compile-error-in-skip", cells=base_with(["promote:skip"], "z = w + 1\nglobal w")),
    Case(
        "star-import-in-a-block",
        cells=base_with(["promote:evaluate"], "if w:\n    from math import *\nz = 1"),
        exit=1,
        says="cell 4 (id c4), line 2: error PRM001 `from math import *` inside a block",
    ),
    Case("star-import-at-top-level", cells=base_with(["promote:evaluate"], "from math import *\nz = sqrt(w)")),
    # the package anchors relative paths itself and runs each stage in a process of its own
    Case(
        "chdir-in-a-promoted-cell",
        cells=base_with(["promote:evaluate"], "import os\nos.makedirs('sub', exist_ok=True)\nos.chdir('sub')"),
        exit=1,
        says="cell 4 (id c4), line 3: error PRM050 os.chdir moves the folder",
    ),
    Case("chdir-in-a-skipped-cell", cells=base_with(["promote:skip"], "import os\nos.chdir('.')")),
    Case(
        "cd-magic-in-a-promoted-cell",
        cells=base_with(["promote:evaluate"], "%cd sub\nv = 1"),
        exit=1,
        says="cell 4 (id c4), line 1: error PRM050 %cd moves the folder",
    ),
    Case("pushd-magic-in-a-skipped-cell", cells=base_with(["promote:skip"], "%pushd sub")),
    # what exists only in a kernel someone sits at
    Case(
        "google-colab-in-a-promoted-cell",
        cells=base_with(["promote:data"], "from google.colab import drive\ndrive.mount('/content/drive')\nv = 1"),
        exit=1,
        says="cell 4 (id c4), line 1: error PRM052 google.colab exists only inside Google Colab",
    ),
    Case("google-colab-in-a-skipped-cell", cells=base_with(["promote:skip"], "from google.colab import drive")),
    Case(
        "run-magic-in-a-promoted-cell",
        cells=base_with(["promote:data"], "%run helpers.py\nv = F"),
        exit=1,
        says="cell 4 (id c4), line 1: error PRM052 %run helpers.py runs a file of the notebook's own",
    ),
    Case(
        "global-set-only-by-a-function",
        cells=[
            *BASE[:1],
            (["promote:data"], "def main():\n    global v\n    v = 3.0\n\n\nif __name__ == '__main__':\n    main()"),
            (["promote:evaluate"], "score = v * lr"),
        ],
        exit=1,
        says="error PRM002 'v' is set only by `global v` in main() (cell 1, id c1, line 2)",
    ),
    Case(
        "input-in-a-promoted-cell",
        cells=base_with(["promote:data"], "name = input('which run?')\nv = len(name)"),
        exit=1,
        says="cell 4 (id c4), line 1: error PRM053 input() waits for someone to type an answer",
    ),
    Case(
        "getpass-in-a-promoted-cell",
        cells=base_with(["promote:data"], "import getpass\ntoken = getpass.getpass()\nv = len(token)"),
        exit=1,
        says="cell 4 (id c4), line 2: error PRM053 getpass() waits",
    ),
    Case("input-in-a-skipped-cell", cells=base_with(["promote:skip"], "name = input()")),
    # IPython's history exists only in a kernel: said so, not "defined in no cell"
    Case(
        "ipython-last-output", cells=base_with(["promote:evaluate"], "print(_)"), says="'_' is IPython's input/output"
    ),
    Case(
        "ipython-out-history",
        cells=base_with(["promote:evaluate"], "v = Out[3]"),
        says="'Out' is IPython's input/output",
    ),
    # a module-level `global` is a no-op in the notebook; in the step function it would be a declaration
    Case("global-in-a-later-cell", cells=[(["block:b"], "x = 1\ny = x + 1"), ([], "global y")]),
    Case(
        "global-in-a-module-level-block",
        cells=[(["block:b"], "u = 2"), ([], "for i in range(1):\n    global u; t = i\nv = u")],
    ),
    # magics and shell lines
    Case(
        "apostrophe-in-shell-comment-skip",
        cells=base_with(
            ["promote:skip"],
            "try:\n    !pip install torchmetrics==0.9.3 # this is the version we're using\nexcept Exception:\n    pass",
        ),
    ),
    Case(
        "apostrophe-in-shell-comment-promoted",
        cells=base_with(["promote:data"], "!pip install torchmetrics==0.9.3 # the version we're using"),
        says="PRM021",
    ),
    Case("unbalanced-quote-shell", cells=base_with(["promote:data"], "!echo 'unbalanced"), says="PRM009"),
    Case("requirement-with-quote", cells=base_with(["promote:data"], '%pip install "foo\\"bar"'), says="left out"),
    Case(
        "requirement-wheel-url",
        cells=base_with(["promote:data"], "!pip install https://x.org/a-1-py3-none-any.whl"),
        says="left out",
    ),
    Case("foreign-cell-magic", cells=base_with(["promote:data"], "%%bash\necho hi")),
    Case("unknown-line-magic", cells=base_with(["promote:data"], "%whatever 1\nq = 1")),
    # line separators inside code
    Case("form-feed-line-start", cells=base_with(["promote:data"], "a = 1\n\x0cb = a + 1")),
    Case("u2028-in-string", cells=base_with(["promote:data"], "s = 'a\u2028b'\nt = len(s)")),
    Case("x85-in-comment", cells=base_with(["promote:data"], "s = 1  # \x85 next\nt = s")),
    Case("vertical-tab-in-string", cells=base_with(["promote:data"], "s = 'a\x0bb'\nt = s")),
    Case("crlf-source", cells=base_with(["promote:data"], "a = 1\r\nb = a\rc = b")),
    Case("x85-outside-string", cells=base_with(["promote:data"], "a = 1\x85"), exit=1, says="PRM001"),
    # notebook structure
    Case("no-cells", raw={**notebook(BASE), "cells": []}, exit=1, says="PRM018"),
    Case(
        "markdown-only",
        raw={**notebook(BASE), "cells": [{"cell_type": "markdown", "metadata": {}, "source": "# t"}]},
        exit=1,
        says="PRM018",
    ),
    Case(
        "raw-cell-between",
        raw={
            **notebook(BASE),
            "cells": [
                *notebook(BASE)["cells"][:2],
                {"cell_type": "raw", "metadata": {}, "source": "x"},
                *notebook(BASE)["cells"][2:],
            ],
        },
    ),
    Case("untagged-only", cells=[(None, "x = 1"), (None, "y = x")], exit=1, says="PRM018"),
    Case("empty-cells-between", cells=[*BASE[:2], (None, ""), (["promote:data"], "   \n\n"), *BASE[2:]]),
    Case("comment-only-promoted-cell", cells=base_with(["promote:export"], "# nothing to export yet")),
    Case("duplicate-cell-ids", raw={**notebook(BASE), "cells": [{**c, "id": "same"} for c in notebook(BASE)["cells"]]}),
    # a cell id is quoted in the generated code's comments: one holding a newline would write code there
    Case(
        "cell-id-with-newline-and-code",
        raw={
            **notebook(BASE),
            "cells": [
                {**notebook(BASE)["cells"][0], "id": "a\nimport os\nos.system('x')\n#"},
                *notebook(BASE)["cells"][1:],
            ],
        },
        exit=1,
        says="is not a cell id",
    ),
    Case(
        "cell-id-a-number",
        raw={**notebook(BASE), "cells": [{**notebook(BASE)["cells"][0], "id": 7}, *notebook(BASE)["cells"][1:]]},
        exit=1,
        says="is not a cell id",
    ),
    Case(
        "cell-id-too-long",
        raw={**notebook(BASE), "cells": [{**notebook(BASE)["cells"][0], "id": "x" * 65}, *notebook(BASE)["cells"][1:]]},
        exit=1,
        says="is not a cell id",
    ),
    Case(
        "nbformat-missing",
        raw={k: v for k, v in notebook(BASE).items() if k != "nbformat"},
        exit=1,
        says="cannot be read as a notebook",
    ),
    Case("nbformat-5", raw={**notebook(BASE), "nbformat": 5}, exit=1, says="cannot be read as a notebook"),
    Case("cells-not-a-list", raw={**notebook(BASE), "cells": {"a": 1}}, exit=1, says="cannot be read as a notebook"),
    Case(
        "huge-output-ignored",
        raw={
            **notebook(BASE),
            "cells": [
                (
                    {**c, "outputs": [{"output_type": "stream", "name": "stdout", "text": "x" * 2_000_000}]}
                    if i == 1
                    else c
                )
                for i, c in enumerate(notebook(BASE)["cells"])
            ],
        },
    ),
    # tags and directives
    Case("two-roles-on-one-cell", cells=base_with(["promote:data", "promote:train"], "z = w"), says="PRM"),
    Case("skip-and-role", cells=base_with(["promote:skip", "promote:data"], "z = w"), says=""),
    Case("uppercase-role", cells=base_with(["promote:DATA"], "z = w"), says=""),
    Case("empty-promote-tag", cells=base_with(["promote:"], "z = w"), says="unknown tag"),
    Case("whitespace-tag", cells=base_with(["  promote:data  "], "z = w")),
    Case("directive-first-line", cells=[*BASE, (None, "# promote: evaluate\nextra = score + 1")]),
    Case("bogus-directive", cells=[*BASE, (None, "# promote: banana\nextra = 1")], says="banana"),
    Case(
        "kale-metrics-and-prev",
        cells=[*BASE, (["pipeline-metrics"], "print(score)"), (["step:later", "prev:train"], "q = w")],
    ),
    Case("two-parameters-cells", cells=[*BASE, (["parameters"], "extra_lr = 0.5")]),
    Case(
        "parameters-with-expression",
        cells=[(["parameters"], "lr = 0.1\nepochs = 2\nsteps = epochs * 10"), *BASE[1:]],
        says="PRM019",
    ),
    Case(
        "parameter-named-cfg",
        cells=[(["parameters"], "lr = 0.1\nepochs = 2\ncfg = 1"), *BASE[1:]],
        exit=1,
        says="PRM023",
    ),
    Case(
        "parameter-named-artifacts-dir",
        cells=[(["parameters"], "lr = 0.1\nepochs = 2\nartifacts_dir = 'x'"), *BASE[1:]],
        exit=1,
        says="PRM023",
    ),
    Case(
        "parameter-named-tracking-uri",
        cells=[(["parameters"], "lr = 0.1\nepochs = 2\ntracking_uri = 3"), *BASE[1:]],
        exit=1,
        says="setting the MLOps stages read (register's MLflow tracking URI)",
    ),
    Case("parameter-shadowing-builtin", cells=[(["parameters"], "lr = 0.1\nepochs = 2\nlist = 3"), *BASE[1:]]),
    Case("empty-parameters-cell", cells=[(["parameters"], ""), *BASE[1:]], says="PRM002"),
    # code shapes
    Case("return-at-top-level", cells=base_with(["promote:data"], "return 1"), exit=1, says="PRM001"),
    Case("yield-at-top-level", cells=base_with(["promote:data"], "yield 1"), exit=1, says="PRM001"),
    Case("star-import", cells=[(None, "from math import *"), *BASE, (["promote:evaluate"], "root = sqrt(score)")]),
    Case("global-statement", cells=base_with(["promote:data"], "global w\nw = 2")),
    Case("nonlocal-at-top", cells=base_with(["promote:data"], "nonlocal w"), exit=1, says="PRM001"),
    Case(
        "match-statement",
        cells=base_with(
            ["promote:evaluate"],
            "match score:\n    case 0:\n        kind = 'zero'\n    case _:\n        kind = 'other'",
        ),
    ),
    Case("walrus", cells=base_with(["promote:evaluate"], "if (n := len(xs)) > 1:\n    ratio = score / n")),
    Case("unicode-identifiers", cells=base_with(["promote:evaluate"], "ß = score * 2\nπ_score = ß")),
    Case("builtin-rebound", cells=base_with(["promote:data"], "list = [1]\nsize = len(list)")),
    Case("sys-argv", cells=base_with(["promote:data"], "import sys\nargs = sys.argv[1:]")),
    Case("exit-call", cells=base_with(["promote:skip"], "exit()")),
    Case("input-call-skipped", cells=base_with(["promote:skip"], "answer = input('go?')")),
    Case("dunder-file", cells=base_with(["promote:data"], "import os\nhere = os.path.dirname(os.path.abspath('.'))")),
    Case(
        "decorated-class",
        cells=base_with(
            ["promote:data"], "from dataclasses import dataclass\n@dataclass\nclass P:\n    a: int = 1\np = P()"
        ),
    ),
    Case(
        "try-finally-top",
        cells=base_with(
            ["promote:data"], "try:\n    v = 1 / 1\nexcept ZeroDivisionError:\n    v = 0\nfinally:\n    done = True"
        ),
    ),
    Case("del-parameter", cells=base_with(["promote:evaluate"], "total = score + lr\ndel total")),
    Case("very-long-name", cells=base_with(["promote:evaluate"], "a" * 300 + " = score")),
    Case("line-of-100000-chars", cells=base_with(["promote:evaluate"], "q = [" + ", ".join(["score"] * 14_000) + "]")),
    Case(
        "sum-chain-2000",
        cells=base_with(["promote:evaluate"], "q = " + " + ".join(["score"] * 2000)),
        exit=1,
        says="PRM001",
    ),
    Case("many-small-cells", cells=[*BASE, *[(["promote:data"], f"v{i} = {i}") for i in range(500)]]),
    Case("null-byte-in-string", cells=base_with(["promote:data"], "s = 'a\\x00b'")),
    Case("tab-indentation", cells=base_with(["promote:data"], "for i in range(2):\n\tq = i")),
    Case(
        "mixed-tabs-spaces",
        cells=base_with(["promote:data"], "if True:\n\tq = 1\n        r = 2"),
        exit=1,
        says="PRM001",
    ),
    Case("bom-in-source", cells=base_with(["promote:data"], "\ufeffq = 1"), exit=1, says="U+FEFF"),
    Case("cell-magic-time", cells=base_with(["promote:data"], "%%time\nq = sum(xs)")),
    Case("help-syntax", cells=base_with(["promote:data"], "xs?\nq = 1")),
    Case("get-ipython-call", cells=base_with(["promote:data"], "get_ipython().run_line_magic('time', 'q = 1')")),
    # arguments
    Case("unknown-option", args=("--frobnicate",), exit=2, says="frobnicate"),
    Case("name-empty-means-default", args=("--name", "")),
    # names rebound in every step are fine
    Case(
        "rebound-in-every-step",
        cells=[
            (["parameters"], "lr = 0.1"),
            (["promote:data"], "x = 1"),
            (["promote:train"], "x = 2\ny = x"),
            (["promote:evaluate"], "x = 3\nscore = float(x + y)"),
        ],
    ),
]


def write_case(case: Case, directory: Path) -> Path:
    directory.mkdir()
    path = directory / case.file_name
    if case.file_name == "broken.ipynb":
        path.write_text("{not json")
    else:
        document = case.raw if case.raw is not None else notebook(case.cells, case.metadata)
        path.write_text(json.dumps(document), encoding="utf-8")
    return path


def promote_cli(notebook_path: Path, output: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "jupyterlab_promote.app", str(notebook_path), "--output", str(output), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(case: Case, tmp_path: Path) -> None:
    path = write_case(case, tmp_path / "in")
    output = tmp_path / "out"

    run = promote_cli(path, output, "--no-commit", *case.args)

    said = run.stdout + run.stderr
    assert "unexpected error" not in said and "Traceback" not in said, said
    assert run.returncode == case.exit, said
    assert case.says in said, said
    if case.exit:
        assert not output.exists(), "a refused promotion wrote files"
    else:
        from jupyterlab_promote.codegen.validate import _parse

        for file in output.rglob("*"):
            if file.is_file():
                assert _parse(file.name, file.read_text(encoding="utf-8")) is None, file


def test_index_lock_says_another_git_process(tmp_path: Path) -> None:
    path = write_case(Case("lock"), tmp_path / "in")
    output = tmp_path / "out"
    assert promote_cli(path, output).returncode == 0
    (output / ".git" / "index.lock").write_text("")
    (tmp_path / "in" / path.name).write_text(
        json.dumps(
            notebook(base_with(["promote:data"], "z = 1")),
        )
    )

    run = promote_cli(path, output)

    assert run.returncode == 1 and "another git process is running" in run.stderr
    assert "remove .git/index.lock" in run.stderr


def test_output_dot_over_a_tracked_readme_is_refused_before_merging(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    (repo / "README.md").write_text("mine\n")
    path = write_case(Case("dot"), repo / "nbs")
    subprocess.run(["git", "add", "."], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "start"], cwd=repo, check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout

    run = promote_cli(path, repo)

    assert run.returncode == 1 and "README.md" in run.stderr, run.stderr
    assert not (repo / ".git" / "MERGE_HEAD").exists() and not (repo / ".git" / "AUTO_MERGE").exists()
    assert subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout == head
    assert subprocess.run(
        ["git", "for-each-ref", "--format=%(refname)"], cwd=repo, capture_output=True, text=True
    ).stdout.split() == ["refs/heads/main"]
    assert subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True).stdout == ""


def test_unwritable_output_parent_says_what_failed_without_none(tmp_path: Path) -> None:
    import os

    if os.geteuid() == 0:
        output = Path("/proc/promote-test/out")  # no one can create directories in /proc
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        output = locked / "out"
    path = write_case(Case("unwritable"), tmp_path / "in")

    run = promote_cli(path, output)

    assert run.returncode == 1 and "None" not in run.stderr and "unexpected" not in run.stderr, run.stderr


def test_output_name_longer_than_the_file_system_allows(tmp_path: Path) -> None:
    path = write_case(Case("long"), tmp_path / "in")
    run = promote_cli(path, tmp_path / ("a" * 300))
    assert run.returncode == 1 and "File name too long" in run.stderr and "unexpected" not in run.stderr


@pytest.mark.parametrize(
    ("path", "text", "says"),
    [
        (
            "src/pkg/a.py",
            "def f(x, x):\n    pass\n",
            "line 1: duplicate argument 'x'",
        ),  # the compiler's, not the parser's
        ("src/pkg/b.py", "x = 1\ny = (\n", "line 2"),
        ("pyproject.toml", 'name = "a\n', "line 1"),
        ("dvc.yaml", "stages: [\n", ""),
        ("src/pkg/ok.py", "x = 1\n", None),
        ("config.yaml", "a: 1\n", None),
    ],
)
def test_a_generated_file_that_does_not_parse_is_named_and_the_verdict_is_kept(path, text, says) -> None:
    """The verdict on a text is remembered (the panel previews the same files again and again): the same the
    second time, and for a text of over a megabyte too."""
    from jupyterlab_promote.codegen.validate import _parse

    first, again, large = _parse(path, text), _parse(path, text), _parse(path, text + "\n" * 1_000_000)
    if says is None:
        assert first is again is large is None
    else:
        assert first is not None and says in first and again == first and large is not None


def test_the_package_names_refused_cover_what_the_templates_import_and_run() -> None:
    """A package named like a module the generated code imports, or a tool its README and CI run (pytest, dvc),
    would stand in for it: validate.GENERATED_USES must name every one the templates use."""
    import re
    import sys

    from jupyterlab_promote import codegen
    from jupyterlab_promote.codegen.validate import GENERATED_USES

    here = Path(codegen.__file__).resolve().parent
    skeleton = [p for p in (here / "skeleton").rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    files = [*(here / "templates").glob("*.j2"), *skeleton]  # not the bytecode Python writes when a hook is imported
    used: set[str] = set()
    for path in files:
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"^\s*(?:import|from)\s+([A-Za-z_]\w*)", text, re.MULTILINE))
        used |= {
            name
            for found in re.findall(r"python -m ([A-Za-z_]\w*)|\"-m\", \"(\w+)\"|find_spec\(\"(\w+)\"\)", text)
            for name in found
            if name
        }
        used |= set(re.findall(r"^\s*(?:- )?run:\s*([A-Za-z_]\w*)", text, re.MULTILINE))
    not_python = {"python", "gh", "docker", "git", "sh", "echo", "cd"}  # commands no package name can stand in for
    assert used - set(sys.stdlib_module_names) - {"__future__"} - not_python <= GENERATED_USES
    assert len(files) > 20 and {"optuna", "mlflow", "pytest", "dvc"} <= used


@pytest.mark.parametrize("where", ["file", "under-a-file"])
def test_an_output_that_is_or_lies_under_a_file_is_refused_before_anything_is_written(tmp_path: Path, where: str):
    path = write_case(Case("output-file"), tmp_path / "in")
    taken = tmp_path / "notes.txt"
    taken.write_text("mine\n")
    output = taken if where == "file" else taken / "project"
    run = promote_cli(path, output, "--no-commit")
    said = run.stdout + run.stderr
    assert run.returncode == 1 and (
        "is a file; give --output a folder" in said or "notes.txt is a file, not a folder" in said
    ), said
    assert (
        "Errno" not in said
        and taken.read_text() == "mine\n"
        and sorted(p.name for p in tmp_path.iterdir()) == ["in", "notes.txt"]
    )


@pytest.mark.parametrize("output", [".git", ".git/project", "sub/.GIT/x"])
@pytest.mark.parametrize("commit", [True, False])
def test_an_output_inside_a_git_folder_is_refused_before_anything_is_written(tmp_path: Path, output: str, commit: bool):
    repo = tmp_path / "repo"
    path = write_case(Case("output-in-git"), repo)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    before = sorted(str(p.relative_to(repo)) for p in repo.rglob("*"))
    run = promote_cli(path, repo / output, *([] if commit else ["--no-commit"]))
    said = run.stdout + run.stderr
    assert run.returncode == 1 and "inside a .git folder" in said and "Traceback" not in said, said
    assert sorted(str(p.relative_to(repo)) for p in repo.rglob("*")) == before


@pytest.mark.parametrize(
    ("beside", "source", "exit"),
    [
        ("helpermod.py", "import helpermod\nz = helpermod.F", 0),  # copied: tests/test_promote.py runs it
        ("helpermod/__init__.py", "from helpermod import F as G\nz = G", 1),
        ("libdir/helpermod.py", "import sys\nsys.path.append('libdir')\nimport helpermod\nz = helpermod.F", 0),
        ("helpermod.py", "import helpermod\nz = 1", 0),  # imported, never read by the promoted code
    ],
    ids=["module-copied", "package", "on-an-added-path-copied", "unread"],
)
def test_the_notebook_s_own_module_is_refused_at_its_import(tmp_path: Path, beside: str, source: str, exit: int):
    """``import helpers`` found ``helpers.py`` beside the notebook (the kernel starts there): the package stopped
    with ModuleNotFoundError after exit 0, and its requirements named a PyPI distribution ``helpers``. A module file
    beside the notebook or on a folder a cell adds to ``sys.path`` is copied into the package; a package folder is
    refused."""
    path = write_case(Case("own-module", cells=base_with(["promote:data"], source)), tmp_path / "in")
    (tmp_path / "in" / beside).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "in" / beside).write_text("F = 5.0\n")
    output = tmp_path / "out"

    run = promote_cli(path, output, "--no-commit")

    said = run.stdout + run.stderr
    assert run.returncode == exit, said
    if exit:
        assert "error PRM052 'helpermod' is the notebook's own module" in said and "cell 4 (id c4), line" in said
        shown = beside.removesuffix("__init__.py")
        assert f"({shown}, found from the notebook's folder)" in said and not output.exists()
    else:
        copied = list(output.glob("src/*/notebook_modules/helpermod.py"))
        assert len(copied) == ("helpermod.F" in source), said
