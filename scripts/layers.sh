#!/usr/bin/env bash
# Checks the crate's layering (issue 25): domain <- store <- service <- api/app, with jobs and
# delivery beside service, and no import circle among the top-level modules of src/.
# grep + python3 only; no cargo. Run from the repository root: scripts/layers.sh
set -uo pipefail
cd "$(dirname "$0")/.."

fail=0

# Lines of `grep -rnE PATTERN DIRS...` that are code, not comments (`//`, `///`, `//!`).
code_grep() {
    local pattern=$1; shift
    grep -rnE --include='*.rs' "$pattern" "$@" 2>/dev/null | grep -vE '^[^:]+:[0-9]+:[[:space:]]*//'
}

# check "what is wrong" PATTERN DIRS...: prints the offending lines and marks a failure.
check() {
    local what=$1 pattern=$2; shift 2
    local hits
    hits=$(code_grep "$pattern" "$@")
    if [[ -n $hits ]]; then
        echo "LAYERS: $what"
        echo "$hits" | sed 's/^/    /'
        fail=1
    fi
}

check "service/ names api/ or app/" \
    'crate::(api|app)\b|crate::\{[^}]*\b(api|app)\b' src/service
check "api/ or app/ reaches the store through AppState (call a service function)" \
    '\.store\b' src/api src/app
check "domain/ names store, service, api or app" \
    'crate::(store|service|api|app|state)\b|crate::\{[^}]*\b(store|service|api|app|state)\b|super::(store|service|api|app|state)\b' src/domain
check "store/ names service, api or app" \
    'crate::(service|api|app|state)\b|crate::\{[^}]*\b(service|api|app|state)\b' src/store
check "api/ names app/" \
    'crate::app\b|crate::\{[^}]*\bapp\b' src/api
# Audit entries are written by service/ (and stored by store/). The delivery engine's
# `webhook.auto_disabled` (system actor; delivery cannot call service without a circle) is the
# one exception, listed here by file.
AUDIT_EXCEPTIONS='^src/delivery/engine\.rs:'
hits=$(code_grep '\.audit\(|audit_refused|audit_repeated' src --exclude-dir=service --exclude-dir=store \
    | grep -vE "$AUDIT_EXCEPTIONS")
if [[ -n $hits ]]; then
    echo "LAYERS: an audit entry written outside service/"
    echo "$hits" | sed 's/^/    /'
    fail=1
fi

# The module graph: which top-level module of src/ names which (`crate::x`, `crate::{x, ..}`,
# `super::x` reaching the crate root), its circles, and arrows pointing up the layers.
python3 - src <<'PY' || fail=1
import collections, os, re, sys
root = sys.argv[1]
tops = {n[:-3] if n.endswith('.rs') else n for n in os.listdir(root)
        if (n.endswith('.rs') and n not in ('lib.rs', 'main.rs')) or os.path.isdir(os.path.join(root, n))}
# Lower may not name higher. Equal ranks may name each other (circles are caught below).
RANK = dict(domain=0, crypto=1, store=2, error=3, config=3, metrics=3, live=3, telemetry=3, assets=3,
            alerts=4, delivery=5, jobs=6, state=6, service=7, api=8, app=8, server=9)
edges = collections.defaultdict(lambda: collections.defaultdict(list))
for dirpath, _, files in os.walk(root):
    for f in sorted(files):
        if not f.endswith('.rs'):
            continue
        path = os.path.join(dirpath, f)
        rel = os.path.relpath(path, root)
        if rel in ('lib.rs', 'main.rs'):
            continue
        mod = rel[:-3].split(os.sep)
        if mod[-1] == 'mod':
            mod = mod[:-1]
        with open(path, encoding='utf-8') as fh:
            for n, line in enumerate(fh, 1):
                if line.lstrip().startswith('//'):
                    continue
                code = re.sub(r'(?<![:"])//.*$', '', line)
                names = [m.group(1) for m in re.finditer(r'\bcrate::(\w+)', code)]
                for m in re.finditer(r'\bcrate::\{([^}]*)\}', code):
                    names += [p.strip().split('::')[0] for p in m.group(1).split(',') if p.strip()]
                for m in re.finditer(r'\b((?:super::)+)(\w+)', code):
                    if m.group(1).count('super::') == len(mod):
                        names.append(m.group(2))
                for t in names:
                    if t in tops and t != mod[0]:
                        edges[mod[0]][t].append(f'{path}:{n}')
bad = False
for a in sorted(edges):
    for b in sorted(edges[a]):
        if a not in RANK or b not in RANK:
            print(f'LAYERS: module {a if a not in RANK else b} has no rank in scripts/layers.sh: give it one')
            bad = True
        elif RANK[b] > RANK[a]:
            print(f'LAYERS: upward arrow {a} -> {b}: ' + ', '.join(edges[a][b][:5]))
            bad = True
# Circles: strongly connected components (Tarjan).
index, low, stack, on, comps = {}, {}, [], set(), []
def visit(v):
    index[v] = low[v] = len(index); stack.append(v); on.add(v)
    for w in edges.get(v, {}):
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            comps.append(sorted(comp))
for v in sorted(tops):
    if v not in index:
        visit(v)
for comp in comps:
    bad = True
    print('LAYERS: import circle among ' + ', '.join(comp))
    for a in comp:
        for b in comp:
            if b in edges.get(a, {}):
                print(f'    {a} -> {b}: ' + ', '.join(edges[a][b][:3]))
if '-v' in sys.argv or os.environ.get('LAYERS_VERBOSE'):
    for a in sorted(edges):
        print(f'{a} -> ' + ', '.join(sorted(edges[a])))
sys.exit(1 if bad else 0)
PY

if (( fail )); then
    echo "layers: FAILED"
    exit 1
fi
echo "layers: ok"
