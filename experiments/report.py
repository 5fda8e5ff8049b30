"""``report.md`` and ``report.json``: every claim of the paper, quoted against computed.

Each experiment's summary also goes, complete, to ``NAME_summary.json``; ``report.md`` shows it
as a table (long lists explicitly shortened), plus the complete JSON, collapsed, when short.

Example:
  >>> import tempfile
  >>> from jaxtls.experiments import report
  >>> from jaxtls.experiments._common import claim
  >>> r = {"name": "demo", "claims": [claim("1 + 1 = 2", 2, 2.0, "abs 0", True)],
  ...      "figures": [], "data": [], "summary": {}, "wall_time": 0.0, "parameters": {}}
  >>> md, js = report.write([r], tempfile.mkdtemp(), fast=True, total_time=0.0)
  >>> "| 1 | demo | 1 + 1 = 2 | 2 | 2 | abs 0 | agree | - |" in open(md).read()
  True
"""

from __future__ import annotations

import json
import os
import platform
import time

from ._common import _plain

VERDICT = {True: "agree", False: "DISAGREE", None: "not checked"}


def _fmt(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, float):
        return f"{x:.6g}" if abs(x) < 1e-3 or abs(x) >= 1e4 else f"{x:.7g}"
    if isinstance(x, (list, tuple)):
        inner = ", ".join(_fmt(v) for v in x[:6])
        return f"[{inner}{', ...' if len(x) > 6 else ''}]"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k}: {_fmt(v)}" for k, v in x.items()) + "}"
    return str(x)


def _cell(x, n_max=8) -> str:
    """One value of the summary table, complete or explicitly shortened (never cut inside)."""
    if isinstance(x, (list, tuple)):
        if any(isinstance(v, (dict, list, tuple)) for v in x):
            return f"list of {len(x)} entries (in the JSON file)"
        if len(x) > n_max:
            head = ", ".join(_fmt(v) for v in x[:3])
            tail = ", ".join(_fmt(v) for v in x[-2:])
            return f"[{head}, ..., {tail}] ({len(x)} values)"
        return "[" + ", ".join(_fmt(v) for v in x) + "]"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k}: {_cell(v)}" for k, v in x.items()) + "}"
    return _fmt(x)


def _rows(summary, prefix="", depth=0):
    """``(key path, cell)`` rows of a summary: nested dicts are flattened (``a / b``) while
    their values are containers, or they are long or have long keys; short dicts of numbers
    stay on one row."""
    rows = []
    for k, v in summary.items():
        key = f"{prefix} / {k}" if prefix else str(k)
        flat = (
            isinstance(v, dict)
            and depth < 2
            and (
                any(isinstance(w, (dict, list)) for w in v.values())
                or len(v) > 6
                or max((len(str(w)) for w in v), default=0) > 12
            )
        )
        if flat:
            rows += _rows(v, key, depth + 1)
        else:
            rows.append((key, _cell(v)))
    return rows


def _summary_md(name, summary, path, full_max=6000) -> list[str]:
    """Markdown for one experiment's summary: a table (values complete or explicitly
    shortened), the complete JSON, collapsed, when short, and a link to the JSON file."""
    text = json.dumps(summary, indent=1, default=str)
    lines = [f"Summary (complete: [{os.path.basename(path)}]({os.path.basename(path)})):", ""]
    rows = _rows(summary) if isinstance(summary, dict) else [("value", _cell(summary))]
    if rows:
        lines += ["| quantity | value |", "|---|---|"]
        for key, cell in rows:
            key = key.replace("`", "'").replace("|", "\\|")
            lines.append(f"| `{key}` | " + cell.replace("|", "\\|").replace("\n", " ") + " |")
        lines.append("")
    if len(text) <= full_max:
        lines += [
            "<details><summary>summary as JSON</summary>",
            "",
            "```json",
            text,
            "```",
            "",
            "</details>",
            "",
        ]
    return lines


def _link(path) -> str:
    return f"[{os.path.basename(path)}]({os.path.basename(path)})" if path else "-"


