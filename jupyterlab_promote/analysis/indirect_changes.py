"""Changes in place made under another name: through a function, a method, an alias or a container.

``grow(sizes)``, where the notebook's ``def grow(seq)`` appends to ``seq``; ``record(v)``, where ``def record``
appends to the global ``sizes``; ``Logger().log(v)``, where a method of the notebook's class does;
``alias.append(v)`` after ``alias = sizes``; and ``for m in models.values(): m.fit(X, y)`` after
``models = {"rf": rf_model}``: each changes ``sizes`` (``rf_model``) as ``sizes.append(v)`` would, so the steps
order and hand on what it changed (stages/steps.py, stages/dataflow.py). Read in notebook order: a call uses the
def above it.

Which names share an object is a may-relation (``_Held.links``: name → the names a change through it may change).
Both ways when a name is bound to another or to a part of it (``enc = net.encoder``, ``m = models["rf"]``), to a
display holding it (``pair = (sizes, 1.0)``), when a loop takes its elements (``for m in models.values()``), or
when it is put into a container (``models.append(net)``, ``box["m"] = net``, ``trainer.model = net``), or wrapped
by a library (``parallel = nn.DataParallel(net)``, ``torch.compile(net)``, ``DataLoader(TensorDataset(X, y))``; a
loop over a DataLoader takes fresh batches, which share nothing). One way from an instance to what it keeps
(``pipe = Pipeline([("clf", clf)])``, ``opt = SGD(net.parameters())``: training ``net`` leaves ``opt`` as it was),
and from a name to the defs that read it when called (``def size(): return len(VOCAB)``). A name last bound to a
number or a string, an import, a def or a class shares nothing. A container filled after it was put into another
(``outer = [inner]``, then ``inner["k"] = sizes``) fills those that hold it too (``_Held._held_by``): a change of
``sizes`` reaches ``outer``, and siblings in one container (``X`` and ``y`` of one loader) stay apart.
"""

from __future__ import annotations

import ast
import copy

from .cellplan import CellPlan
from .names import CellNames, Statement, changes_of_call, has_default, root_name


def read_indirect_changes(plans: list[CellPlan]) -> dict[str, set[str]]:
    """Add what each statement changes under another name to its ``mutates`` (the steps are ordered by it), and
    to its ``reads`` where a later statement reads the name: the step takes in the object it changes, to hand it
    on. Copies the statements it changes (cell_reading.py shares them).

    Returns every name → the names that may share an object with it that some statement changes (through either):
    a stage that saves two of them saves them together too, so that a stage run alone loads one object that its
    changes reach through both names, as the notebook had it (two parts of one table read, never changed, need
    not be)."""
    held, last_read = _Held(), _last_reads(plans)
    captures: list[tuple[CellPlan, int, int, list[str]]] = []
    position = 0
    for plan in plans:
        if plan.names is None:
            continue
        statements = list(plan.names.statements)
        for index, stmt in enumerate(statements):
            position += 1
            names = (
                (held.changed_by_decorators(stmt) if stmt.is_definition else held.changed_by_calls(stmt))
                if held.callables
                else []
            )
            captured = held.follow(stmt)
            direct = stmt.mutates + names + stmt.local_changes + _augmented(stmt)
            shared = [other for name in direct for other in sorted(held.links.get(name, ()))]  # sets: any order
            statements[index] = _changing(stmt, names + shared, last_read, position)
            if captured:
                captures.append((plan, index, position, captured))
        if any(new is not old for new, old in zip(statements, plan.names.statements)):
            plan.names = CellNames(statements=statements, code=plan.names.code)
    changed = {
        name
        for plan in plans
        for stmt in (plan.names.statements if plan.names is not None else ())
        for name in stmt.mutates + stmt.local_changes + _augmented(stmt)
    }
    _hand_on_captured(captures, changed, last_read)
    shared = {name: others & changed for name, others in held.ever_linked.items() if name in changed}
    return {name: others for name, others in shared.items() if others}


