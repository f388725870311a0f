// servmodels app: the page's script.  Everything it shows comes from the server's JSON and is put on
// the page as text (textContent), never as HTML; nothing is computed here.
"use strict";

const $ = (id) => document.getElementById(id);
const STRINGS = JSON.parse($("strings").textContent);
const CONFIG = JSON.parse($("config").textContent);
let lang = document.documentElement.lang in STRINGS ? document.documentElement.lang : "en";

const state = {
  upload: null,      // the server's reading of the file (columns, detection)
  inst: null,        // the instrument matched to the columns
  checked: false,    // the data passed the check with the current settings
  dropRows: [],      // rows the user chose to leave out
  problems: null,    // the last check's problems
  job: null,         // the running or finished analysis
  status: null,
  docs: {},          // report documents per language
  checkResult: null,
};

// ------------------------------------------------------------------ words
function t(key, args) {
  let text = (STRINGS[lang] && STRINGS[lang][key]) ?? STRINGS.en[key] ?? key;
  for (const [k, v] of Object.entries(args || {})) text = text.split("{" + k + "}").join(String(v));
  return text;
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") e.textContent = v;
    else if (k === "i18n") { e.dataset.i18n = v; e.textContent = t(v); }
    else if (k === "args") { e.dataset.args = JSON.stringify(v); }
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  if (e.dataset.args && e.dataset.i18n) e.textContent = t(e.dataset.i18n, JSON.parse(e.dataset.args));
  return e;
}

function applyLang() {
  document.documentElement.lang = lang;
  for (const e of document.querySelectorAll("[data-i18n]")) {
    e.textContent = t(e.dataset.i18n, e.dataset.args ? JSON.parse(e.dataset.args) : null);
  }
  for (const b of document.querySelectorAll("nav.lang button")) b.setAttribute("aria-pressed", String(b.dataset.lang === lang));
  const url = new URL(window.location.href);
  url.searchParams.set("lang", lang);
  window.history.replaceState(null, "", url);
  if (state.inst) renderMappingLabels();
  if (state.status && state.status.state === "done") { showResults(); setDownloads(); }
  else if (state.status) showProgress(state.status);
}

// ------------------------------------------------------------------ talking to the server
async function api(path, options) {
  let response;
  try {
    response = await fetch(path, options);
  } catch (err) {
    throw Object.assign(new Error(t("server_gone")), { body: {} });
  }
  let body = {};
  try { body = await response.json(); } catch (err) { body = { error: `${response.status} ${response.statusText}` }; }
  if (!response.ok) throw Object.assign(new Error(body.error || String(response.status)), { body, status: response.status });
  return body;
}

const post = (path, data) => api(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(data) });

function showError(id, err) {
  const box = $(id);
  box.hidden = !err;
  box.textContent = err ? `${t("error")}: ${err.message}` : "";
}

// ------------------------------------------------------------------ 1. the file
async function sendFile(file) {
  const form = new FormData();
  form.append("file", file);
  await loadUpload(() => api("/api/upload", { method: "POST", body: form }));
}

async function loadUpload(request) {
  $("file-status").textContent = t("uploading");
  showError("file-error", null);
  try {
    const info = await request();
    state.upload = info;
    state.dropRows = [];
    showUpload(info);
    $("instrument").value = info.detected.instrument;
    await loadInstrument(true);
  } catch (err) {
    showError("file-error", err);
  } finally {
    $("file-status").textContent = "";
  }
}

function showUpload(info) {
  $("file-info").hidden = false;
  const summary = $("file-summary");
  summary.dataset.i18n = "file_summary";
  summary.dataset.args = JSON.stringify({ name: info.name, rows: info.n_rows, cols: info.columns.length });
  summary.textContent = t("file_summary", JSON.parse(summary.dataset.args));
  $("sheet-row").hidden = !info.sheets || info.sheets.length < 2;
  const sheet = $("sheet");
  sheet.replaceChildren(...(info.sheets || []).map((s) => el("option", { value: s, text: s })));
  if (info.sheet) sheet.value = info.sheet;
  const preview = $("preview");
  preview.replaceChildren(
    el("thead", {}, el("tr", {}, ...info.columns.map((c) => el("th", { text: c })))),
    el("tbody", {}, ...info.preview.map((row) => el("tr", {}, ...row.map((v) => el("td", { text: v }))))));
  $("read-notes-box").hidden = info.notes.length === 0;
  $("read-notes").replaceChildren(...info.notes.map((n) => el("li", { text: n })));
  // column roles: every column is offered; the server's guesses are chosen
  const options = (selected) => [el("option", { value: "", i18n: "none_option" }),
    ...info.columns.map((c) => el("option", { value: c, text: c, selected: c === selected }))];
  $("outcome").replaceChildren(...options(info.detected.outcome));
  $("respondent-id").replaceChildren(...options(info.detected.respondent_id));
  state.groupChoice = new Set(info.detected.groups);
  $("groups").replaceChildren();
  $("step-columns").hidden = false;
}

