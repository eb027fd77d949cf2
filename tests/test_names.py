from jupyterlab_promote.analysis.names import CallChanges, analyse_code, changes_of_call


def statement(code: str, index: int = 0):
    return analyse_code(code).statements[index]


def test_in_place_mutation_counts_as_redefinition():
    assert statement("model.fit(X, y)").mutates == ["model"]
    assert statement("optimizer.step()").mutates == ["optimizer"]
    assert statement("df.dropna(inplace=True)").mutates == ["df"]
    assert statement("items.append(x)").mutates == ["items"]
    assert statement("obj.attr = 1").mutates == ["obj"]
    assert statement("table[key] = 1").mutates == ["table"]
    assert statement("X_t = scaler.fit_transform(X)").mutates == ["scaler"]


def test_functions_that_change_their_first_argument_change_it():
    assert statement("a = next(it)").mutates == ["it"]
    assert statement("setattr(box, 'v', 5.0)").mutates == ["box"]
    assert statement("rng.shuffle(items)").mutates == ["rng", "items"]
    assert statement("bias = nn.init.zeros_(layer.bias)").mutates == ["layer"]
    assert statement("top = heapq.heappop(heap)").mutates == ["heap"]


def test_result_used_calls_are_not_mutation():
    assert statement("y = scaler.transform(X)").mutates == []


def test_changes_of_a_comprehensions_or_lambdas_own_names_are_no_changes_of_the_notebooks():
    assert statement("batch = [item.to(device) for item in batch]").mutates == []
    assert statement("f = lambda m: m.train()").mutates == []


def test_reads_exclude_comprehension_and_lambda_locals():
    stmt = statement("out = [a * k for a in values if a > threshold]\n")
    assert set(stmt.reads) == {"k", "values", "threshold"}
    assert statement("f = lambda v: v + offset").reads == ["offset"]


def test_call_time_reads_of_functions_and_classes():
    code = "class Scaler:\n    def fit(self, X):\n        self.mean = np.mean(X_train)\n\ndef dump(x):\n    return json.dumps(x)\n"
    scaler, dump = analyse_code(code).statements
    assert set(scaler.call_time_reads) == {"np", "X_train"}
    assert dump.call_time_reads == ["json"]


def test_literals_and_device_boilerplate():
    assert statement("lr = 1e-3").is_literal
    assert statement('grid = {"C": [0.1, 1]}').is_literal
    assert not statement("n = len(x)").is_literal
    assert statement('device = torch.device("cuda" if torch.cuda.is_available() else "cpu")').is_device


def test_device_boilerplate_is_read_from_the_expression_not_its_words():
    """A Trainer built with ``accelerator='cpu'`` was taken for device boilerplate and became
    ``trainer = torch.device("cpu")`` (random Lightning notebooks): ``'torch.device' object has no attribute 'fit'``."""
    devices = [
        'device = "cuda" if torch.cuda.is_available() else "cpu"',
        'device = torch.device("cuda:0") if use_gpu else torch.device("cpu")',
        'dev = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"',
        'device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"',
    ]
    others = [
        "trainer = pl.Trainer(max_epochs=2, accelerator='cpu', devices=1)",
        'accelerator = "gpu" if torch.cuda.is_available() else "cpu"',
        'accelerator = "cuda" if torch.cuda.is_available() else "cpu"',
        "preds = model(X.cuda()).cpu()",
        'device = "cpu"',
        "device = next(model.parameters()).device",
        'name = "cuda_is_available" if flag else "cpu"',
    ]
    assert [statement(code).is_device for code in devices] == [True] * len(devices)
    assert [statement(code).is_device for code in others] == [False] * len(others)


def test_cell_reads_skip_names_bound_earlier_in_the_cell():
    assert analyse_code("a = 1\nb = a + c\n").reads == ["c"]


def test_lambda_defaults_are_read_where_the_lambda_is_written():
    assert statement("scale = lambda v, k=SIZE: v * k").reads == ["SIZE"]


def test_a_loop_reads_its_list_before_binding_its_target():
    assert statement("for b in [b * 2, 1.0]:\n    total = total + b").reads == ["b", "total"]


def test_a_def_records_the_parameters_and_globals_its_body_changes_in_place():
    grow = statement(
        "def grow(seq, *, log):\n    seq.append(1)\n    log[0] = 2\n    fresh = list(seq)\n    history.append(3)"
    )
    assert changes_of_call(grow) == CallChanges([(0, "seq"), (None, "log")], ["history"])
    assert changes_of_call(statement("def copy(seq):\n    seq = list(seq)\n    seq.append(1)")) == CallChanges()
    train = "def train():\n    model.train()\n    for x in loader:\n        loss = model(x)\n        loss.backward()\n        opt.step()"
    assert changes_of_call(statement(train)).globals == ["model", "opt"]
    logger = "class Logger:\n    def __init__(self):\n        self.seen = 0\n    def log(self, v):\n        history.append(v)"
    assert changes_of_call(statement(logger)) == CallChanges(globals=["history"])


def test_the_visitor_reads_what_ast_nodevisitor_reads() -> None:
    """The per-class handler table gives the names NodeVisitor's own dispatch gives, on the standard library."""
    import ast
    import sysconfig
    from pathlib import Path

    from jupyterlab_promote.analysis import names

    class Reference(names._ModuleLevel):
        visit = ast.NodeVisitor.visit
        generic_visit = ast.NodeVisitor.generic_visit

        def visit_Constant(self, node: ast.Constant) -> None:
            pass

    library = sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py"))[:60]
    statements = 0
    for path in library:
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            fast, slow = names._ModuleLevel(), Reference()
            fast.visit(node)
            slow.visit(node)
            assert (fast.loads, fast.stores, fast.mutated) == (slow.loads, slow.stores, slow.mutated), path.name
            statements += 1
    assert statements > 1000


