"""The class report: ``class.csv`` (one row per student), ``class.json`` and ``class.html``.

The CSV holds only what grading decides (scores, status, notes), never times or paths, so the
same class gives byte-identical CSVs in every mode. The HTML page is self-contained (inline
CSS and SVG, nothing fetched): a histogram of total scores, each exercise's pass rate as a bar,
and the most common failure message of each exercise.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from verlings.batch.intake import GRADED

FIRST_LINE_CHARS = 160


def _total(row: dict) -> float:
    return sum(e["score"] for e in row["exercises"].values())


def _fmt(x: float) -> str:
    return f"{x:g}"


def render_csv(rows: list[dict], columns: list[dict]) -> str:
    max_total = sum(c["points"] for c in columns)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["student", *(c["id"] for c in columns), "total", "max", "status", "notes"])
    for r in rows:
        cells = [_fmt(r["exercises"].get(c["id"], {}).get("score", 0.0)) for c in columns]
        w.writerow([r["student"], *cells, _fmt(_total(r)), max_total, r["status"], "; ".join(r["notes"])])
    return buf.getvalue()


def summary(rows: list[dict], columns: list[dict]) -> list[dict]:
    """Per exercise: how many graded students passed it and the most common failure message."""
    out = []
    graded = [r for r in rows if r["status"] == GRADED]
    for c in columns:
        results = [r["exercises"][c["id"]] for r in graded if c["id"] in r["exercises"]]
        passed = sum(e["status"] == "passed" for e in results)
        failures = Counter(first_line(e["message"]) or e["status"] for e in results if e["status"] != "passed")
        common, count = failures.most_common(1)[0] if failures else ("", 0)
        out.append({**c, "students": len(results), "passed": passed,
                    "pass_rate": passed / len(results) if results else 0.0,
                    "common_failure": common, "common_failure_count": count})
    return out


def first_line(message: str) -> str:
    line = next((x.strip() for x in message.splitlines() if x.strip()), "")
    return line if len(line) <= FIRST_LINE_CHARS else line[: FIRST_LINE_CHARS - 1] + "…"


def render_json(rows: list[dict], columns: list[dict], meta: dict) -> str:
    max_total = sum(c["points"] for c in columns)
    students = [{**{k: v for k, v in r.items() if k != "log"}, "total": _total(r), "max": max_total}
                for r in rows]
    return json.dumps({**meta, "max": max_total, "exercises": summary(rows, columns), "students": students},
                      indent=1, ensure_ascii=False)


def histogram(totals: list[float], max_total: float, bins: int = 10) -> list[int]:
    """Counts of totals in ``bins`` equal slices of [0, max]; a full score lands in the last one."""
    counts = [0] * bins
    for t in totals:
        i = int(bins * t / max_total) if max_total else 0
        counts[min(max(i, 0), bins - 1)] += 1
    return counts


def _svg_histogram(counts: list[int], max_total: float) -> str:
    w, h, pad = 640, 240, 34
    top = max(counts) or 1
    bw = (w - 2 * pad) / len(counts)
    parts = [f'<svg id="histogram" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
             f'role="img" aria-label="score histogram">']
    parts.append(f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#444"/>')
    for i, n in enumerate(counts):
        bh = (h - 2 * pad) * n / top
        x, y = pad + i * bw, h - pad - bh
        lo, hi = max_total * i / len(counts), max_total * (i + 1) / len(counts)
        parts.append(f'<rect class="bin" x="{x + 2:.1f}" y="{y:.1f}" width="{bw - 4:.1f}" height="{bh:.1f}" '
                     f'fill="#3b7dd8"><title>{lo:g}–{hi:g} points: {n} student(s)</title></rect>')
        if n:
            parts.append(f'<text x="{x + bw / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
                         f'font-size="12">{n}</text>')
        parts.append(f'<text x="{x + bw / 2:.1f}" y="{h - pad + 14}" text-anchor="middle" '
                     f'font-size="10">{lo:.0f}–{hi:.0f}</text>')
    parts.append(f'<text x="{w / 2}" y="{h - 4}" text-anchor="middle" font-size="12">total points '
                 f'(of {max_total:g})</text></svg>')
    return "".join(parts)


def _svg_pass_rates(stats: list[dict]) -> str:
    row_h, label_w, bar_w = 20, 230, 380
    h = row_h * len(stats) + 10
    parts = [f'<svg id="pass-rates" xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 60}" '
             f'height="{h}" role="img" aria-label="pass rate per exercise">']
    for i, s in enumerate(stats):
        y = 5 + i * row_h
        rate = s["pass_rate"]
        colour = "#2e9d4f" if rate >= 0.75 else "#d89a1e" if rate >= 0.4 else "#c8412f"
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" font-size="12">'
                     f'{html.escape(s["id"])}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="{row_h - 6}" fill="#eee"/>')
        parts.append(f'<rect class="rate" x="{label_w}" y="{y + 3}" width="{bar_w * rate:.1f}" '
                     f'height="{row_h - 6}" fill="{colour}"><title>{html.escape(s["id"])}: {s["passed"]} of '
                     f'{s["students"]} passed</title></rect>')
        parts.append(f'<text x="{label_w + bar_w + 6}" y="{y + 14}" font-size="12">{rate:.0%}</text>')
    parts.append("</svg>")
    return "".join(parts)


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans","Noto Sans CJK SC",sans-serif;margin:24px;
color:#222;max-width:1100px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#666;font-size:13px}table{border-collapse:collapse;font-size:13px;width:100%}
th,td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
.graded{color:#2e7d32}.crashed,.rejected{color:#c62828}.empty{color:#8d6e00}
code{font-size:12px;white-space:pre-wrap;word-break:break-word}
"""