// ------------------------------------------------------------------ 2. instrument and columns
function baseSettings() {
  const s = { instrument: $("instrument").value };
  if (s.instrument === "custom") {
    s.custom = $("custom").value;
    s.custom_sets = document.querySelector("input[name=custom-sets]:checked").value;
    const lo = $("scale-min").value, hi = $("scale-max").value;
    if (lo !== "" && hi !== "") s.scale = [lo, hi];
  }
  return s;
}

async function loadInstrument(fresh) {
  const custom = $("instrument").value === "custom";
  $("custom-box").hidden = !custom;
  const preset = CONFIG.presets.find((p) => p.name === $("instrument").value);
  $("instrument-desc").textContent = preset ? preset.description : "";
  showError("instrument-error", null);
  invalidate();
  try {
    const inst = await post("/api/instrument", { upload: state.upload.upload, settings: { ...baseSettings(), sheet: currentSheet() } });
    state.inst = inst;
    renderMapping(inst, fresh);
    $("mapping-area").hidden = false;
  } catch (err) {
    showError("instrument-error", err);
    $("mapping-area").hidden = true;
  }
  setDefaultAnalyses();
}

function currentSheet() {
  return $("sheet-row").hidden ? null : ($("sheet").value || null);
}

function renderMapping(inst, fresh) {
  const m = inst.match;
  const sets = $("sets");
  sets.replaceChildren(...inst.score_sets.map((s) => el("label", { class: "check" },
    el("input", { type: "checkbox", value: s, checked: m.present.length === 0 || m.present.includes(s) }),
    " ", setLabel(inst, s))));
  $("sets-row").hidden = inst.score_sets.length < 2;
  const found = $("found");
  found.dataset.i18n = "found";
  found.dataset.args = JSON.stringify({ found: m.found, total: m.total });
  found.textContent = t("found", { found: m.found, total: m.total });
  const columns = state.upload.columns;
  const table = $("mapping");
  const head = el("tr", {}, el("th", { i18n: "col_item" }), el("th", { i18n: "col_dimension", class: "dim" }),
    ...inst.score_sets.map((s) => el("th", {}, setLabel(inst, s))), el("th", { i18n: "reverse" }));
  const rows = m.sets[inst.score_sets[0]].items.map((row, k) => el("tr", {},
    el("td", { text: row.item }),
    el("td", { class: "dim", "data-dimension": row.dimension, text: (inst.labels[lang] || {})[row.dimension] || row.dimension }),
    ...inst.score_sets.map((s) => {
      const r = m.sets[s].items[k];
      const select = el("select", { "data-key": r.key, "data-set": s, "aria-label": `${s}${r.item}` },
        el("option", { value: "", i18n: "not_in_file" }),
        ...columns.map((c) => el("option", { value: c, text: c, selected: c === r.column })));
      return el("td", {}, select);
    }),
    el("td", { class: "c" }, el("input", { type: "checkbox", class: "reverse", value: row.item, "aria-label": `${t("reverse")} ${row.item}`,
      checked: inst.reverse.includes(row.item) }))));
  table.replaceChildren(el("thead", {}, head), el("tbody", {}, ...rows));
  $("mapping-box").open = m.found < m.total;
  renderGroups();
  if (fresh || $("instrument").value !== "custom") {
    // the instrument's scale, never widened to the answers found: an answer outside it is a problem to see
    $("scale-min").value = inst.scale[0];
    $("scale-max").value = inst.scale[1];
  }
  const seen = $("scale-seen");
  if (inst.seen) {
    seen.dataset.i18n = "scale_seen";
    seen.dataset.args = JSON.stringify({ lo: inst.seen[0], hi: inst.seen[1] });
    seen.textContent = t("scale_seen", { lo: inst.seen[0], hi: inst.seen[1] });
  } else { delete seen.dataset.i18n; seen.textContent = ""; }
}

