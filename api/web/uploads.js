// The planner's tables in: history, roster or a forecast table, as CSV, Excel (.xlsx) or
// Parquet files (the server tells them apart by their content), or the bundled sample; the
// forecast made once from them (a job with progress) and stored, so plans reuse it by id.
import { job, request } from "./api.js";
import { $ } from "./dom.js";
import { clearErrors, showProblem } from "./forms.js";

export const files = { history: null, roster: null, forecast: null };
export let forecastId = null;
export let forecastPeriods = [];  // the quarters of the stored forecast (what a lock can name)

export function setForecastId(id) {
  forecastId = id;
  $("forecast-status").textContent = id ? `Plans reuse the stored forecast #${id} (nothing is fitted again).` : "";
}

export function watchFiles(onChange) {
  for (const [name, input] of [["history", "history"], ["roster", "roster"], ["forecast", "forecast-file"]]) {
    $(input).addEventListener("change", (ev) => {
      files[name] = ev.target.files[0] || null;
      if (name !== "roster") setForecastId(null);  // a new history or forecast: forecast again
      $("data-status").textContent = "";
      onChange();
    });
  }
}

export async function useSample() {
  clearErrors($("data-fields"));
  for (const name of ["history", "roster"]) {
    const r = await request("GET", `v1/sample/${name}.csv`, { blob: true });
    if (!r.ok) { showProblem(r.body, name); return false; }
    files[name] = new File([r.body], `${name}.csv`, { type: "text/csv" });
  }
  files.forecast = null;
  for (const id of ["history", "roster", "forecast-file"]) $(id).value = "";
  setForecastId(null);
  $("data-status").textContent = "bundled sample loaded (46 active reps, history 2022-2025)";
  return true;
}

// Fit the forecast from the history and roster (once) and store it: a job whose progress the
// page shows. True when there is a stored forecast to plan from.
export async function makeForecast(progress) {
  clearErrors($("data-fields"));
  if (!files.history || !files.roster) {
    if (!files.history) showProblem({ detail: "choose a history file, or use the bundled sample" }, "history");
    if (!files.roster) showProblem({ detail: "choose a roster file, or use the bundled sample" }, "roster");
    return false;
  }
  const form = new FormData();
  form.append("history", files.history, files.history.name);
  form.append("roster", files.roster, files.roster.name);
  $("make-forecast").disabled = true;
  try {
    const r = await job("POST", "v1/forecasts", { form }, progress);
    if (!r.ok) { showProblem(r.body, "history"); return false; }
    setForecastId(r.body.id);
    forecastPeriods = [...new Set(r.body.rows.map((x) => x.period))].sort();
    const reps = new Set(r.body.rows.map((x) => x.rep_id)).size;
    const warn = r.body.warnings.length ? ` Warnings: ${r.body.warnings.join("; ")}` : "";
    $("data-status").textContent = `forecast #${r.body.id}: ${reps} reps, ${r.body.rows.length} rep-quarters.${warn}`;
    return true;
  } finally {
    progress(null);
    $("make-forecast").disabled = false;
  }
}