def render_html(rows: list[dict], columns: list[dict], meta: dict) -> str:
    max_total = sum(c["points"] for c in columns)
    stats = summary(rows, columns)
    graded = [r for r in rows if r["status"] == GRADED]
    counts = histogram([_total(r) for r in rows], max_total)
    esc = html.escape
    statuses = Counter(r["status"] for r in rows)
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = ["<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
           f"<title>verlings class report — {len(rows)} students</title><style>{CSS}</style></head><body>",
           "<h1>verlings class report</h1>",
           f'<p class="meta">{len(rows)} students ({", ".join(f"{n} {k}" for k, n in sorted(statuses.items()))}); '
           f'chapters {esc(", ".join(meta.get("chapters", [])))}; {max_total} points; made {made}</p>',
           "<h2>Score histogram</h2>", _svg_histogram(counts, max_total),
           f"<h2>Pass rate per exercise</h2><p class=\"meta\">of the {len(graded)} graded students</p>",
           _svg_pass_rates(stats),
           "<h2>Most common failure per exercise</h2>",
           '<table id="failures"><tr><th>exercise</th><th>passed</th><th>most common failure</th>'
           "<th>students with it</th></tr>"]
    for s in stats:
        failure = f"<code>{esc(s['common_failure'])}</code>" if s["common_failure"] else "—"
        count = f"{s['common_failure_count']}" if s["common_failure"] else ""
        out.append(f"<tr><td>{esc(s['id'])}<br><span class=\"meta\">{esc(s['title'])}</span></td>"
                   f"<td class=\"num\">{s['passed']}/{s['students']}</td><td>{failure}</td>"
                   f"<td class=\"num\">{count}</td></tr>")
    out.append('</table><h2>Students</h2><table id="students"><tr><th>student</th><th>total</th>'
               "<th>status</th><th>notes</th></tr>")
    for r in rows:
        out.append(f"<tr><td>{esc(r['student'])}</td><td class=\"num\">{_fmt(_total(r))}/{max_total}</td>"
                   f"<td class=\"{esc(r['status'])}\">{esc(r['status'])}</td>"
                   f"<td>{esc('; '.join(r['notes']))}</td></tr>")
    out.append("</table></body></html>\n")
    return "".join(out)


def write_reports(csv_path: Path, rows: list[dict], columns: list[dict], meta: dict) -> list[Path]:
    """Write ``class.csv`` and, next to it, ``class.json`` and ``class.html``; returns the paths."""
    csv_path = Path(csv_path)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    json_path, html_path = csv_path.with_suffix(".json"), csv_path.with_suffix(".html")
    csv_path.write_text(render_csv(rows, columns), encoding="utf-8")
    json_path.write_text(render_json(rows, columns, meta) + "\n", encoding="utf-8")
    html_path.write_text(render_html(rows, columns, meta), encoding="utf-8")
    return [csv_path, json_path, html_path]
