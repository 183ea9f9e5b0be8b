"""An obviously-correct R-MeeTo merge step: one image, plain Python lists, no vectorisation."""
import math


def _unit(v):
    n = math.sqrt(sum(a * a for a in v))
    return [a / n for a in v]


def _score(a, b, distance):
    if distance == "cosine":
        return sum(x * y for x, y in zip(a, b))
    if distance == "l1":
        return -sum(abs(x - y) for x, y in zip(a, b))
    return -math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)))


def merge_step(xs, sizes, metric, cls, r, mode="merge", order="keep", distance="cosine", cls_place="proportional",
               norms=None):
    """xs: T token vectors (lists); sizes: T floats; metric: T vectors. Returns (xs, sizes, cls)."""
    t = len(xs)
    r = min(r, (t - 1) // 2)
    if r <= 0:
        return [list(x) for x in xs], list(sizes), cls
    others = [i for i in range(t) if i != cls]  # positions in the full sequence
    srcs, dsts = others[0::2], others[1::2]
    unit = {i: _unit(metric[i]) for i in others}
    best = []  # (score, k, best destination j)
    for k, i in enumerate(srcs):
        if mode == "prune-norm":
            best.append((-math.sqrt(sum(a * a for a in metric[i])), k, 0))
            continue
        scores = [_score(unit[i], unit[j], distance) for j in dsts]
        j = max(range(len(dsts)), key=lambda q: (scores[q], -q))
        best.append((scores[j], k, j))
    ranked = sorted(best, key=lambda e: (-e[0], e[1]))  # descending score, stable
    merged, unmerged = ranked[:r], ranked[r:]
    # weighted sums of destinations
    acc = {j: ([v * sizes[d] for v in xs[d]], sizes[d]) for j, d in enumerate(dsts)}
    if mode == "merge":
        for _, k, j in merged:
            s = srcs[k]
            vec, size = acc[j]
            acc[j] = ([a + v * sizes[s] for a, v in zip(vec, xs[s])], size + sizes[s])
    token = {}  # original position -> (vector, size)
    for _, k, _ in unmerged:
        token[srcs[k]] = (list(xs[srcs[k]]), sizes[srcs[k]])
    for j, d in enumerate(dsts):
        vec, size = acc[j]
        token[d] = ([v / size for v in vec], size)
    if order == "keep":
        seq = [token[p] for p in sorted(token)]
        if cls_place == "proportional":
            new_cls = cls * (t - r) // t
        else:
            new_cls = sum(1 for p in token if p < cls)
    else:
        s_count = len(srcs)
        new_cls = min(cls * (s_count - r) // s_count, len(unmerged))
        seq = [token[srcs[k]] for _, k, _ in unmerged]
        seq = seq[:new_cls] + [None] + seq[new_cls:]
        seq = [e for e in seq if e is not None]  # placeholder dropped, cls inserted below
        head = seq[:len(unmerged)]
        seq = head + [token[d] for d in dsts]
    seq.insert(new_cls, (list(xs[cls]), sizes[cls]))
    return [v for v, _ in seq], [s for _, s in seq], new_cls
