#!/usr/bin/env python3
"""Turns the measurements Scripts/bench collected (a tab-separated file) into
one table on stdout, a JSON file and an SVG chart (no plotting library needed).

Input lines:
  row  ID  LABEL  UNIT  TARGET  VALUE        a workload's rate on one target (higher is better)
  mem  PROCESS  KIB                          peak resident memory (VmHWM) of a process
  repl ID  LABEL  UNIT  QUORUM  VALUE        replication cost: a rate at one write quorum
  meta KEY  VALUE                            facts about the run
Usage: report.py RESULTS.tsv OUT.json OUT.svg
"""
import html
import json
import math
import sys

TARGETS = ["netstore", "sshfs", "local"]
TARGET_NAMES = {"netstore": "NetStore", "sshfs": "sshfs", "local": "local"}


def load(path):
    rows, repl, memory, meta = {}, {}, {}, {}
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            kind = parts[0]
            if kind == "row":
                _, rid, label, unit, target, value = parts
                row = rows.setdefault(rid, {"id": rid, "label": label, "unit": unit, "values": {}})
                row["values"][target] = None if value == "failed" else float(value)
            elif kind == "repl":
                _, rid, label, unit, quorum, value = parts
                row = repl.setdefault(rid, {"id": rid, "label": label, "unit": unit, "values": {}})
                row["values"][quorum] = None if value == "failed" else float(value)
            elif kind == "mem":
                memory[parts[1]] = int(parts[2])
            elif kind == "meta":
                meta[parts[1]] = parts[2]
    for row in rows.values():
        v = row["values"]
        for other in ("sshfs", "local"):
            ok = v.get("netstore") is not None and v.get(other)
            row[f"ratio_{other}"] = round(v["netstore"] / v[other], 3) if ok else None
    return list(rows.values()), list(repl.values()), memory, meta


def fmt(value, missing="-"):
    if value is None:
        return missing
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def table(rows, repl, memory, meta):
    lines = []
    width = max(len(r["label"]) for r in rows)
    head = f"{'workload':<{width}}  {'unit':<9} {'NetStore':>10} {'sshfs':>10} {'local':>10} {'NS/sshfs':>9} {'NS/local':>9}"
    lines += [head, "-" * len(head)]
    for r in rows:
        v = r["values"]
        lines.append(f"{r['label']:<{width}}  {r['unit']:<9} {fmt(v.get('netstore'), 'failed'):>10} {fmt(v.get('sshfs'), 'failed'):>10} "
                     f"{fmt(v.get('local'), 'failed'):>10} {fmt(r['ratio_sshfs']):>9} {fmt(r['ratio_local']):>9}")
    lines.append("")
    lines.append("Peak memory (VmHWM): " + ", ".join(f"{k} {v / 1024:.0f} MiB" for k, v in memory.items()))
    if repl:
        lines.append("")
        quorums = sorted({q for r in repl for q in r["values"]})
        width = max(len(r["label"]) for r in repl)
        head = f"{'replication cost':<{width}}  {'unit':<9}" + "".join(f" {'quorum ' + q:>10}" for q in quorums)
        lines += [head, "-" * len(head)]
        for r in repl:
            lines.append(f"{r['label']:<{width}}  {r['unit']:<9}" + "".join(f" {fmt(r['values'].get(q), 'failed'):>10}" for q in quorums))
    return "\n".join(lines)