def _meta(fast: bool, total_time: float) -> dict:
    meta = {
        "command": "jaxtls reproduce" + (" --fast" if fast else ""),
        "fast": fast,
        "total_wall_time_s": round(total_time, 2),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU",
    }
    try:
        import jax

        import jaxtls

        meta.update(jax=jax.__version__, jaxtls=jaxtls.__version__, device=str(jax.devices()[0]))
    except Exception:  # noqa: BLE001 - metadata only
        pass
    return meta


def write(results: list[dict], out: str, fast: bool, total_time: float) -> tuple[str, str]:
    """Write ``report.json``, ``report.md`` and every experiment's ``NAME_summary.json`` for
    ``results`` (the dicts returned by the experiments' ``run``) into ``out``; returns the paths
    of the first two."""
    os.makedirs(out, exist_ok=True)
    claims = [dict(c, experiment=r["name"]) for r in results for c in r["claims"]]
    counts = {
        "claims": len(claims),
        "agree": sum(c["agree"] is True for c in claims),
        "disagree": sum(c["agree"] is False for c in claims),
        "not_checked": sum(c["agree"] is None for c in claims),
    }
    meta = _meta(fast, total_time)
    doc = {
        "meta": meta,
        "counts": counts,
        "claims": claims,
        "experiments": [
            {
                k: r[k]
                for k in ("name", "summary", "figures", "data", "wall_time", "parameters")
                + ("discussion",) * ("discussion" in r)
            }
            for r in results
        ],
    }
    pj = os.path.join(out, "report.json")
    with open(pj, "w") as f:
        json.dump(_plain(doc), f, indent=1, default=str)

    lines = [
        "# Reproduction report: S. Camalet, *Non-equilibrium entangled steady state of two "
        "independent two-level systems*",
        "",
        f"`{meta['command']}`: {counts['claims']} claims, **{counts['agree']} agree, "
        f"{counts['disagree']} disagree**, {counts['not_checked']} not checked; "
        f"{total_time:.1f} s on {meta['machine']} "
        f"(jax {meta.get('jax', '?')}, {meta.get('device', '?')}), {meta['date']}.",
        "",
        "Units: hbar = k_B = 1, temperatures and energies in units of the splitting Delta. "
        "*paper*: the value or statement the paper gives; *computed*: ours; claims marked "
        '"derived here" or "our estimate" go beyond the paper. Data of each experiment: '
        "NAME.npz with its parameters in NAME.json.",
        "",
        "| # | experiment | claim | paper | computed | tolerance | verdict | figure |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for i, c in enumerate(claims, 1):
        cells = [
            str(i),
            c["experiment"],
            c["claim"],
            _fmt(c["quoted"]),
            _fmt(c["computed"]),
            str(c["tolerance"]),
            VERDICT[c["agree"]],
            _link(c.get("figure")),
        ]
        lines.append("| " + " | ".join(s.replace("|", "\\|") for s in cells) + " |")
    # explicit labels, one paragraph each (not a Markdown ordered list, which renumbers)
    lines += ["", "## Notes", "", "Numbered as the claims in the table above.", ""]
    for i, c in enumerate(claims, 1):
        if c.get("note"):
            lines += [f"**Note {i}** ({c['experiment']}). {c['note']}", ""]
    lines += ["", "## Experiments", ""]
    for r in results:
        figs = ", ".join(_link(p) for p in r["figures"])
        data = ", ".join(os.path.basename(p) for p in r["data"])
        lines += [
            f"### {r['name']} ({r['wall_time']:.1f} s)",
            "",
            f"Figures: {figs}  ",
            f"Data: {data}",
            "",
        ]
        if r.get("discussion"):
            lines += [r["discussion"], ""]
        png = [p for p in r["figures"] if p.endswith(".png")]
        if png:
            lines += [f"![{r['name']}]({os.path.basename(png[0])})", ""]
        side = os.path.join(out, f"{r['name']}_summary.json")
        with open(side, "w") as f:
            json.dump(_plain(r["summary"]), f, indent=1, default=str)
        lines += _summary_md(r["name"], _plain(r["summary"]), side)
    pm = os.path.join(out, "report.md")
    with open(pm, "w") as f:
        f.write("\n".join(lines) + "\n")
    return pm, pj