function renderGroups() {
  // the columns that are not items: a group column is one of them
  const items = new Set();
  for (const s of Object.values(state.inst.match.sets)) for (const r of s.items) if (r.column) items.add(r.column);
  const current = document.querySelectorAll("#groups input");
  if (current.length) state.groupChoice = new Set([...current].filter((i) => i.checked).map((i) => i.value));
  $("groups").replaceChildren(...state.upload.columns.filter((c) => !items.has(c)).map((c) => el("label", { class: "check" },
    el("input", { type: "checkbox", value: c, checked: state.groupChoice.has(c) }), " ", c)));
}

function setLabel(inst, s) {
  const name = inst.set_names[s];
  return el("span", {}, `${s} (`, STRINGS.en[`col_${name}`] ? el("span", { i18n: `col_${name}` }) : name, ")");
}

function renderMappingLabels() {
  for (const td of document.querySelectorAll("#mapping td.dim")) {
    td.textContent = (state.inst.labels[lang] || {})[td.dataset.dimension] || td.dataset.dimension;
  }
}

function settings() {
  const s = baseSettings();
  const inst = state.inst;
  const m = inst.match;
  const sets = [...document.querySelectorAll("#sets input:checked")].map((i) => i.value);
  if (sets.length && sets.length !== inst.score_sets.length) s.score_sets = sets;
  const active = sets.length ? sets : inst.score_sets;
  if (m.column_template) s.column_template = m.column_template;
  s.column_map = {};
  for (const select of document.querySelectorAll("#mapping select")) {
    if (active.includes(select.dataset.set) && select.value && select.value !== select.dataset.key) {
      s.column_map[select.dataset.key] = select.value;
    }
  }
  s.scale = [$("scale-min").value, $("scale-max").value];
  s.reverse = [...document.querySelectorAll("#mapping input.reverse:checked")].map((i) => i.value);
  s.outcome = $("outcome").value || null;
  s.respondent_id = $("respondent-id").value || null;
  s.groups = [...document.querySelectorAll("#groups input:checked")].map((i) => i.value);
  s.nan_policy = document.querySelector("input[name=nan-policy]:checked").value;
  s.sheet = currentSheet();
  s.drop_rows = state.dropRows;
  s.analyses = [...document.querySelectorAll("#analyses input:checked")].map((i) => i.value);
  s.estimator = $("estimator").value;
  s.seed = $("seed").value || "0";
  s.n_resamples = $("n-resamples").value || null;
  s.title = $("title").value || null;
  return s;
}

function invalidate() {
  const was = state.checked || state.problems;
  state.checked = false;
  $("run").disabled = true;
  $("run-hint").dataset.i18n = was ? "stale" : "run_first";
  $("run-hint").textContent = t($("run-hint").dataset.i18n);
  if (was) {
    $("check-result").replaceChildren(el("p", { class: "help", i18n: "stale" }));
  }
}

async function checkData() {
  $("check-result").replaceChildren(el("p", { class: "status", i18n: "checking" }));
  $("problems-box").hidden = true;
  state.problems = null;
  try {
    const result = await post("/api/validate", { upload: state.upload.upload, settings: settings() });
    state.checked = true;
    state.checkResult = result;
    const box = [el("p", { class: "ok", i18n: "valid", args: { used: result.n_respondents, dropped: result.n_dropped } })];
    if (result.warnings.length) {
      box.push(el("h3", { i18n: "warnings" }), el("ul", { class: "warnings" }, ...result.warnings.map((w) => el("li", { text: w }))));
    }
    $("check-result").replaceChildren(...box);
    $("run").disabled = false;
    $("run-hint").textContent = "";
    delete $("run-hint").dataset.i18n;
    $("step-analyses").hidden = false;
  } catch (err) {
    $("check-result").replaceChildren();
    if (err.body && err.body.problems) showProblems(err.message, err.body.problems, err.body.droppable);
    else $("check-result").replaceChildren(el("p", { class: "error", text: `${t("error")}: ${err.message}` }));
  }
  showLeftOut();
}