def _changes(*cells: str) -> list[list[str]]:
    """What each statement of ``cells`` changes once changes through other names are read (indirect_changes.py)."""
    from types import SimpleNamespace

    from jupyterlab_promote.analysis.indirect_changes import read_indirect_changes

    plans = [SimpleNamespace(names=analyse_code(cell)) for cell in cells]
    read_indirect_changes(plans)
    return [stmt.mutates for plan in plans for stmt in plan.names.statements]


def test_a_change_through_what_holds_an_object_changes_the_object():
    """A loop over a dict of models, a part of a tuple, an optimizer made of a model's parameters, an instance of
    the notebook's class that keeps its argument: each change reaches the names of the objects held."""
    made = "seed = 0\nsmall = Model()\nlarge = Model(seed)\nmodels = {'small': small, 'large': large}"
    assert _changes(made, "for name, m in models.items():\n    m.fit(X)")[-1] == ["large", "models", "small"]
    assert _changes("sizes = [1.0]\npair = (sizes, 1.0)", "pair[0].append(2.0)")[-1] == ["pair", "sizes"]
    # a container filled after it was put into another: what holds it holds what it was filled with, at any depth
    filled = ("inner = {}\nouter = [inner]\ntop = {'o': outer}", "inner['k'] = sizes", "sizes.append(2.0)")
    assert sorted(_changes(*filled)[-1]) == ["inner", "outer", "sizes", "top"]
    assert sorted(_changes("box = []\nshelf = (box, 1)", "box.append(net)", "net.fit(X)")[-1]) == [
        "box",
        "net",
        "shelf",
    ]
    # rebound, the name holds another object: its old holders no longer see what it is filled with
    assert _changes("inner = {}\nouter = [inner]\ninner = {}", "inner['k'] = sizes", "sizes.append(2.0)")[-1] == [
        "sizes",
        "inner",
    ]
    assert _changes("alias = sizes", "sizes += [2.0]")[-1] == ["alias"]  # in place for a list
    assert _changes("opt = torch.optim.SGD(net.parameters(), lr=lr)", "opt.step()")[-1] == ["opt", "net"]
    keeper = "class Keeper:\n    def __init__(self, seq, size):\n        self.seq = seq\n    def grow(self, v):\n        pass"
    assert _changes(keeper, "k = Keeper(sizes, other)", "k.grow(1.0)")[-1] == ["k", "sizes"]
    assert _changes("pipe = make_pipeline(scaler, clf)", "pipe.fit(X, y)")[-1] == ["pipe", "clf", "scaler"]
    # a library's wrapper holds the very model it wraps: a change through either reaches the other
    assert _changes("wrapped = nn.DataParallel(model)", "opt = SGD(wrapped.parameters())", "opt.step()")[-1] == [
        "opt",
        "model",
        "wrapped",
    ]
    assert _changes("fast = torch.compile(model)", "model.eval()")[-1] == ["model", "fast"]
    # the parts of one dataset: a change through one reaches the other, through the dataset they hold
    split = "a, b = random_split(full, [3, 1])"
    assert _changes(split, "a.dataset.transform = lambda x: x * 2")[-1] == ["a", "b", "full"]
    # a loader keeps its dataset's tensors; its batches are fresh copies
    assert _changes("loader = DataLoader(TensorDataset(X, y), batch_size=4)", "X -= 1.0")[-1] == ["loader"]
    looped = "for i, (xb, yb) in enumerate(loader):\n    xb.to(device)"
    assert _changes("loader = DataLoader(TensorDataset(X, y))", looped)[-1] == []
    assert _changes("trainer = Trainer(model=model, train_dataset=ds)", "trainer.train()")[-1] == [
        "trainer",
        "ds",
        "model",
    ]
    ledger = "ledger = []\ndef add(v):\n    ledger.append(v)\ndef total():\n    return sum(ledger)"
    assert _changes(ledger, "add(1.0)")[-1] == ["ledger", "add", "total"]  # what total() computes changed


def test_what_holds_nothing_a_change_could_reach_links_nothing():
    """Training a model changes neither its optimizer nor the numbers and settings it was built from; a library's
    class handed a name (``GridSearchCV(model)`` clones it) and a module (``nn`` in ``nn.Sequential(nn.Linear())``)
    hold nothing; a name bound again forgets what its old object shared."""
    assert _changes("opt = SGD(net.parameters())", "net.train()")[-1] == ["net"]
    assert _changes("hidden = 32\ngrid = {'C': [1, 2]}", "net = Net(hidden)", "net.train()")[-1] == ["net"]
    assert _changes("search = GridSearchCV(model, param_grid=grid)", "search.fit(X, y)")[-1] == ["search"]
    assert _changes("from torch import nn\nnet = nn.Sequential(nn.Linear(2, 3))", "net.train()")[-1] == ["net"]
    assert _changes("opt = SGD(net.parameters())\nnet = Net()", "opt.step()")[-1] == ["opt"]
    assert _changes("X = frame[['a']].values\ny = frame['b'].values", "y.sort()")[-1] == ["y", "X", "frame"]