def _changing(stmt: Statement, names: list[str], last_read: dict[str, int], position: int) -> Statement:
    """``stmt``, or a copy that also changes ``names`` (and reads those a later statement reads)."""
    names = [n for n in dict.fromkeys(names) if n not in stmt.mutates and n not in stmt.binds]
    if not names:
        return stmt
    stmt = copy.copy(stmt)
    stmt.mutates = stmt.mutates + names
    stmt.reads = stmt.reads + [n for n in names if n not in stmt.reads and last_read.get(n, 0) > position]
    return stmt


def _hand_on_captured(
    captures: list[tuple[CellPlan, int, int, list[str]]], changed: set[str], last_read: dict[str, int]
) -> None:
    """A statement that puts an object some statement changes into another name (``pair = (sizes, 1.0)``,
    ``alias = xs``) counts as changing it: its step hands the object on with the holder, saved together, so that
    a later stage run alone changes one object through both names (each loaded from its own stage's file, or a
    parameter from the config, they were two)."""
    for plan, index, position, captured in captures:
        statements = plan.names.statements  # type: ignore[union-attr]
        wanted = [name for name in captured if name in changed]
        if wanted and (stmt := _changing(statements[index], wanted, last_read, position)) is not statements[index]:
            statements = list(statements)
            statements[index] = stmt
            plan.names = CellNames(statements=statements, code=plan.names.code)  # type: ignore[union-attr]


def _last_reads(plans: list[CellPlan]) -> dict[str, int]:
    """Each name's last reading statement, counted as read_indirect_changes counts them."""
    last: dict[str, int] = {}
    position = 0
    for plan in plans:
        for stmt in plan.names.statements if plan.names is not None else ():
            position += 1
            last.update(dict.fromkeys(stmt.reads + stmt.call_time_reads, position))
    return last


def _augmented(stmt: Statement) -> list[str]:
    """``sizes += [v]``: the name keeps its object, which a list, an array or a tensor changes in place."""
    node = stmt.node
    return [node.target.id] if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) else []


# Calls whose result a loop takes the elements of what they are handed from: ``for i, m in enumerate(models)``.
_PASSING_ON = {"enumerate", "zip", "reversed", "sorted", "list", "tuple", "iter", "dict", "set", "filter", "tqdm"}
# Methods whose result is a part of the receiver, or holds its parts: ``m = models.get("rf")``.
_PART_METHODS = {"get", "items", "values", "pop", "setdefault", "parameters", "named_parameters", "children"}
_PART_METHODS |= {"named_children", "modules", "named_modules", "buffers", "keys"}
# ... or a view of its memory (``X_np = X.numpy()``, ``flat = X.view(-1)``): a change in place through either
# changes both
_PART_METHODS |= {"view", "view_as", "detach", "numpy", "reshape", "ravel", "transpose", "permute", "squeeze"}
_PART_METHODS |= {"unsqueeze", "expand", "expand_as", "narrow", "unfold", "as_strided", "unbind", "split", "chunk"}
# Functions whose result shares the memory of their first argument (``X = torch.from_numpy(X_np)``).
_VIEW_FUNCTIONS = {"from_numpy", "as_tensor", "asarray", "frombuffer"}
# Methods that put their arguments into the receiver: ``models.append(net)``.
_HOLDING_METHODS = {"append", "appendleft", "add", "insert", "extend", "update", "setdefault"}
# Library calls whose result wraps what it is handed, one object under two names: training through either trains the
# other (``parallel = nn.DataParallel(model)``, ``fast = torch.compile(model)``, peft's ``get_peft_model(model,
# config)``, Hugging Face's ``Trainer(model=model)``), a change of a dataset's tensors is what its loader yields
# (``DataLoader(TensorDataset(X, y))``), the parts ``random_split`` makes hold its dataset, and a call of
# ``functools.partial(total, base)`` reads ``base`` as it is then. Other library classes handed a bare name are taken
# not to keep it (``GridSearchCV(model)`` clones it).
_WRAPPERS = {"DataParallel", "DistributedDataParallel", "FullyShardedDataParallel", "compile", "get_peft_model"}
_WRAPPERS |= {"Trainer", "DataLoader", "TensorDataset", "random_split", "Subset", "partial"}
# Library calls whose result keeps the objects they are handed: ``pipe = make_pipeline(scaler, clf)``, the wrappers.
_KEEPING_FACTORIES = {"make_pipeline", "make_union"} | _WRAPPERS
# Builtins whose result is a number or a string.
_SCALAR_CALLS = {"int", "float", "str", "len", "bool", "round", "abs", "repr", "format"}


