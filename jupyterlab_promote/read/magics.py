"""IPython syntax → plain Python, using IPython's own input transformers.

IPython turns ``%magic`` and ``!cmd`` into calls on ``get_ipython()``; we then
rewrite those calls statically, so promotion never needs a kernel and a magic
never crashes it (it crashes Kale). Line numbers are preserved: every note
points at the line the user sees in the cell.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import shlex
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .large_literals import parse_code
from .lines import split_lines
from .source_edits import SourceEdits

# Magics whose only effect is on the interactive session: dropped silently.
SESSION_MAGICS = {
    "matplotlib",
    "pylab",
    "load_ext",
    "reload_ext",
    "unload_ext",
    "autoreload",
    "aimport",
    "config",
    "precision",
    "xmode",
    "who",
    "whos",
    "who_ls",
    "pprint",
    "autosave",
    "notebook",
    "lsmagic",
    "magic",
    "history",
    "pinfo",
    "pinfo2",
    "colors",
    "reset",
    "reset_selective",
    "store",
    "recall",
    "rerun",
    "qtconsole",
}
# Magics that wrap ordinary code: the code is kept, the timing/capture dropped.
WRAPPING_MAGICS = {"time", "timeit", "prun", "capture"}
# The options of a wrapping line magic, which come before its code (IPython's parse_options strings
# "n:r:tcp:qo" and "D:l:rs:T:q"): ``%timeit -n1 -r 3 f()`` wraps ``f()``.
_WRAPPING_OPTIONS = {
    "timeit": re.compile(r"\s*-(?:[tcqo]+|[nrp]\s*\S+)(?=\s)"),
    "prun": re.compile(r"\s*-(?:[rq]+|[DlsT]\s*\S+)(?=\s)"),
}
INSTALLERS = {"pip", "conda", "mamba"}
# Cell magics whose body is not Python: the cell cannot be promoted as code.
FOREIGN_CELL_MAGICS = {
    "bash",
    "sh",
    "script",
    "writefile",
    "html",
    "javascript",
    "js",
    "markdown",
    "latex",
    "svg",
    "perl",
    "ruby",
    "sql",
    "R",
}


@dataclass
class SourceNote:
    line: int
    severity: str  # "error" | "warning" | "info"
    code: str
    message: str


@dataclass
class PlainSource:
    """A cell's code as plain Python, plus what its magics meant."""

    code: str
    line_offset: int = 0  # lines removed above the code (a ``%%magic`` header)
    requirements: list[str] = field(default_factory=list)
    notes: list[SourceNote] = field(default_factory=list)
    modules: list[str] = field(default_factory=list)  # the modules the rewritten magics use (``subprocess``, ``os``)
    syntax_error: SourceNote | None = None
    # The parse of ``code`` when to_python made one, so the names analysis need not parse it again.
    tree: ast.Module | None = field(default=None, repr=False, compare=False)


def requirements_from_install(args: str) -> list[str]:
    """The package specs of ``pip install ...`` (flags and -r files ignored)."""
    words = _shell_words(args)
    if words and words[0] == "install":
        words = words[1:]
    specs, skip_next = [], False
    for word in words:
        if skip_next:
            skip_next = False
            continue
        if word in {
            "-r",
            "--requirement",
            "-c",
            "--constraint",
            "-i",
            "--index-url",
            "-e",
            "--editable",
            "--extra-index-url",
        }:
            skip_next = True
            continue
        if word.startswith("-"):
            continue
        specs.append(word)
    return specs


def _shell_words(args: str) -> list[str]:
    """Words of a shell command line, its ``# comment`` dropped; unbalanced quotes fall back to whitespace."""
    try:
        return shlex.split(args, comments=True)
    except ValueError:  # "No closing quotation": an apostrophe in a comment, say
        return args.split("#", 1)[0].split()