function showProblems(message, problems, droppable) {
  state.problems = problems;
  $("problems-box").hidden = false;
  $("problems-message").textContent = message;
  $("problems").replaceChildren(
    el("thead", {}, el("tr", {}, el("th", { i18n: "col_column" }), el("th", { i18n: "col_rows" }), el("th", { i18n: "col_problem" }))),
    el("tbody", {}, ...problems.map((p) => el("tr", {},
      el("td", { text: p.column ?? "—" }),
      el("td", { text: p.rows.join(", ") + (p.n_rows > p.rows.length ? ` … (${p.n_rows})` : "") }),
      el("td", { text: p.detail || p.message })))));
  const rows = [...new Set(problems.flatMap((p) => p.rows))].sort((a, b) => a - b);
  const button = $("drop-rows");
  button.hidden = !droppable;
  $("cannot-drop").hidden = droppable;
  if (droppable) {
    button.dataset.i18n = "drop_rows";
    button.dataset.args = JSON.stringify({ rows: rows.join(", ") });
    button.textContent = t("drop_rows", { rows: rows.join(", ") });
    button.onclick = () => { state.dropRows = [...new Set([...state.dropRows, ...rows])].sort((a, b) => a - b); checkData(); };
  }
}

function showLeftOut() {
  const p = $("left-out");
  p.hidden = state.dropRows.length === 0;
  const text = $("left-out-text");
  text.dataset.i18n = "dropped_rows";
  text.dataset.args = JSON.stringify({ rows: state.dropRows.join(", ") });
  text.textContent = t("dropped_rows", { rows: state.dropRows.join(", ") });
}

// ------------------------------------------------------------------ 3. analyses
function renderAnalyses() {
  const box = $("analyses");
  const items = [...CONFIG.analyses, ...CONFIG.optional].map((a) => el("label", { class: "check" },
    el("input", { type: "checkbox", value: a, checked: CONFIG.analyses.includes(a) }), " ",
    el("span", { i18n: `an_${a}` }), a === "invariance" ? " — " : null,
    a === "invariance" ? el("span", { class: "help", i18n: "invariance_help" }) : null));
  box.replaceChildren(...items);
}

function setDefaultAnalyses() {
  if (!state.inst) return;
  const once = state.inst.score_sets.length === 1;
  for (const input of document.querySelectorAll("#analyses input")) {
    if (input.value === "ikm") input.checked = state.inst.name === "ikm9";
    if (["bootstrap", "compare", "ipa"].includes(input.value)) input.checked = !once;
  }
}

// ------------------------------------------------------------------ 4. running and results
async function runAnalyses() {
  if (!state.checked) return;
  $("run").disabled = true;
  $("step-results").hidden = false;
  $("step-download").hidden = true;
  $("results").replaceChildren();
  showError("run-error", null);
  state.docs = {};
  state.status = { state: "queued", phase: "queued", done: 0, total: 1 };
  showProgress(state.status);
  try {
    const started = await post("/api/run", { upload: state.upload.upload, settings: settings() });
    state.job = started.job;
    await poll();
  } catch (err) {
    showError("run-error", err);
  } finally {
    $("run").disabled = !state.checked;
  }
}

