"""Stage: process-wide settings (default dtype, warning filters, library options) and where they hold.

A notebook's kernel keeps such a setting from the cell that makes it to the end: ``torch.set_default_dtype``
in the data cell still holds when the evaluate cell builds a tensor. The package runs a step in a fresh process
whenever a stage runs alone (``dvc repro``, ``python -m PKG evaluate``, predict, serve), so the settings a step
makes are recorded (plan.settings) and made again before any later step that starts a process of its own.
Settings made in untagged cells are pulled into the step that follows them: dropping them silently changes what
the package computes (a float64 notebook trains in float32).
"""

from __future__ import annotations

import ast
import bisect
import re

from ..analysis.cellplan import CellPlan
from ..analysis.names import BUILTINS, attribute_chain
from .plan import Placed, Plan, Step, line_in_cell

# Calls that change how the whole process behaves: torch.set_default_dtype, warnings.filterwarnings, pd.set_option,
# sklearn.set_config, torch.use_deterministic_algorithms, matplotlib.use, logging.basicConfig, tqdm.pandas,
# sys.setrecursionlimit, socket.setdefaulttimeout, ...
_SETTING_CALL = re.compile(
    r"^(set_\w+|use_\w+|use|set|seterr|filterwarnings|simplefilter|resetwarnings"
    r"|basicConfig|enable_\w+|disable_\w+|disable|setrecursionlimit|setswitchinterval|setdefaulttimeout)$"
)
# Reached through the random stream the stages carry from step to step, never replayed as settings.
_RANDOM = {"seed", "manual_seed", "manual_seed_all", "seed_everything", "set_seed", "set_rng_state", "set_state"}
# Module functions that hand back the process's (thread's) settings object, changed in place: ``getcontext().prec``
_STATE_ACCESSORS = {"getcontext"}
_REGISTRATIONS = {("tqdm", "pandas")}  # tqdm.pandas() adds progress_apply to every DataFrame
# Settings that change how results look or are logged, not what they are: no warning when a skipped cell makes one.
_COSMETIC = re.compile(r"warnings|logging|printoptions|display|matplotlib|plt\.|sns\.|seaborn|rcParams|tqdm")


def find_process_settings(plan: Plan) -> None:
    """Pull untagged cells' settings into the step that follows them; record each step's settings in order."""
    if not plan.steps:
        return
    readable = set(plan.imports) | {p.name for p in plan.parameters} | BUILTINS
    _pull_untagged_settings(plan, readable)
    _warn_skipped_settings(plan, readable)
    for step in plan.steps:
        found = [placed for placed in step.body if is_setting(placed.stmt.node, plan.imports, readable)]
        if found:
            plan.settings[step.name] = found


def is_setting(node: ast.stmt, imports: dict[str, str], readable: set[str]) -> bool:
    """A top-level statement that changes a module's state and reads nothing but imports, parameters and literals."""
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        chain = attribute_chain(node.value.func)
        if not chain or chain[0] not in imports or chain[-1] in _RANDOM:
            return False
        named = _SETTING_CALL.match(chain[-1]) or tuple(chain[-2:]) in _REGISTRATIONS
    elif isinstance(node, (ast.Assign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        named = all(_module_state(target, imports) for target in targets)
    else:
        return False
    if not named:
        return False
    reads = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return reads <= readable


def _module_state(target: ast.expr, imports: dict[str, str]) -> bool:
    """``torch.backends.cudnn.benchmark``, ``os.environ["X"]``, ``plt.rcParams["figure.dpi"]``, and through a module's
    accessor of its state, ``decimal.getcontext().prec``: an import's own state."""
    node, through = target, []
    while isinstance(node, (ast.Subscript, ast.Attribute, ast.Call)):
        if isinstance(node, ast.Call):
            if node.args or node.keywords or not _is_state_accessor(node.func):
                return False
            node = node.func
        elif isinstance(node, ast.Attribute):
            through.append(node.attr)
            node = node.value
        else:
            node = node.value
    return bool(through) and isinstance(node, ast.Name) and node.id in imports


def _is_state_accessor(func: ast.expr) -> bool:
    """``decimal.getcontext``, ``np.get_printoptions``: a module function that returns the process's own settings."""
    return isinstance(func, ast.Attribute) and func.attr in _STATE_ACCESSORS


def _pull_untagged_settings(plan: Plan, readable: set[str]) -> None:
    """Each setting of an untagged (or imports) cell goes before the first promoted statement below it."""
    placed_cells = sorted({p.cell.cell.index for step in plan.steps for p in step.body})
    for cell in plan.cells:
        if cell.role not in (None, "imports") or not cell.names:
            continue
        settings = [s for s in cell.names.statements if is_setting(s.node, plan.imports, readable)]
        below = bisect.bisect_right(placed_cells, cell.cell.index)  # the first promoted cell under this one
        if not settings or below == len(placed_cells):
            continue
        step, position = _first_placed_at(plan.steps, placed_cells[below])
        step.body[position:position] = [Placed(cell, s, "setting") for s in settings]
        _tell_pulled(plan, cell, settings, step)


def _warn_skipped_settings(plan: Plan, readable: set[str]) -> None:
    """PRM041 on a skipped cell whose setting the notebook's later promoted cells ran under, and the package will not."""
    last = max((p.cell.cell.index for step in plan.steps for p in step.body), default=-1)
    for cell in plan.cells:
        if cell.role != "skip" or not cell.names or cell.cell.index > last:
            continue
        for stmt in cell.names.statements:
            if not is_setting(stmt.node, plan.imports, readable):
                continue
            text = ast.unparse(stmt.node)
            if not _COSMETIC.search(text):
                plan.diagnose(
                    cell,
                    "warning",
                    "PRM041",
                    f"this skipped cell changes the whole process ('{text}') and promoted cells run "
                    "after it in the notebook: the package will not make this setting, so its results can differ from "
                    "the notebook's; tag this cell with the role it plays, or move the setting into a promoted cell",
                    line_in_cell(cell, stmt.line),
                )


def _first_placed_at(steps: list[Step], cell_index: int) -> tuple[Step, int]:
    for step in steps:
        for position, placed in enumerate(step.body):
            if placed.cell.cell.index == cell_index:
                return step, position
    raise LookupError(cell_index)  # the caller found the index in these bodies


def _tell_pulled(plan: Plan, cell: CellPlan, settings: list, step: Step) -> None:
    for stmt in settings:
        text = ast.unparse(stmt.node)
        plan.diagnose(
            cell,
            "info",
            "PRM044",
            f"'{text}' changes the whole process; it runs at the start of step '{step.name}', and every stage "
            "that runs alone after it makes it again",
            line_in_cell(cell, stmt.line),
        )