def _magic_call(node: ast.AST) -> tuple[str, list[str]] | None:
    """('run_line_magic', ['time', 'x = 1']) for ``get_ipython().run_line_magic('time', 'x = 1')``."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return None
    owner = node.func.value
    if not (isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "get_ipython"):
        return None
    args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    return node.func.attr, args


def _command_list(command: str) -> str:
    try:
        return repr(shlex.split(command))
    except ValueError:
        return repr(["bash", "-c", command])


def _wrapped_code(magic: str, line: str) -> str:
    """The code a wrapping line magic runs: its line less the options before it."""
    options = _WRAPPING_OPTIONS.get(magic)
    while options is not None and (found := options.match(line)):
        line = line[found.end() :]
    return line.lstrip()


def _timed_expression(args: list[str]) -> str | None:
    """The expression ``%time`` times, where it is one (its value is the magic's), as an assignment's value:
    IPython reads the magic only there (``x = %time f()``)."""
    if len(args) < 2 or args[0] != "time":
        return None
    code = args[1].strip()
    if not _parses(code, "eval"):  # ``x = %time y = 3`` times a statement: x is None
        return None
    return code if _parses(f"_ = {code}", "exec") else f"({code})"  # ``y := 3`` needs its parentheses there


def _parses(code: str, mode: str) -> bool:
    try:
        ast.parse(code, mode=mode)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    return True


CHANGED_FOLDER = (
    "moves the folder every later relative path is read from and written to, but the package anchors those paths "
    "itself (artifacts/ for what it writes, the notebook's folder for what it reads) and runs each stage in a process "
    "of its own: name the folder in the paths instead, or move this line to a cell tagged skip"
)


class _Rewriter:
    def __init__(self, code: str, result: PlainSource) -> None:
        self.result = result
        self.edits = SourceEdits(split_lines(code))

    def note(self, node: ast.AST, severity: str, code: str, message: str) -> None:
        line = getattr(node, "lineno", 1) + self.result.line_offset
        self.result.notes.append(SourceNote(line, severity, code, message))

    def statement(self, stmt: ast.Expr, kind: str, args: list[str], only_child: bool) -> None:
        replacement = self._statement_replacement(stmt, kind, args)
        if replacement is not None:
            self.edits.replace_statement(stmt, replacement, only_child)

    def _statement_replacement(self, stmt: ast.Expr, kind: str, args: list[str]) -> str | None:
        name = args[0] if args else ""
        rest = args[1] if len(args) > 1 else ""
        if kind == "run_line_magic":
            if name in INSTALLERS:
                specs = requirements_from_install(rest)
                self.result.requirements.extend(specs)
                self.note(
                    stmt,
                    "info",
                    "PRM021",
                    f"%{name} install: {' '.join(specs) or 'nothing'} added to the project's dependencies",
                )
                return ""
            if name in WRAPPING_MAGICS:
                return _wrapped_code(name, rest)
            if name in ("env", "set_env"):
                return self._environment(stmt, name, rest)
            if name in SESSION_MAGICS:
                self.note(stmt, "info", "PRM020", f"%{name} only affects the interactive session; dropped")
                return ""
            if name in ("cd", "pushd", "popd"):  # as os.chdir (analysis/checks.py): every later relative path moves
                self.note(stmt, "error", "PRM050", f"%{name} {CHANGED_FOLDER}")
                return ""
            if (
                name == "run"
            ):  # the file's definitions would be missing: the package raises NameError where they are used
                self.note(
                    stmt,
                    "error",
                    "PRM052",
                    f"%run {rest.strip()} runs a file of the notebook's own into its namespace, which the package does "
                    "not contain: move the code it needs into a promoted cell, or make it an installable module and "
                    "import it",
                )
                return ""
            self.note(stmt, "warning", "PRM020", f"%{name} has no meaning outside IPython; dropped")
            return ""
        if kind == "system":
            words = name  # system() takes the command line as its only argument
            if re.match(r"\s*(pip|pip3|python -m pip|conda|mamba)\s+install\b", words):
                specs = requirements_from_install(re.sub(r"^\s*(python -m )?(pip3?|conda|mamba)\s+", "", words))
                self.result.requirements.extend(specs)
                self.note(
                    stmt,
                    "info",
                    "PRM021",
                    f"!pip install: {' '.join(specs) or 'nothing'} added to the project's dependencies",
                )
                return ""
            self._use("subprocess")
            self.note(
                stmt,
                "warning",
                "PRM009",
                f"shell command `!{words}` became subprocess.run(...); check it runs outside the notebook",
            )
            return f"subprocess.run({_command_list(words)}, check=True)"
        return None

    def _use(self, module: str) -> None:
        if module not in self.result.modules:
            self.result.modules.append(module)

    def _environment(self, stmt: ast.Expr, name: str, args: str) -> str:
        """``%env VAR=value`` (or ``%env VAR value``, ``%set_env``) sets an environment variable, split as IPython
        splits it; ``%env`` alone or ``%env VAR`` only shows it."""
        bits = args.split("=" if "=" in args else " ", 1)
        if len(bits) < 2:
            self.note(stmt, "info", "PRM020", f"%{name} only shows the environment; dropped")
            return ""
        variable, value = bits[0].strip(), bits[1].strip()
        if not variable or re.search(r"\s", variable) or re.search(r"[$]|[{].*[}]", value):
            self.note(stmt, "warning", "PRM020", f"%{name} {args.strip()}: set os.environ in Python instead; dropped")
            return ""
        self._use("os")
        return f"os.environ[{variable!r}] = {value!r}"

    def expression(self, call: ast.Call, kind: str, args: list[str]) -> None:
        if kind == "run_line_magic" and (timed := _timed_expression(args)) is not None:
            text = timed  # ``x = %time f()``: %time gives the value of the expression it times
        elif kind not in {"getoutput", "system"}:
            self.note(call, "warning", "PRM020", "magic used as a value; replaced by None")
            text = "None"
        else:
            command = args[0] if args else ""
            self._use("subprocess")
            self.note(call, "warning", "PRM009", f"shell output `!{command}` became subprocess.run(...).stdout")
            text = f"subprocess.run({_command_list(command)}, capture_output=True, text=True, check=True).stdout.splitlines()"
        self.edits.replace_expression(call, text)

    def apply(self) -> str:
        return "\n".join(self.edits.apply()) + "\n"


# Characters str.splitlines() splits on but Python's tokenizer does not ("\\r" is normalised on reading).
# IPython's transformers use splitlines(), so these are masked with private-use code points meanwhile.
_ODD_SEPARATORS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_MASKS = "".join(chr(0xF0000 + i) for i in range(len(_ODD_SEPARATORS)))
_MASK, _UNMASK = str.maketrans(_ODD_SEPARATORS, _MASKS), str.maketrans(_MASKS, _ODD_SEPARATORS)


@lru_cache(maxsize=1)
def _transformer_manager() -> object:
    """IPython's TransformerManager, loaded without importing the IPython package.

    ``import IPython`` costs about half a second (terminal, shell, traitlets); its input transformer
    module needs only the standard library, so it is loaded from its file on its own. Where IPython
    is already imported (in a kernel, or the server), that module is used as it is.
    """
    module = sys.modules.get("IPython.core.inputtransformer2")
    if module is None:
        package = importlib.util.find_spec("IPython")
        location = Path(package.origin).parent / "core" / "inputtransformer2.py" if package and package.origin else None
        spec = (
            importlib.util.spec_from_file_location("jupyterlab_promote._inputtransformer2", location)
            if location
            else None
        )
        if spec is None or spec.loader is None or not location.is_file():
            from IPython.core import inputtransformer2 as module
        else:
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
    return module.TransformerManager()


# What IPython's cleanup transforms act on: leading blank lines, an indented first line, and
# prompts (``>>>``, ``...``, ``In [1]:``, ``...:``) on the first two lines.
_INDENTED = re.compile(r"[ \t]")
_PROMPT = re.compile(r"(>>>|\.\.\.)( |$)|((\[nav\]|\[ins\])? )?In \[\d+\]: |\s*\.{3,}: ?")


def _cleaned_by_ipython(body: str) -> bool:
    """IPython's transformer may change ``body`` beyond its IPython syntax: leading blank lines, an indented
    first line, prompts on the first two lines, or line separators other than ``\\n`` (any doubt counts)."""
    first, _, rest = body.partition("\n")
    second = rest.partition("\n")[0]
    if not first.strip() or _INDENTED.match(first) or _PROMPT.match(first) or _PROMPT.match(second):
        return True
    return any(char in body for char in _ODD_SEPARATORS + "\r")


def _plain_python(body: str) -> ast.Module | None:
    """The parse of ``body`` when IPython's transformer would return it unchanged, else None.

    Code that parses as Python holds no IPython syntax (``%magic``, ``!cmd``, ``x?`` are not Python),
    so the transformer (a tokenizer run per logical line) is needed only for the cleanups it applies
    to any text: those are checked here with a few regular expressions, and any doubt goes to IPython.
    """
    if _cleaned_by_ipython(body):
        return None
    try:
        return parse_code(body)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


# A whole line IPython's EscapedCommand rewrites: ``%magic args``, ``!cmd``, ``!!cmd`` (not ``%%``, not ``!=``).
_ESCAPED_LINE = re.compile(r"([ \t]*)(!!|!(?!=)|%(?!%))(.*)")
_ESCAPE_AT_LINE_START = re.compile(r"^[ \t]*[!%]", re.MULTILINE)
_ESCAPE_CALLS = {
    "!": lambda content: f"get_ipython().system({content!r})",
    "!!": lambda content: f"get_ipython().getoutput({content!r})",
    "%": lambda content: "get_ipython().run_line_magic({!r}, {!r})".format(*content.partition(" ")[::2]),
}


def _escaped_lines(body: str) -> tuple[str, ast.Module] | None:
    """IPython's translation of a cell whose only IPython syntax is whole ``%magic``/``!cmd`` lines, each a statement
    of its own, and its parse; None when anything else might be there (IPython then does it).

    IPython tokenizes the whole cell again for every such line it rewrites, most of the cost of reading a notebook
    with magics. Each line is rewritten on its own here, as IPython does, and the translation is kept once its
    parse shows each rewritten line standing where a statement does: not inside a string or brackets, not
    continued, not a ``?`` help line. A rewritten line is one call whose arguments are string literals, so it
    opens nothing that could change how the lines around it read.
    """
    if _cleaned_by_ipython(body):
        return None
    lines = body.split("\n")
    calls = {}
    for number, line in enumerate(lines, start=1):
        found = _ESCAPED_LINE.fullmatch(line)
        if found is None:
            continue
        indent, escape, content = found.groups()
        content = content.rstrip()
        continued = number > 1 and lines[number - 2].endswith("\\")  # `else: \` then `%time`: not a line start
        if continued or content.endswith(("?", "\\")) or not content or escape == "%" and content[0] in " %":
            return None
        calls[number] = indent + _ESCAPE_CALLS[escape](content)
    if not calls:
        return None
    translated = "\n".join(calls.get(number, line) for number, line in enumerate(lines, start=1))
    translated = translated if translated.endswith("\n") else translated + "\n"
    try:
        tree = ast.parse(translated)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    standing = {node.lineno for node in _walk(tree) if isinstance(node, ast.Expr) and node.end_lineno == node.lineno}
    return (translated, tree) if calls.keys() <= standing else None


def _transform(manager: object, body: str) -> str:
    if not any(char in body for char in _ODD_SEPARATORS) or any(char in body for char in _MASKS):
        return manager.transform_cell(body)  # type: ignore[attr-defined]
    return manager.transform_cell(body.translate(_MASK)).translate(_UNMASK)  # type: ignore[attr-defined]


def to_python(source: str) -> PlainSource:
    """Plain Python for one cell's source; never raises on user input."""
    result = PlainSource(code="")
    body = _strip_cell_magic(source, result)
    if body is None:
        return result
    parsed = _parse(body, result)
    if parsed is None:
        return result
    code, result.tree = parsed
    if "get_ipython" not in code:  # no magic calls to rewrite: spare two walks of the tree
        result.code = code
        return result
    _rewrite_magic_calls(code, result.tree, result)
    return result


def _strip_cell_magic(source: str, result: PlainSource) -> str | None:
    """The cell's body without its ``%%magic`` line (noted on ``result``); None when the body is not Python."""
    header = re.match(r"\s*%%(\w+)([^\n]*)\n?", source)
    if not header:
        return source
    name = header.group(1)
    result.line_offset = source[: header.end()].count("\n")
    if name == "writefile":
        result.notes.append(
            SourceNote(
                1,
                "warning",
                "PRM020",
                "%%writefile writes a file, which the package does not write again; a module of yours it writes is "
                "copied into the package where the promoted code imports it",
            )
        )
        return None
    if name in FOREIGN_CELL_MAGICS:
        result.notes.append(SourceNote(1, "warning", "PRM020", f"%%{name} cell is not Python; it is not promoted"))
        return None
    if name not in WRAPPING_MAGICS:
        result.notes.append(
            SourceNote(
                1, "warning", "PRM020", f"%%{name} has no meaning outside IPython; its body is kept as plain code"
            )
        )
    else:
        result.notes.append(SourceNote(1, "info", "PRM020", f"%%{name} dropped; its body is kept"))
    return source[header.end() :]


def _parse(body: str, result: PlainSource) -> tuple[str, ast.Module] | None:
    """(code, its parse): the body itself when it is plain Python, else IPython's translation of it.

    None, with ``result.syntax_error`` set, when neither reads.
    """
    # A line that starts with an escape is no Python statement, so such a body would fail the plain parse first
    # (a failed parse costs two: the parser's second pass words the error); else the plain parse comes first.
    escaped = _escaped_lines(body) if _ESCAPE_AT_LINE_START.search(body) else None
    if escaped is not None:
        return escaped
    tree = _plain_python(body)
    if tree is not None:
        return (body if body.endswith("\n") else body + "\n"), tree  # what the transformer returns for plain Python
    try:
        code = _transform(_transformer_manager(), body)
    except Exception as exc:  # IPython raises on unbalanced brackets etc.
        result.syntax_error = SourceNote(
            1 + result.line_offset, "error", "PRM001", f"cannot be read as IPython code: {exc}"
        )
        return None
    try:
        return code, ast.parse(code)
    except SyntaxError as exc:
        line = (exc.lineno or 1) + result.line_offset
        result.syntax_error = SourceNote(line, "error", "PRM001", f"syntax error: {exc.msg}")
        result.code = code
        return None


def _walk(tree: ast.AST) -> list[ast.AST]:
    """Every node in ``ast.walk``'s order, as a list (ast.walk makes two generators per node)."""
    nodes = [tree]
    for node in nodes:  # appending while iterating: a breadth-first queue
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        nodes.append(item)
            elif isinstance(value, ast.AST):
                nodes.append(value)
    return nodes


def _rewrite_magic_calls(code: str, tree: ast.Module, result: PlainSource) -> None:
    """``get_ipython().run_line_magic(...)`` calls as plain Python: whole statements first, then expressions."""
    rewriter = _Rewriter(code, result)
    handled: set[int] = set()
    nodes = _walk(tree)  # once for both passes below
    for parent in nodes:
        for body_name in ("body", "orelse", "finalbody"):
            block = getattr(parent, body_name, None)
            if not isinstance(block, list):
                continue
            for stmt in block:
                if isinstance(stmt, ast.Expr) and (magic := _magic_call(stmt.value)):
                    handled.add(id(stmt.value))
                    only_child = len(block) == 1 and not isinstance(parent, ast.Module)
                    rewriter.statement(stmt, magic[0], magic[1], only_child)
    for node in nodes:
        if id(node) not in handled and (magic := _magic_call(node)):
            rewriter.expression(node, magic[0], magic[1])  # type: ignore[arg-type]
    result.code = rewriter.apply() if rewriter.edits else code
    if rewriter.edits:
        result.tree = None  # the rewritten code is parsed again by whoever needs it
