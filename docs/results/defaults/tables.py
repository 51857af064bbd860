#!/usr/bin/env python3
"""Markdown tables of docs/results.md, "Defaults that do not hurt", from `dro experiment --trainer-defaults`
directories (Python 3 standard library only; run from the directory holding the experiments):

  python3 tables.py grid A-arithmetic-b8e1 A-sentiment-b8e1 ...   LR × τ grid: last-step reward − π_ref's
  python3 tables.py defaults C-arithmetic-small ...                 the default arm against π_ref, every seed
  python3 tables.py warnings C-... LN-...                           which warning fired at which step
  python3 tables.py selection C-...                                 final/'s step against the best evaluated step
  python3 tables.py criteria A-... C-...                            selection criteria compared (replayed offline)

A directory written DIR!ARM leaves that arm out (an arm rerun in another directory).

Rewards are the task's true reward of one sample per held-out prompt (256 prompts). "Δ final" compares the
policy in final/ with π_ref on the same prompts and sampling seed (the experiment's final evaluation);
curves evaluate every evaluation step's checkpoint on the same 256 prompts with another seed, step 0 being
π_ref, so "Δ last" = curve(last step) − curve(0) does not depend on the checkpoint selection."""
import json, math, os, statistics as st, sys

DEFAULT_ARM = "dro-v:tau=0.3"   # in --trainer-defaults mode exactly dro train's defaults


def lines(path):
    return [json.loads(l) for l in open(path) if l.strip()] if os.path.exists(path) else []


def run_dir(root, seed, arm):
    return os.path.join(root, f"seed-{seed}", "runs", arm.replace(":", "_").replace("=", "-"))


def load(root):
    """A directory's runs; DIR!ARM leaves out one arm (rerun elsewhere)."""
    root, _, skip = root.partition("!")
    r = json.load(open(os.path.join(root, "results.json")))
    sft = {s["seed"]: s for a in r["algorithms"] if a["name"] == "sft" for s in a["seeds"]}
    size = "1.2 M" if "large" in root else "0.2 M"
    rows = []
    for a in r["algorithms"]:
        if a["name"] in ("sft", skip):
            continue
        for s in a["seeds"]:
            seed = s["seed"]
            d = run_dir(root, seed, a["name"])
            curve = {c["step"]: c["sampled_reward"] for c in s.get("curve", [])}
            ev = lines(os.path.join(d, "eval.jsonl"))
            sd = st.pstdev([e["sample_reward"] for e in ev]) if len(ev) > 1 else float("nan")
            steps = sorted(k for k in curve if k > 0)
            best = max(steps, key=lambda k: (curve[k], -k)) if steps else None
            rows.append(dict(
                root=root, task=r["task"], size=size, arm=a["name"], seed=seed, dir=d,
                delta=s["final"]["sampled_reward"] - sft[seed]["final"]["sampled_reward"],
                win=s["final"].get("win_rate_vs_sft"), kl=s["final"].get("kl"), final=s.get("final_step"),
                last=steps[-1] if steps else None, best=best,
                delta_last=curve[steps[-1]] - curve[0] if steps and 0 in curve else float("nan"),
                gap=curve[best] - curve[s["final_step"]] if best is not None and s.get("final_step") in curve else float("nan"),
                noise=math.sqrt(2) * sd / math.sqrt(max(1, len(ev))),
                warnings=lines(os.path.join(d, "warnings.jsonl")),
                metrics=lines(os.path.join(d, "metrics.jsonl")), curve=curve))
    return rows


def f(x, fmt="+.3f"):
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, fmt)


def grid(roots):
    """One row per (task, algorithm, LR, τ or β); columns per batch × epochs shape: mean and worst seed of Δ last."""
    cells, shapes = {}, []
    for root in roots:
        for x in load(root):
            run = json.load(open(os.path.join(x["dir"], "run.json")))
            shape = f"{run['batch_size']} × {run['epochs']:g}"
            if shape not in shapes:
                shapes.append(shape)
            reg = f"β {run['beta']:g}" if run["algo"] == "kto" else f"τ {run['tau']:g}"
            cells.setdefault((x["task"], run["algo"], run["lr"], reg), {}).setdefault(shape, []).append(x["delta_last"])
    print("| task | algorithm | LR | τ / β | " + " | ".join(f"batch × epochs {s}: Δ last mean (worst seed)" for s in shapes) + " |")
    print("|---|---|---:|---|" + "---:|" * len(shapes))
    for (task, algo, lr, reg), by in sorted(cells.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][3], kv[0][2])):
        vals = [f"{f(st.mean(by[s]))} ({f(min(by[s]))})" if s in by else "—" for s in shapes]
        print(f"| {task} | {algo} | {lr:g} | {reg} | " + " | ".join(vals) + " |")


def paired_se(x):
    """Standard error of the mean per-prompt difference final/ − π_ref (same prompts, same sampling seed)."""
    pol = [e["sample_reward"] for e in lines(os.path.join(x["dir"], "eval.jsonl"))]
    ref = [e["sample_reward"] for e in lines(os.path.join(x["root"].partition("!")[0], f"seed-{x['seed']}", "eval_sft.jsonl"))]
    d = [a - b for a, b in zip(pol, ref)]
    return st.pstdev(d) / math.sqrt(len(d)) if len(d) > 1 else float("nan")


