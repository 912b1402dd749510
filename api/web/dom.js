// Building the page's elements. Every value from data becomes text (text nodes, attributes):
// nothing here parses markup.
export const $ = (id) => document.getElementById(id);
export const SVG = "http://www.w3.org/2000/svg";

// An element with attributes and children (strings become text nodes, never markup; null and
// undefined children are skipped). "svg:rect" makes an SVG element.
export function el(tag, attrs, ...children) {
  const node = tag.startsWith("svg:")
    ? document.createElementNS(SVG, tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function money(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return "";
  if (Math.abs(x) < 0.5) return "0";
  const a = Math.abs(x);
  if (a >= 1e9) return (x / 1e9).toFixed(2) + "B";
  if (a >= 1e6) return (x / 1e6).toFixed(2) + "M";
  if (a >= 1e3) return (x / 1e3).toFixed(2) + "k";
  return x.toFixed(0);
}

export function signedMoney(x) {
  return (x > 0.5 ? "+" : "") + money(x);
}

export function percent(x, digits = 0) {
  return x === null || x === undefined ? "" : (100 * x).toFixed(digits) + "%";
}

// "5%" -> 0.05, "0.05" -> 0.05, "" -> null.
export function share(text) {
  const t = String(text).trim();
  if (t === "") return null;
  const v = t.endsWith("%") ? Number(t.slice(0, -1)) / 100 : Number(t);
  if (!Number.isFinite(v)) throw new Error(`not a number or a percentage: ${t}`);
  return v;
}

// A share as the page writes it: 0.25 -> "25%".
export function shareText(v) {
  if (v === null || v === undefined) return "";
  return `${+(100 * v).toFixed(6)}%`;
}

export function when(iso) {
  if (!iso) return "";
  return iso.replace("T", " ").slice(0, 16) + " UTC";
}

export function show(node, on) {
  node.hidden = !on;
}

// A table's head and body from columns [[key, title]] and rows of cells (a cell: text or a
// Node; a row: {cells, attrs}).
// Whether a cell holds an amount (aligned right) or words (aligned left).
const AMOUNT = /^[+-]?[0-9][0-9.,]*[kMB%]?( -> [0-9][0-9.,]*[kMB%]?)?$/;
function cell(c) {
  const t = c instanceof Node ? c.textContent : String(c);
  return el("td", { class: AMOUNT.test(t.trim()) ? "num" : "text" }, c);
}

export function fillTable(table, columns, rows, foot) {
  const body = rows.map((r) => el("tr", r.attrs || {}, r.cells.map(cell)));
  const kind = (i) => (body.length && body[0].children[i] ? body[0].children[i].className : "num");
  table.tHead.replaceChildren(el("tr", {}, columns.map(([k, t], i) => el("th", { "data-key": k, class: kind(i) }, t))));
  table.tBodies[0].replaceChildren(...body);
  if (table.tFoot) table.tFoot.replaceChildren(...(foot || []).map((r) => el("tr", r.attrs || {}, r.cells.map(cell))));
}
