#!/usr/bin/env python3
"""Prints the tables of docs/results.md from the experiments' results.json files (docs/results/NAME/results.json),
so that every number in docs/results.md can be checked against the runs: python3 docs/results/tables.py > /tmp/t.md

Standard library only. Every cell is the mean ± sample standard deviation over seeds of the test numbers at the
setting chosen on validation prompts (see each experiment's report.md for the grids)."""
import decimal
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SETUPS = ["arithmetic-thumbs", "sentiment-thumbs", "arithmetic-score", "sentiment-score"]
SETUP_TITLES = {"arithmetic-thumbs": "arithmetic, thumbs", "sentiment-thumbs": "sentiment, thumbs",
                "arithmetic-score": "arithmetic, scores", "sentiment-score": "sentiment, scores"}
FAMILIES = [("t5", "T5"), ("llama", "Llama")]


def load(name):
    path = os.path.join(HERE, name, "results.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def mean_std(values):
    values = [v for v in values if v is not None and not (isinstance(v, str)) and math.isfinite(v)]
    if not values:
        return None
    m = sum(values) / len(values)
    s = math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return m, s, len(values)


def fmt(v, decimals):
    """As .NET's custom format "0.0…" writes a double (report.md): first 15 significant digits, then rounded half away from zero."""
    d = decimal.Decimal(repr(v))
    if d != 0:
        d = round(d, 14 - d.adjusted())
    return str(d.quantize(decimal.Decimal(1).scaleb(-decimals), rounding=decimal.ROUND_HALF_UP))


def pct(ms):
    return "—" if ms is None else f"{fmt(100 * ms[0], 1)}% ± {fmt(100 * ms[1], 1)}"


def num(ms, digits=3):
    return "—" if ms is None else f"{fmt(ms[0], digits)} ± {fmt(ms[1], digits)}"


def arm(results, name):
    return next((a for a in results["algorithms"] if a["name"] == name), None)


def finals(a, key):
    return [s["final"].get(key) for s in a["seeds"]] if a else []


def win_vs_sft(results, name):
    a = arm(results, name)
    if a is None:
        return "not run"
    if not a["seeds"]:
        return "failed"
    return pct(mean_std(finals(a, "win_rate_vs_sft")))


def head_to_head(results, a, b):
    h = next((h for h in results["head_to_head"] if h["a"] == a and h["b"] == b), None)
    return "—" if h is None else pct(mean_std([s["win_rate"] for s in h["seeds"]]))


def chosen(a):
    sel = a.get("selection") if a else None
    if not sel:
        return "—"
    if sel.get("learning_rate") is None:
        return "failed"
    lr = sel["learning_rate"]
    exponent = int(math.floor(math.log10(lr)))
    mantissa = lr / 10 ** exponent
    text = f"{mantissa:g}e{exponent}"
    rates = sorted({g["learning_rate"] for g in sel["grid"]})
    edge = sel["step"] == max(g["step"] for g in sel["grid"]) or (len(rates) > 1 and lr in (rates[0], rates[-1]))
    return f"{text}, {sel['step']}" + (" †" if edge else "")


def row(cells):
    return "| " + " | ".join(cells) + " |"


def summary(family, title, paper):
    runs = {s: load(f"{family}-{s}") for s in SETUPS}
    print(f"### {title}\n")
    print(row(["test win rate", *[SETUP_TITLES[s] for s in SETUPS], "paper (T5-L)"]))
    print(row(["---"] + ["---:"] * (len(SETUPS) + 1)))
    lines = [
        ("DRO-V vs SFT", lambda r: win_vs_sft(r, "dro-v"), "78.9% ± 0.3"),
        ("KTO (paper's) vs SFT", lambda r: win_vs_sft(r, "kto-paper"), "67.5% ± 0.7"),
        ("KTO (TRL's) vs SFT", lambda r: win_vs_sft(r, "kto-trl"), "—"),
        ("SFT on positives vs SFT", lambda r: win_vs_sft(r, "sft-pos"), "—"),
        ("DRO-V vs KTO (paper's)", lambda r: head_to_head(r, "dro-v", "kto-paper"), "63.4% ± 1.0"),
        ("DRO-V vs KTO (TRL's)", lambda r: head_to_head(r, "dro-v", "kto-trl"), "—"),
        ("DRO-V vs SFT on positives", lambda r: head_to_head(r, "dro-v", "sft-pos"), "—"),
        ("best τ DRO-V vs best β KTO", best_vs_best, "—"),
    ]
    for label, f, p in lines:
        print(row([label, *[("not run" if runs[s] is None else f(runs[s])) for s in SETUPS], p]))
    print()


def best_vs_best(results):
    choices = results.get("strength_choices", [])
    if len(choices) < 2:
        return "—"
    return f"{head_to_head(results, choices[0]['chosen'], choices[1]['chosen'])} ({label_of(choices[0]['chosen'])} vs {label_of(choices[1]['chosen'])})"


def label_of(name):
    if name == "dro-v":
        return "τ 1"
    if name == "kto-paper":
        return "β 5"
    return name.split(":")[1].replace("tau=", "τ ").replace("beta=", "β ")


def main_tables(family, title):
    for s in SETUPS:
        r = load(f"{family}-{s}")
        if r is None:
            continue
        print(f"#### {title}, {SETUP_TITLES[s]}\n")
        print(row(["method", "LR, step (validation)", "win rate vs SFT", "reward (sampled)", "reward (greedy)", "KL(π‖π_ref)"]))
        print(row(["---", "---", "---:", "---:", "---:", "---:"]))
        for name in ["dro-v", "kto-paper", "kto-trl", "sft-pos", "sft"]:
            a = arm(r, name)
            if a is None:
                continue
            print(row([name, chosen(a), "—" if name == "sft" else win_vs_sft(r, name), num(mean_std(finals(a, "sampled_reward"))),
                       num(mean_std(finals(a, "greedy_reward"))), num(mean_std(finals(a, "kl")))]))
        print()


def sweep(family, title):
    runs = {s: load(f"{family}-{s}") for s in SETUPS}
    print(f"### {title}: τ and β\n")
    print(row(["test win rate vs SFT (KL)", *[SETUP_TITLES[s] for s in SETUPS], "paper (T5-L)"]))
    print(row(["---"] + ["---:"] * (len(SETUPS) + 1)))
    paper = {"dro-v:tau=0.1": "70.5%", "dro-v": "78.9%", "dro-v:tau=5": "76.6%",
             "kto-paper:beta=0.1": "63.5%", "kto-paper:beta=1": "61.9%", "kto-paper": "67.5%"}
    labels = {"dro-v:tau=0.1": "DRO-V τ = 0.1", "dro-v": "DRO-V τ = 1", "dro-v:tau=5": "DRO-V τ = 5",
              "kto-paper:beta=0.1": "KTO β = 0.1", "kto-paper:beta=1": "KTO β = 1", "kto-paper": "KTO β = 5"}
    for name in paper:
        cells = []
        for s in SETUPS:
            r = runs[s]
            if r is None:
                cells.append("not run")
                continue
            a = arm(r, name)
            cell = win_vs_sft(r, name)
            kl = mean_std(finals(a, "kl"))
            if kl is not None:
                cell += f" ({fmt(kl[0], 2)})"
            if any(c["chosen"] == name for c in r.get("strength_choices", [])):
                cell = f"**{cell}**"
            cells.append(cell)
        print(row([labels[name], *cells, paper[name]]))
    print("\nBold: the strength chosen on validation (highest validation win rate against SFT, each at its own chosen LR and step).\n")


def value_ablation(family, title):
    runs = {s: load(f"{family}-{s}") for s in SETUPS}
    print(f"### {title}: value ablation (DRO-V, τ = 1)\n")
    print(row(["test win rate vs SFT", *[SETUP_TITLES[s] for s in SETUPS], "paper (T5-L, 10k steps)"]))
    print(row(["---"] + ["---:"] * (len(SETUPS) + 1)))
    for name, label, p in [("dro-v", "two networks, one value per example", "76.6%"),
                           ("dro-v:value=single", "two networks, one value per batch", "72.1%"),
                           ("dro-v:value=shared", "one network, one value per example", "55.5%")]:
        cells = []
        for s in SETUPS:
            r = runs[s]
            if r is None:
                cells.append("not run")
                continue
            kl = mean_std(finals(arm(r, name), "kl"))
            cells.append(win_vs_sft(r, name) + ("" if kl is None else f" ({fmt(kl[0], 2)})"))
        print(row([label, *cells, p]))
    print()


def optimum(family, title):
    for s in ["arithmetic-thumbs", "arithmetic-score"]:
        r = load(f"{family}-{s}")
        if r is None or not r.get("optimum"):
            continue
        print(f"#### {title}, {SETUP_TITLES[s]}: π* against DRO-V\n")
        print(row(["τ", "policy", "reward (sampled)", "KL(π‖π_ref)", "share of the way to π*", "ESS (of 64; min)"]))
        print(row(["---:", "---", "---:", "---:", "---:", "---:"]))
        taus = sorted({o["tau"] for o in r["optimum"]})
        for tau in taus:
            est = [o for o in r["optimum"] if o["tau"] == tau]
            ess = sum(o["mean_effective_sample_size"] for o in est) / len(est)
            ess_min = min(o["min_effective_sample_size"] for o in est)
            print(row([f"{tau:g}", "π* (estimate)", num(mean_std([o["expected_reward"] for o in est])),
                       num(mean_std([o["kl"] for o in est])), "100%", f"{fmt(ess, 1)}; {fmt(ess_min, 1)}"]))
            print(row([f"{tau:g}", "π_ref", num(mean_std([o["reference_reward"] for o in est])), "0", "0%", ""]))
            for a in r["algorithms"]:
                if a.get("objective") != "dro-v" or a.get("regularisation") != tau or not a["seeds"]:
                    continue
                shares = []
                for sd in a["seeds"]:
                    e = next((o for o in est if o["seed"] == sd["seed"]), None)
                    if e and abs(e["expected_reward"] - e["reference_reward"]) > 1e-12:
                        shares.append((sd["final"]["sampled_reward"] - e["reference_reward"]) / (e["expected_reward"] - e["reference_reward"]))
                print(row([f"{tau:g}", a["name"], num(mean_std(finals(a, "sampled_reward"))), num(mean_std(finals(a, "kl"))),
                           pct(mean_std(shares)), ""]))
        print()


def selections(family, title):
    runs = {s: load(f"{family}-{s}") for s in SETUPS}
    names = []
    for r in runs.values():
        if r:
            names += [a["name"] for a in r["algorithms"] if a.get("selection") and a["name"] not in names]
    if not names:
        return
    print(f"### {title}: learning rate and step chosen on validation\n")
    print(row(["method", *[SETUP_TITLES[s] for s in SETUPS]]))
    print(row(["---"] + ["---"] * len(SETUPS)))
    for n in names:
        print(row([n, *[("not run" if runs[s] is None else chosen(arm(runs[s], n))) for s in SETUPS]]))
    print()


def failures():
    print("### Runs that diverged or could not start\n")
    print(row(["experiment", "method", "seed", "LR", "step", "what"]))
    print(row(["---", "---", "---:", "---:", "---:", "---"]))
    any_ = False
    for name in sorted(os.listdir(HERE)):
        r = load(name)
        if r is None:
            continue
        for a in r["algorithms"]:
            for f in a.get("failures", []):
                any_ = True
                what = ("diverged: " if f.get("diverged") else "could not start: ") + f["message"].split(";")[0]
                print(row([name, a["name"], str(f["seed"]), f"{f['learning_rate']:g}", str(f["step"]), what]))
    if not any_:
        print(row(["(none)", "", "", "", "", ""]))
    print()


def large():
    for family, title in [("t5large", "T5, 11.8 M"), ("llamalarge", "Llama, 11.5 M")]:
        r = load(f"{family}-arithmetic-thumbs")
        if r is None:
            continue
        print(f"#### {title}, arithmetic, thumbs\n")
        print(row(["method", "LR, step (validation)", "win rate vs SFT", "reward (sampled)", "reward (greedy)", "KL(π‖π_ref)"]))
        print(row(["---", "---", "---:", "---:", "---:", "---:"]))
        for name in ["dro-v", "kto-paper", "sft-pos", "sft"]:
            a = arm(r, name)
            if a is None:
                continue
            print(row([name, chosen(a), "—" if name == "sft" else win_vs_sft(r, name), num(mean_std(finals(a, "sampled_reward"))),
                       num(mean_std(finals(a, "greedy_reward"))), num(mean_std(finals(a, "kl")))]))
        print()
        print(row(["head to head", "test win rate"]))
        print(row(["---", "---:"]))
        for h in r["head_to_head"]:
            print(row([f"{h['a']} vs {h['b']}", pct(mean_std([s["win_rate"] for s in h["seeds"]]))]))
        print()


def main():
    for family, title in FAMILIES:
        summary(family, title, None)
    for family, title in FAMILIES:
        main_tables(family, title)
    for family, title in FAMILIES:
        selections(family, title)
    for family, title in FAMILIES:
        sweep(family, title)
    for family, title in FAMILIES:
        value_ablation(family, title)
    for family, title in FAMILIES:
        optimum(family, title)
    large()
    failures()


if __name__ == "__main__":
    sys.exit(main())