class _Held:
    """What the notebook's names hold so far: its defs and classes, instances of those classes, and which names
    may share an object."""

    def __init__(self) -> None:
        self.callables: dict[str, Statement] = {}  # name → its def or class statement
        self.instances: dict[str, Statement] = {}  # name → the class statement it was made by (``lg = Logger()``)
        self.links: dict[str, set[str]] = {}  # name → the names a change through it may change
        self._linked_from: dict[str, set[str]] = {}  # the other way round, to forget a name that is bound again
        self.ever_linked: dict[str, set[str]] = {}  # both ways, never forgotten (what may be saved together)
        # names last bound to a number or a string, or by an import, a def or a class: they share no object that a
        # change could reach (``nn`` in ``nn.Sequential(nn.Linear(2, 3))`` holds no layer)
        self.unshared: set[str] = set()
        # names bound to a DataLoader: a loop over one takes fresh batches (collated copies), not the dataset's objects
        self.loaders: set[str] = set()
        self._captured: list[str] = []  # by the statement being followed: the objects it put into another name
        # which names hold which in a container (``outer = [inner]``), both ways round: a container filled later
        # passes what it was filled with on to those that hold it
        self._held_by: dict[str, set[str]] = {}
        self._holds: dict[str, set[str]] = {}

    def changed_by_calls(self, stmt: Statement) -> list[str]:
        found: list[str] = []
        for call in stmt.index.of(ast.Call):
            func = call.func
            if isinstance(func, ast.Name) and func.id in self.callables:
                definition = self.callables[func.id]
            elif (
                isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in self.instances
            ):
                definition = self.instances[func.value.id]
            else:
                continue
            changes = changes_of_call(definition)
            found += changes.globals
            keywords = {k.arg: k.value for k in call.keywords if k.arg}
            for position, param in changes.params:
                positional = position is not None and position < len(call.args)
                given = call.args[position] if positional else keywords.get(param)  # type: ignore[index]
                if given is not None and not isinstance(given, ast.Starred) and (root := root_name(given)):
                    found.append(root)
                elif given is None and isinstance(func, ast.Name) and has_default(definition.node, param):
                    found.append(func.id)  # ``def acc(v, seen=[])``: the default the call changes is the function's
        return found

    def changed_by_decorators(self, stmt: Statement) -> list[str]:
        """The globals the notebook's decorators change when they run on the definition ``stmt`` (``@register``
        filling a registry); its body's calls run later, when it is called."""
        found: list[str] = []
        for decorator in getattr(stmt.node, "decorator_list", ()):
            func = decorator.func if isinstance(decorator, ast.Call) else decorator
            if isinstance(func, ast.Name) and func.id in self.callables:
                found += changes_of_call(self.callables[func.id]).globals
        return found

    def follow(self, stmt: Statement) -> list[str]:
        """What the names hold after ``stmt``; returns the names of the objects it put into another name."""
        self._captured = []
        self._forget(stmt)
        node = stmt.node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self._define(node.name, stmt)
        if stmt.is_definition or stmt.is_import:
            self.unshared.update(stmt.binds)
            return []
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and node.value is not None:
            self._note_value(node.targets if isinstance(node, ast.Assign) else [node.target], node.value)
        for part in stmt.index.of(ast.Assign, ast.AnnAssign, ast.For, ast.AsyncFor, ast.Call):
            self._link_by(part)
        return [name for name in dict.fromkeys(self._captured) if name not in stmt.binds]

    def _forget(self, stmt: Statement) -> None:
        """What the names ``stmt`` binds held before (``sizes += [v]`` keeps its object)."""
        augmented = _augmented(stmt)
        for name in stmt.binds:
            if name not in augmented:
                self.callables.pop(name, None)
                self.instances.pop(name, None)
                self.unshared.discard(name)
                self.loaders.discard(name)
                self._unlink(name)
                self._unhold(name)

    def _define(self, name: str, stmt: Statement) -> None:
        self.callables[name] = stmt
        # ``def size(): return len(VOCAB)``: a change of VOCAB changes what size computes, so a step that changes
        # VOCAB hands size on (a closure of the step that made it, else loaded without the change). The notebook's
        # own classes and defs count too: ``Config.rate = 3.0`` changes what ``def rated(v)`` reading it computes.
        for read in stmt.call_time_reads:
            if (read not in self.unshared or read in self.callables) and read != name:
                self._add(read, name)

    def _note_value(self, targets: list[ast.expr], value: ast.expr) -> None:
        """An instance of the notebook's class (``lg = Logger()``), or a number or a string, bound to names."""
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
            made_by = self.callables.get(value.func.id)
            if made_by is not None and isinstance(made_by.node, ast.ClassDef):
                self.instances.update(dict.fromkeys(names, made_by))
                # its methods are the class's: a change of the class, or of what they read, changes what it does
                for source in {value.func.id} | self._linked_from.get(value.func.id, set()):
                    for name in names:
                        self._add(source, name)
        if len(names) == len(targets) and self._is_scalar(value):
            self.unshared.update(names)
        if isinstance(value, ast.Call) and _callee_name(value.func) == "DataLoader":
            self.loaders.update(names)

    def _link_by(self, node: ast.AST) -> None:
        if isinstance(node, (ast.For, ast.AsyncFor)):
            self._link_targets([node.target], self._sharing(node.iter, looped=True))
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in _HOLDING_METHODS and (root := root_name(func.value)):
                values = [*node.args, *(k.value for k in node.keywords)]
                self._link({root}, {name for value in values for name in self._sharing(value)}, holding=True)
        elif node.value is not None:  # type: ignore[attr-defined]
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]  # type: ignore[attr-defined]
            sharing = self._sharing(node.value)  # type: ignore[attr-defined]
            # ``opt = SGD(net.parameters())``: a change through opt changes net; training net leaves opt as it was
            value = node.value  # type: ignore[attr-defined]
            wrapper = isinstance(value, ast.Call) and _callee_name(value.func) in _WRAPPERS
            instance = self._is_instance_call(value)
            both_ways = not instance or wrapper
            holding = instance or isinstance(value, (ast.List, ast.Tuple, ast.Set, ast.Dict))
            self._link_targets(targets, sharing, both_ways, holding)
            if wrapper and sharing:
                # ``a, b = random_split(full)``: the parts hold one dataset, so a change through one shows in the other
                parts = _target_names(targets)
                self._link(parts, parts)
            for target in targets:  # ``box["m"] = net``: the container holds it now
                if isinstance(target, (ast.Attribute, ast.Subscript)) and (root := root_name(target)):
                    self._link({root}, sharing, both_ways, holding=True)

    def _link_targets(
        self, targets: list[ast.expr], sharing: set[str], both_ways: bool = True, holding: bool = False
    ) -> None:
        if not sharing:
            return
        for target in targets:
            if isinstance(target, ast.Name):
                self._link({target.id}, sharing, both_ways, holding)
            elif isinstance(target, (ast.Tuple, ast.List, ast.Starred)):  # unpacked: each name may be any part
                self._link(_target_names([target]), sharing, both_ways)

    def _link(self, names: set[str], sharing: set[str], both_ways: bool = True, holding: bool = False) -> None:
        """A change through ``names`` may change ``sharing`` and all that those share; and, ``both_ways``, a change
        through those changes ``names``. ``holding``: ``names`` are containers that ``sharing`` was put into (a
        display, an instance keeping it, ``box["m"] = net``, ``models.append(net)``), not aliases or parts of it."""
        reach = set(sharing)
        for name in sharing:
            reach |= self.links.get(name, set())
        if holding:
            # ``names`` hold ``sharing`` in them now, and so does every container that holds ``names``:
            # ``outer = [inner]``, then ``inner["k"] = sizes`` puts sizes into outer too
            containers = self._containers(names)
            for content in sharing - names - self.unshared:
                self._hold(names, content)
            names = names | containers
        for name in names:
            others = reach - {name} - self.unshared
            if name in self.unshared or not others:
                continue
            self._captured += sorted(others)
            for other in others:
                self._add(name, other)
                if both_ways:
                    self._add(other, name)

    def _add(self, name: str, other: str) -> None:
        self.links.setdefault(name, set()).add(other)
        self._linked_from.setdefault(other, set()).add(name)
        self.ever_linked.setdefault(name, set()).add(other)
        self.ever_linked.setdefault(other, set()).add(name)

    def _hold(self, containers: set[str], content: str) -> None:
        self._held_by.setdefault(content, set()).update(containers)
        for container in containers:
            self._holds.setdefault(container, set()).add(content)

    def _containers(self, names: set[str]) -> set[str]:
        """The containers that hold ``names``, and those that hold them, and so on."""
        found: set[str] = set()
        todo = list(names)
        while todo:
            for container in self._held_by.get(todo.pop(), ()):
                if container not in found and container not in names:
                    found.add(container)
                    todo.append(container)
        return found

    def _unhold(self, name: str) -> None:
        """``name`` is bound to another object: nothing holds it, and it holds nothing yet."""
        for container in self._held_by.pop(name, ()):
            self._holds.get(container, set()).discard(name)
        for content in self._holds.pop(name, ()):
            self._held_by.get(content, set()).discard(name)

    def _unlink(self, name: str) -> None:
        for other in self.links.pop(name, ()):
            self._linked_from.get(other, set()).discard(name)
        for other in self._linked_from.pop(name, ()):
            self.links.get(other, set()).discard(name)

    def _sharing(self, value: ast.expr, looped: bool = False) -> set[str]:
        """The names whose objects ``value`` may be, hold or be held by (``looped``: its elements, as a loop
        takes them)."""
        if isinstance(value, ast.Name):
            return set() if looped and value.id in self.loaders else {value.id}
        if isinstance(value, (ast.Attribute, ast.Subscript)):
            root = root_name(value)
            return {root} if root else set()
        if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
            return {name for element in value.elts for name in self._sharing(element)}
        if isinstance(value, ast.Dict):
            return {name for element in value.values for name in self._sharing(element)}
        if isinstance(value, ast.Starred):
            return self._sharing(value.value)
        return self._sharing_of_call(value, looped) if isinstance(value, ast.Call) else set()

    def _sharing_of_call(self, value: ast.Call, looped: bool) -> set[str]:
        func = value.func
        handed = [*value.args, *(k.value for k in value.keywords)]
        if looped and isinstance(func, ast.Name) and func.id in _PASSING_ON:
            return {name for argument in handed for name in self._sharing(argument, looped)}
        if isinstance(func, ast.Attribute) and (looped or func.attr in _PART_METHODS):
            root = root_name(func.value)
            return {root} if root else set()
        if self._is_instance_call(value):
            return self._kept_by_instance(value)
        if _callee_name(func) in _VIEW_FUNCTIONS and value.args:
            return self._sharing(value.args[0])
        return set()

    def _is_instance_call(self, value: ast.expr) -> bool:
        """A class call: a class of the notebook's, or a capitalised name (``Pipeline``, ``torch.optim.SGD``); or a
        factory that keeps what it is handed (``make_pipeline``)."""
        if not isinstance(value, ast.Call):
            return False
        func = value.func
        if _callee_name(func) in _KEEPING_FACTORIES:
            return True
        if isinstance(func, ast.Name):
            made_by = self.callables.get(func.id)
            return isinstance(made_by.node, ast.ClassDef) if made_by is not None else func.id[:1].isupper()
        return isinstance(func, ast.Attribute) and func.attr not in _PART_METHODS and func.attr[:1].isupper()

    def _kept_by_instance(self, call: ast.Call) -> set[str]:
        """What an instance keeps of its arguments: the names in a display (``Pipeline([("clf", clf)])``,
        ``callbacks=[stopper]``), a part a method returns (``SGD(net.parameters())``), and a name that the
        ``__init__`` of the notebook's class stores on ``self``; not a name handed to a library's class
        (``GridSearchCV(model)`` clones it, ``DataLoader(data)`` only reads it), nor a number read off an object
        (``Net(X.shape[1])``)."""
        stored = _stored_parameters(self.callables.get(call.func.id) if isinstance(call.func, ast.Name) else None)
        kept: set[str] = set()
        arguments = [(stored[0][i] if i < len(stored[0]) else "", a) for i, a in enumerate(call.args)]
        arguments += [(k.arg or "", k.value) for k in call.keywords]
        for parameter, argument in arguments:
            if isinstance(argument, ast.Name):
                keeps = parameter in stored[1] or _callee_name(call.func) in _KEEPING_FACTORIES
                kept |= {argument.id} if keeps else set()
            elif isinstance(argument, (ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Starred)):
                kept |= self._sharing(argument)
            elif isinstance(argument, ast.Call) and _callee_name(argument.func) in _KEEPING_FACTORIES:
                kept |= self._kept_by_instance(argument)  # ``DataLoader(TensorDataset(X, y))`` keeps X and y
            elif isinstance(argument, ast.Call) and isinstance(argument.func, ast.Attribute):
                root = root_name(argument.func.value)
                kept |= {root} if root and argument.func.attr in _PART_METHODS else set()
        return kept - self.unshared

    def _is_scalar(self, value: ast.expr) -> bool:
        if isinstance(value, (ast.Constant, ast.JoinedStr, ast.Compare)):
            return True
        if isinstance(value, ast.Name):
            return value.id in self.unshared and value.id not in self.callables
        if isinstance(value, ast.UnaryOp):
            return self._is_scalar(value.operand)
        if isinstance(value, ast.BinOp):
            return self._is_scalar(value.left) and self._is_scalar(value.right)
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
            return value.func.id in _SCALAR_CALLS
        return False


def _target_names(targets: list[ast.expr]) -> set[str]:
    """The names assignment ``targets`` bind."""
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _callee_name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _stored_parameters(definition: Statement | None) -> tuple[list[str], set[str]]:
    """A notebook class's ``__init__`` parameters by position (after ``self``), and those it stores on ``self``
    (``self.model = model``)."""
    node = definition.node if definition is not None else None
    init = next((m for m in getattr(node, "body", []) if isinstance(m, ast.FunctionDef) and m.name == "__init__"), None)
    if not isinstance(node, ast.ClassDef) or init is None:
        return [], set()
    positional = [a.arg for a in init.args.posonlyargs + init.args.args][1:]
    stored = set()
    for assign in ast.walk(init):
        if isinstance(assign, ast.Assign) and any(root_name(t) == "self" for t in assign.targets):
            stored |= {n.id for n in ast.walk(assign.value) if isinstance(n, ast.Name)}
    return positional, stored & {*positional, *(a.arg for a in init.args.kwonlyargs)}