def svg(rows, repl, meta):
    """Bars of NetStore's rate divided by sshfs's and by local's, on a log scale; 1 is parity."""
    left, bar_h, gap, plot_w = 330, 9, 10, 520
    lo, hi = -7, 4  # log2 range: 1/128 .. 16
    for r in rows:
        for key in ("ratio_sshfs", "ratio_local"):
            if r[key]:
                lo = min(lo, math.floor(math.log2(r[key])))
                hi = max(hi, math.ceil(math.log2(r[key])))
    top = 70
    row_h = 2 * bar_h + gap
    height = top + row_h * len(rows) + 50
    repl_top = height
    if repl:
        height += 40 + (2 + len(repl)) * 22
    width = left + plot_w + 120

    def x(ratio):  # 30 px of room for the value of the leftmost bar
        return left + 30 + (math.log2(ratio) - lo) / (hi - lo) * plot_w

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="10" y="22" font-size="15" font-weight="bold">NetStore relative to sshfs and to a local directory '
           f'(higher is better; log scale)</text>',
           f'<text x="10" y="42" fill="#555">{html.escape(meta.get("description", ""))}</text>',
           f'<rect x="{left}" y="50" width="10" height="10" fill="#1f77b4"/><text x="{left + 14}" y="59">NetStore / sshfs</text>',
           f'<rect x="{left + 140}" y="50" width="10" height="10" fill="#ff7f0e"/><text x="{left + 154}" y="59">NetStore / local</text>']
    step = 1 if hi - lo <= 12 else 2
    for e in range(lo, hi + 1):
        if e % step:
            continue
        gx = x(2 ** e)
        label = f"{2 ** e:g}" if e >= 0 else f"1/{2 ** -e}"
        colour = "#333" if e == 0 else "#ddd"
        out.append(f'<line x1="{gx:.1f}" y1="{top - 4}" x2="{gx:.1f}" y2="{top + row_h * len(rows)}" stroke="{colour}"/>')
        out.append(f'<text x="{gx:.1f}" y="{top + row_h * len(rows) + 16}" text-anchor="middle" fill="#555">{label}</text>')
    for i, r in enumerate(rows):
        y = top + i * row_h
        out.append(f'<text x="{left - 8}" y="{y + bar_h + 4}" text-anchor="end">{html.escape(r["label"])}</text>')
        for j, (key, colour) in enumerate((("ratio_sshfs", "#1f77b4"), ("ratio_local", "#ff7f0e"))):
            ratio = r[key]
            if not ratio:
                if j == 0 and r["values"].get("netstore") is None:
                    out.append(f'<text x="{x(1) - 4:.1f}" y="{y + bar_h + 4}" text-anchor="end" fill="#c00">NetStore failed</text>')
                continue
            x0, x1 = x(1), x(ratio)
            by = y + j * bar_h
            out.append(f'<rect x="{min(x0, x1):.1f}" y="{by}" width="{max(abs(x1 - x0), 1):.1f}" height="{bar_h - 1}" fill="{colour}"/>')
            tx = x1 + 4 if ratio >= 1 else x1 - 4
            anchor = "start" if ratio >= 1 else "end"
            out.append(f'<text x="{tx:.1f}" y="{by + bar_h - 1}" font-size="9" text-anchor="{anchor}" fill="#333">{fmt(ratio)}</text>')
    if repl:
        quorums = sorted({q for r in repl for q in r["values"]})
        y = repl_top + 10
        out.append(f'<text x="10" y="{y + 12}" font-size="15" font-weight="bold">Replication cost: NetStore at write quorum '
                   f'{", ".join(quorums)} (higher is better)</text>')
        y += 36
        for k, q in enumerate(quorums):
            out.append(f'<text x="{left + 40 + k * 140}" y="{y}" text-anchor="end" font-weight="bold">quorum {q}</text>')
        for r in repl:
            y += 22
            out.append(f'<text x="{left - 8}" y="{y}" text-anchor="end">{html.escape(r["label"])} ({r["unit"]})</text>')
            best = max([v for v in r["values"].values() if v] or [1])
            for k, q in enumerate(quorums):
                value = r["values"].get(q)
                if value is None:
                    out.append(f'<text x="{left + 40 + k * 140}" y="{y}" text-anchor="end" fill="#c00">failed</text>')
                    continue
                bx = left + 50 + k * 140
                out.append(f'<rect x="{bx}" y="{y - 10}" width="{80 * value / best:.1f}" height="12" fill="#2ca02c"/>')
                out.append(f'<text x="{left + 40 + k * 140}" y="{y}" text-anchor="end">{fmt(value)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    results, json_path, svg_path = sys.argv[1:4]
    rows, repl, memory, meta = load(results)
    print(table(rows, repl, memory, meta))
    document = {"mode": meta.get("mode"), "meta": meta, "targets": TARGETS, "rows": rows,
                "memory_kib": memory, "replication": repl}
    with open(json_path, "w") as f:
        json.dump(document, f, indent=2)
        f.write("\n")
    with open(svg_path, "w") as f:
        f.write(svg(rows, repl, meta))


if __name__ == "__main__":
    main()
