"""``report.md`` and ``report.json``: every claim of the paper, quoted vs computed."""

from __future__ import annotations

import json
import os
import platform
import time

from ._common import _plain


def _fmt(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.6g}"
    if isinstance(x, (list, tuple)):
        inner = ", ".join(_fmt(v) for v in x[:8])
        return f"[{inner}{', ...' if len(x) > 8 else ''}]"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k}: {_fmt(v)}" for k, v in x.items()) + "}"
    return str(x)


def _verdict(agree) -> str:
    return "n/a" if agree is None else ("agree" if agree else "DISAGREE")


def write(results: list[dict], out: str, fast: bool, total_time: float) -> tuple[str, str]:
    """Write ``report.json`` and ``report.md`` into ``out``; returns their paths."""
    os.makedirs(out, exist_ok=True)
    claims = [dict(c, experiment=r["name"]) for r in results for c in r["claims"]]
    counts = {
        "claims": len(claims),
        "agree": sum(c["agree"] is True for c in claims),
        "disagree": sum(c["agree"] is False for c in claims),
        "not_run": sum(c["agree"] is None for c in claims),
    }
    meta = {
        "fast": fast,
        "total_wall_time": round(total_time, 2),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "python": platform.python_version(),
    }
    try:
        import jax

        import jaxtls

        meta.update(jax=jax.__version__, jaxtls=jaxtls.__version__, device=str(jax.devices()[0]))
    except Exception:  # noqa: BLE001 - metadata only
        pass
    doc = {
        "meta": meta,
        "counts": counts,
        "claims": claims,
        "experiments": [
            {k: r[k] for k in ("name", "summary", "figures", "data", "wall_time", "parameters")}
            for r in results
        ],
    }
    pj = os.path.join(out, "report.json")
    with open(pj, "w") as f:
        json.dump(_plain(doc), f, indent=1, default=str)

    lines = [
        "# Reproduction report: Camalet, non-equilibrium entangled steady state",
        "",
        f"Mode: {'--fast' if fast else 'full'}; total {total_time:.1f} s; "
        f"{counts['claims']} claims: {counts['agree']} agree, {counts['disagree']} "
        f"disagree, {counts['not_run']} not run.",
        "",
        "| # | experiment | claim | paper | computed | tolerance | verdict | figure |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for i, c in enumerate(claims, 1):
        fig = (
            f"[{os.path.basename(c['figure'])}]({os.path.basename(c['figure'])})"
            if c.get("figure")
            else "-"
        )
        cells = [
            str(i),
            c["experiment"],
            c["claim"],
            _fmt(c["quoted"]),
            _fmt(c["computed"]),
            str(c["tolerance"]),
            _verdict(c["agree"]),
            fig,
        ]
        lines.append("| " + " | ".join(s.replace("|", "\\|") for s in cells) + " |")
    lines += ["", "## Notes per claim", ""]
    for i, c in enumerate(claims, 1):
        if c.get("note"):
            lines.append(f"{i}. {c['note']}")
    lines += ["", "## Experiments", ""]
    for r in results:
        figs = ", ".join(f"[{os.path.basename(p)}]({os.path.basename(p)})" for p in r["figures"])
        data = ", ".join(os.path.basename(p) for p in r["data"])
        lines += [
            f"### {r['name']} ({r['wall_time']:.1f} s)",
            "",
            f"Figures: {figs}  ",
            f"Data: {data}",
            "",
            "```",
            json.dumps(_plain(r["summary"]), indent=1, default=str)[:3000],
            "```",
            "",
        ]
        png = [p for p in r["figures"] if p.endswith(".png")]
        if png:
            lines += [f"![{r['name']}]({os.path.basename(png[0])})", ""]
    pm = os.path.join(out, "report.md")
    with open(pm, "w") as f:
        f.write("\n".join(lines) + "\n")
    return pm, pj