def defaults(roots, arm=DEFAULT_ARM):
    print("| task | model | seed | π_ref reward | Δ final/ − π_ref ± 2 SE | win rate vs π_ref | KL (nats) | final/ = step | warnings |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for root in roots:
        r = json.load(open(os.path.join(root.partition("!")[0], "results.json")))
        sft = {s["seed"]: s["final"]["sampled_reward"] for a in r["algorithms"] if a["name"] == "sft" for s in a["seeds"]}
        for x in load(root):
            if x["arm"] != arm:
                continue
            w = ", ".join(f"{w['code']}@{w['step']}" for w in x["warnings"]) or "none"
            print(f"| {x['task']} | {x['size']} | {x['seed']} | {sft[x['seed']]:.3f} | **{f(x['delta'])}** ± {2 * paired_se(x):.3f} | {100 * x['win']:.1f} % | "
                  f"{x['kl']:.2f} | {x['final']} of {x['last']} | {w} |")


def warnings(roots):
    print("| task | model | arm | seed | Δ final/ − π_ref | max held-out KL | warnings (step) |")
    print("|---|---|---|---:|---:|---:|---|")
    for root in roots:
        for x in load(root):
            kls = [m.get("eval_objective/kl", 0) for m in x["metrics"] if "eval_loss" in m]
            arm = x["arm"] + (" + length_normalize" if os.path.basename(root).startswith("LN") else "")
            w = ", ".join(f"`{w['code']}` ({w['step']})" for w in x["warnings"]) or "—"
            print(f"| {x['task']} | {x['size']} | `{arm}` | {x['seed']} | {f(x['delta'])} | {max(kls):.2f} | {w} |")


def selection(roots):
    rows = [x for root in roots for x in load(root)]
    within = sum(1 for x in rows if x["gap"] <= 2 * x["noise"])
    print(f"{within} of {len(rows)} runs: final/'s true reward within 2σ of the best evaluated step's "
          f"(σ = √2 × standard error of a 256-prompt mean); mean gap {st.mean(x['gap'] for x in rows):.3f}, "
          f"largest {max(x['gap'] for x in rows):.3f}.\n")
    print("| task | model | arm | seeds: final/ step (best step), gap ± 2σ |")
    print("|---|---|---|---|")
    for root in roots:
        xs = load(root)
        for arm in dict.fromkeys(x["arm"] for x in xs):
            cells = [f"{x['final']} ({x['best']}) {x['gap']:+.3f} ± {2 * x['noise']:.3f}" for x in xs if x["arm"] == arm]
            print(f"| {xs[0]['task']} | {xs[0]['size']} | `{arm}` | {'; '.join(cells)} |")


def criteria(roots):
    """Replays, offline, what each rule would have picked: the held-out loss or the implicit-reward accuracy,
    over every evaluation or over the healthy ones only (KL ≤ the run's bound in health.json, EOS, length)."""
    res = {}
    for root in roots:
        for x in load(root):
            h = json.load(open(os.path.join(x["dir"], "health.json")))
            bound = h.get("kl_bound")
            if "optimum_kl" not in h:    # runs made before the bound used the optimum's KL: recompute it
                bound = recomputed_bound(root, x)
            ev = [m for m in x["metrics"] if "eval_loss" in m and m["step"] > 0]

            def failed(m):
                eos_floor = min(0.95, m["eval_ref_val/contain_eos_token"] - 0.05)
                return ((m["eval_objective/kl"] > bound) + (m["eval_val/contain_eos_token"] < eos_floor)
                        + (abs(m["eval_completions/mean_length"] / m["eval_ref_completions/mean_length"] - 1) > 0.4))
            steps = [k for k in x["curve"] if k > 0]
            best = max(x["curve"][k] for k in steps)
            for name, key, greater in (("eval_loss", "eval_loss", False), ("eval_rewards/accuracies", "eval_rewards/accuracies", True)):
                for gated in (False, True):
                    cand = [m for m in ev if failed(m) == 0] if gated else ev
                    if cand:
                        pick = (max if greater else min)(cand, key=lambda m: (m[key], -m["step"]) if greater else (m[key], m["step"]))["step"]
                    else:  # no healthy evaluation: the one closest to passing (fewest failed checks, smallest KL)
                        pick = min(ev, key=lambda m: (failed(m), m["eval_objective/kl"], m["step"]))["step"]
                    res.setdefault((name, gated), []).append((best - x["curve"][pick], x["noise"]))
            res.setdefault(("last step", False), []).append((best - x["curve"][max(steps)], x["noise"]))
    print("| rule | runs | within 2σ of the best step | mean gap | largest gap |")
    print("|---|---:|---:|---:|---:|")
    for (name, gated), v in res.items():
        within = sum(1 for g, n in v if g <= 2 * n)
        print(f"| {name}{', healthy evaluations only' if gated else ''} | {len(v)} | {within} | {st.mean(g for g, _ in v):.3f} | {max(g for g, _ in v):.3f} |")


def recomputed_bound(root, x):
    run = json.load(open(os.path.join(x["dir"], "run.json")))
    labels = [1.0 if r.get("label") else 0.0 for r in lines(os.path.join(root, f"seed-{x['seed']}", "feedback.jsonl"))]
    mu, sd = st.mean(labels), st.pstdev(labels)
    z = [(v - mu) / sd for v in labels]
    c = run["beta"] if run["algo"] in ("kto", "dpo") else run["tau"]
    m = max(z)
    e = [math.exp((r - m) / c) for r in z]
    mean = sum(e) / len(e)
    kl = sum((w / mean) * math.log(w / mean) for w in e if w > 0) / len(e)
    return min((max(z) - min(z)) / c, max(0.5, 2 * kl))


if __name__ == "__main__":
    {"grid": grid, "defaults": defaults, "warnings": warnings, "selection": selection, "criteria": criteria}[sys.argv[1]](sys.argv[2:])