async function poll() {
  for (;;) {
    const status = await api(`/api/jobs/${state.job}`);
    state.status = status;
    showProgress(status);
    if (status.state === "done") { await showResults(); setDownloads(); return; }
    if (status.state === "error") {
      showError("run-error", new Error(status.error));
      if (status.problems) showProblems(status.error, status.problems, false);
      return;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

function phaseName(phase) {
  if (["reading", "rendering", "queued"].includes(phase)) return t(phase);
  return t(`an_${phase}`);
}

function showProgress(status) {
  const bar = $("progress");
  bar.max = status.total || 1;
  bar.value = status.done || 0;
  const text = $("progress-text");
  if (status.state === "done") {
    text.dataset.i18n = "done";
    text.dataset.args = JSON.stringify({ seconds: status.seconds });
    text.textContent = t("done", { seconds: status.seconds });
  } else if (status.state !== "error") {
    delete text.dataset.i18n;
    text.textContent = t("running", { step: phaseName(status.phase), done: status.done, total: status.total });
  } else {
    text.textContent = "";
  }
  $("progress-box").dataset.state = status.state;
}

async function showResults() {
  if (!state.docs[lang]) state.docs[lang] = await api(`/api/jobs/${state.job}/document?lang=${lang}`);
  const doc = state.docs[lang];
  const out = [];
  out.push(el("dl", { class: "provenance" }, ...doc.provenance.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })])));
  for (const s of doc.sections) {
    const part = el("section", { class: "result", id: `result-${s.key}` }, el("h3", { text: s.title }));
    for (const tab of s.tables) {
      const table = el("table", {},
        el("thead", {}, el("tr", {}, ...tab.headers.map((h, k) => el("th", { class: tab.align[k], text: h })))),
        el("tbody", {}, ...tab.rows.map((row) => el("tr", {}, ...row.map((c, k) => el("td", { class: tab.align[k], text: c }))))));
      part.append(el("figure", { class: "table", "data-key": tab.key },
        el("figcaption", {}, el("span", { class: "number", text: `${t("table")} ${tab.number}` }),
          el("span", { class: "title", text: tab.title })),
        el("div", { class: "table-wrap" }, table),
        tab.note ? el("p", { class: "note" }, el("em", { text: `${t("note")}.` }), ` ${tab.note}`) : null));
    }
    for (const p of s.paragraphs) part.append(el("p", { text: p }));
    if (s.warnings.length) part.append(el("ul", { class: "warnings" }, ...s.warnings.map((w) => el("li", { text: w }))));
    out.push(part);
  }
  if (doc.figures.length) {
    out.push(el("h3", { text: t("figures") }));
    doc.figures.forEach((f, k) => out.push(el("figure", { class: "figure", "data-name": f.name },
      el("figcaption", {}, el("span", { class: "number", text: `${t("figure")} ${k + 1}` }), el("span", { class: "title", text: f.caption })),
      el("img", { src: f.src, alt: f.caption }))));
  }
  if (doc.sentences.length) out.push(el("h3", { text: t("sentences") }), el("ul", { class: "sentences" }, ...doc.sentences.map((x) => el("li", { text: x }))));
  if (doc.skipped.length) {
    out.push(el("h3", { text: t("skipped") }), el("ul", { class: "skipped" },
      ...doc.skipped.map(([name, why]) => el("li", {}, el("strong", { text: name }), `: ${why}`))));
  }
  $("results").replaceChildren(...out);
}

function setDownloads() {
  const status = state.status;
  for (const a of document.querySelectorAll("#downloads a")) {
    a.href = `/api/jobs/${state.job}/download/${a.dataset.what}?lang=${lang}`;
  }
  $("cli").textContent = status.command;
  $("python").textContent = status.python;
  const help = $("cli-help");
  help.dataset.i18n = "cli_help";
  help.dataset.args = JSON.stringify({ file: status.shown_file, out: status.out });
  help.textContent = t("cli_help", { file: status.shown_file, out: status.out });
  $("step-download").hidden = false;
}

// ------------------------------------------------------------------ wiring
function init() {
  renderAnalyses();
  for (const b of document.querySelectorAll("nav.lang button")) {
    b.addEventListener("click", () => { lang = b.dataset.lang; applyLang(); });
  }
  $("file").addEventListener("change", (e) => { if (e.target.files.length) sendFile(e.target.files[0]); });
  $("use-example").addEventListener("click", () => { $("file").value = ""; loadUpload(() => post("/api/example", {})); });
  $("sheet").addEventListener("change", () => loadUpload(() => post("/api/inspect", { upload: state.upload.upload, sheet: $("sheet").value })));
  $("instrument").addEventListener("change", () => loadInstrument(true));
  $("custom-apply").addEventListener("click", () => loadInstrument(false));
  $("step-columns").addEventListener("change", (e) => { if (!e.target.closest("#custom-box")) invalidate(); });
  $("check").addEventListener("click", checkData);
  $("undo-drop").addEventListener("click", () => { state.dropRows = []; checkData(); });
  $("run").addEventListener("click", runAnalyses);
  for (const b of document.querySelectorAll("button.copy")) {
    b.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText($(b.dataset.copy).textContent);
        b.textContent = t("copied");
        setTimeout(() => { b.textContent = t("copy"); }, 1500);
      } catch (err) { /* the text can still be selected by hand */ }
    });
  }
  applyLang();
}

document.addEventListener("DOMContentLoaded", init);
