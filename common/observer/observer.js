// The observer's page: keeps a copy of what the server shows (the tree's nodes, the table's
// rows, one process's details, the system's samples) and redraws it from the updates the
// WebSocket pushes. Everything the page asks for goes back on the same socket.
"use strict";

const $ = (sel) => document.querySelector(sel);
const nodes = new Map();     // pid -> node as last sent
let roots = [];
const seen = new Set();      // pids shown before: a pid not in it is new (a restart, say)
const freshUntil = new Map();
const autoOpened = new Set();
let firstTree = true;
let selected = "";
let sort = {column: "pid", descending: false};
let lastMailbox = new Map();
const samples = [];          // {t, processes, messages_per_second, run_queue, memory}
const keepSeconds = 300;
let ws;
let shownDetail = null;      // the details drawn last: what a kill would end

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function ask(request) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(request));
}

function isSupervisor(n) {
  return /Supervisor$/.test(n.behaviour);
}

function kindText(n) {
  return n.module ? `${n.behaviour} ${n.module}` : n.behaviour;
}

// ---- Applications: the tree -------------------------------------------------------------
function applyTree(tree) {
  if (tree.roots) roots = tree.roots;
  for (const pid of tree.removed || []) nodes.delete(pid);
  const now = Date.now();
  // New in a branch that was open already: started (or restarted) while the page watched.
  const wasOpen = new Set([...nodes.values()].filter((n) => n.open).map((n) => n.pid));
  for (const n of tree.set || []) {
    if (!seen.has(n.pid)) {
      if (!firstTree && wasOpen.has(n.parent)) freshUntil.set(n.pid, now + 5000);
      seen.add(n.pid);
    }
    nodes.set(n.pid, n);
  }
  firstTree = false;
  // Open each branch once when it is first seen: the top two levels always, a deeper one
  // when it is small (a session's supervisor), so a small tree shows whole and a big one stays
  // paged. A branch the reader closed stays closed. All of them in one message: the server
  // takes a page's messages at a bounded rate, and fifty sessions shown are fifty branches.
  const opening = [];
  const open = (pid, depth) => {
    const n = nodes.get(pid);
    if (!n) return;
    const small = n.children <= 10 && depth < 8;
    if ((depth < 2 || small) && n.children > 0 && !n.open && !autoOpened.has(pid)) {
      opening.push(pid);
    }
    if (n.children > 0) autoOpened.add(pid);  // decided once it has children
    if (n.open) for (const c of n.shown) open(c, depth + 1);
  };
  for (const r of roots) open(r, 0);
  if (opening.length > 0) ask({op: "expand", pids: opening});
  drawTree();
}

function nodeItem(pid) {
  const n = nodes.get(pid);
  if (!n) return null;
  const toggle = el("span", {class: "toggle"}, n.children > 0 ? (n.open ? "▾" : "▸") : "");
  toggle.addEventListener("click", (e) => {
    e.stopPropagation();
    ask({op: n.open ? "collapse" : "expand", pid});
  });
  const classes = ["row"];
  if (pid === selected) classes.push("selected");
  if ((freshUntil.get(pid) || 0) > Date.now()) classes.push("fresh");
  const row = el("span", {class: classes.join(" "), "data-pid": pid, onclick: () => select(pid)},
    toggle, el("span", {class: "pid"}, pid),
    n.name ? el("span", {class: "name"}, n.name) : null,
    el("span", {class: "kind" + (isSupervisor(n) ? " supervisor" : "")}, kindText(n)),
    el("span", {class: "status " + n.status}, n.status),
    n.hint ? el("span", {class: "hint"}, `state: ${n.hint}`) : null,
    n.children > 0 && !n.open
      ? el("span", {class: "hint"}, `${n.children} ${n.children === 1 ? "child" : "children"}`)
      : null);
  const li = el("li", {class: "node", "data-pid": pid}, row);
  if (n.open) {
    const ul = el("ul");
    for (const c of n.shown) {
      const item = nodeItem(c);
      if (item) ul.append(item);
    }
    if (n.shown.length < n.children) {
      ul.append(el("li", {}, el("button", {class: "more", onclick: () => ask({op: "more", pid})},
        `show more (${n.shown.length} of ${n.children})`)));
    }
    li.append(ul);
  }
  return li;
}

function drawTree() {
  const tree = $("#tree");
  const items = roots.map(nodeItem).filter((x) => x);
  tree.replaceChildren(...items);
}

// ---- Processes: the table ---------------------------------------------------------------
function askTable() {
  ask({op: "table", sort: sort.column, descending: sort.descending, filter: $("#filter").value, limit: 200});
}

function drawTable(table) {
  const body = $("#proc-table tbody");
  const rows = table.rows.map((p) => {
    const before = lastMailbox.get(p.pid);
    const warn = p.mailbox >= 100 || (before !== undefined && p.mailbox > before && p.mailbox >= 5);
    return el("tr", {"data-pid": p.pid, onclick: () => select(p.pid)},
      el("td", {}, p.pid), el("td", {}, p.name || "—"), el("td", {}, kindText(p)),
      el("td", {class: "status " + p.status}, p.status),
      el("td", {class: "num" + (warn ? " warn" : "")}, String(p.mailbox)),
      el("td", {class: "num"}, String(p.handled)),
      el("td", {class: "num"}, bytes(p.memory)));
  });
  lastMailbox = new Map(table.rows.map((p) => [p.pid, p.mailbox]));
  body.replaceChildren(...rows);
  $("#table-count").textContent = table.rows.length < table.total
    ? `the first ${table.rows.length} of ${table.total}` : `${table.total} processes`;
  for (const th of document.querySelectorAll("#proc-table th")) {
    th.classList.toggle("sorted", th.dataset.sort === sort.column);
    th.classList.toggle("asc", th.dataset.sort === sort.column && !sort.descending);
  }
}

// ---- Details ------------------------------------------------------------------------------
function select(pid) {
  selected = pid;
  $("#action-result").textContent = "";
  hideConfirm();
  ask({op: "select", pid});
  drawTree();
}

function pidLinks(list) {
  if (!list || list.length === 0) return "—";
  const span = el("span");
  for (const pid of list) span.append(el("span", {class: "pidlink", onclick: () => select(pid)}, pid));
  return span;
}

// What a kill of the process in `d` ends besides it, said before the kill is sent.
function killConsequence(d) {
  const under = d.descendants || 0;
  const said = [];
  if (under > 0 && isSupervisor(d)) {
    said.push(`It is a ${d.behaviour}: the ${under} process${under === 1 ? "" : "es"} under it end with it.`);
  } else if (under > 0) {
    said.push(`The ${under} process${under === 1 ? "" : "es"} under it end with it if linked to it.`);
  }
  said.push(d.root
    ? "It is the top of its tree: nothing restarts it, and its application stops."
    : "Its supervisor, if it has one, may start it again under a new pid.");
  return said.join(" ");
}

function hideConfirm() {
  const box = $("#confirm-kill");
  if (box) box.classList.add("hidden");
}

function drawDetail(d) {
  const panel = $("#detail");
  shownDetail = d;
  const kill = $("#kill");
  if (!d) {
    if (selected) {
      // Gone: what is shown is its last state; nothing is left to kill.
      $("#detail-title").textContent = `${selected} (not alive)`;
      const status = document.querySelector('#detail-fields [data-field="status"]');
      if (status) status.textContent = "exited";
      if (kill) kill.disabled = true;
    } else {
      panel.classList.add("hidden");
    }
    return;
  }
  if (kill) kill.disabled = false;
  panel.classList.remove("hidden");
  $("#detail-title").textContent = d.name ? `${d.name} ${d.pid}` : d.pid;
  const fields = [
    ["pid", d.pid], ["behaviour", kindText(d)], ["status", d.status],
    ["parent", d.parent ? pidLinks([d.parent]) : "—"], ["trap_exit", String(d.trap_exit)],
    ["mailbox", String(d.mailbox)], ["handled", String(d.handled)], ["memory", bytes(d.memory)],
    ["links", pidLinks(d.links)], ["monitors", pidLinks(d.monitors)],
    ["monitored by", pidLinks(d.monitored_by)],
  ];
  const dl = $("#detail-fields");
  dl.replaceChildren();
  for (const [k, v] of fields) dl.append(el("dt", {}, k), el("dd", {"data-field": k}, v));
  $("#detail-state").textContent = d.state || "—";
}

// ---- System: the charts -------------------------------------------------------------------
const charts = [
  {key: "processes", title: "Processes", format: (v) => String(Math.round(v))},
  {key: "messages_per_second", title: "Messages per second", format: (v) => v.toFixed(0)},
  {key: "run_queue", title: "Run queue (running processes)", format: (v) => String(Math.round(v))},
  {key: "memory", title: "Memory (resident)", format: bytes},
];

function bytes(n) {
  if (n >= 1 << 30) return (n / (1 << 30)).toFixed(1) + " GiB";
  if (n >= 1 << 20) return (n / (1 << 20)).toFixed(1) + " MiB";
  if (n >= 1 << 10) return (n / (1 << 10)).toFixed(1) + " KiB";
  return n + " B";
}

function drawCharts() {
  const box = $("#charts");
  if (box.children.length === 0) {
    for (const c of charts) {
      box.append(el("div", {class: "chart", "data-chart": c.key},
        el("h4", {}, c.title, el("span")), svg("svg", {viewBox: "0 0 400 140"})));
    }
  }
  if (!$("#page-system").classList.contains("active") || samples.length === 0) return;
  const t1 = samples[samples.length - 1].t, t0 = t1 - keepSeconds;
  for (const c of charts) {
    const card = box.querySelector(`[data-chart="${c.key}"]`);
    const values = samples.map((s) => s[c.key]);
    const top = Math.max(1, ...values) * 1.15;
    const x = (t) => 30 + (370 * (t - t0)) / keepSeconds;
    const y = (v) => 125 - (115 * v) / top;
    const pts = samples.map((s) => `${x(s.t).toFixed(1)},${y(s[c.key]).toFixed(1)}`);
    const g = card.querySelector("svg");
    g.replaceChildren(
      svg("line", {class: "grid", x1: 30, x2: 400, y1: 125, y2: 125}),
      svg("line", {class: "grid", x1: 30, x2: 400, y1: 10, y2: 10}),
      svg("text", {x: 0, y: 14}, c.format(top)), svg("text", {x: 0, y: 128}, "0"),
      svg("text", {x: 30, y: 138}, "-5 min"), svg("text", {x: 375, y: 138}, "now"),
      svg("polygon", {class: "area", points: `${x(samples[0].t)},125 ${pts.join(" ")} ${x(t1)},125`}),
      svg("polyline", {class: "line", points: pts.join(" ")}));
    card.querySelector("h4 span").textContent = c.format(values[values.length - 1]);
  }
}

function svg(tag, attrs, text) {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// ---- Tables -------------------------------------------------------------------------------
function drawTables(tables) {
  const rows = tables.map((t) => el("tr", {},
    el("td", {}, t.name || "—"), el("td", {}, t.type), el("td", {}, t.access),
    el("td", {}, pidLinks([t.owner])), el("td", {class: "num"}, String(t.size)),
    el("td", {}, t.access === "private" ? el("span", {class: "hint"}, "private")
      : el("pre", {class: "rows"}, t.rows.join("\n") + (t.size > t.rows.length ? "\n…" : "")))));
  if (rows.length === 0) rows.push(el("tr", {}, el("td", {colspan: 6, class: "hint"}, "no tables")));
  $("#tables tbody").replaceChildren(...rows);
}

// ---- The socket ---------------------------------------------------------------------------
let scrollToSelected = false;

function onMessage(event) {
  const m = JSON.parse(event.data);
  if ("found" in m) {
    $("#search-result").textContent = m.found ? `found ${m.found}` : "no such process";
    if (m.found) {
      selected = m.found;
      scrollToSelected = true;
      drawTree();
    }
  }
  if (m.tree) applyTree(m.tree);
  if (m.table) drawTable(m.table);
  if ("detail" in m) drawDetail(m.detail);
  if (m.tables) drawTables(m.tables);
  if (m.system) {
    samples.push(m.system);
    while (samples.length > 0 && samples[0].t < m.system.t - keepSeconds) samples.shift();
    drawCharts();
  }
  if (m.killed) $("#action-result").textContent = `exit signal sent to ${m.killed}`;
  if (m.error) $("#action-result").textContent = m.error;
  if (scrollToSelected) {
    const row = document.querySelector(`.row[data-pid="${selected}"]`);
    if (row) {
      row.scrollIntoView({block: "center"});
      scrollToSelected = false;
    }
  }
}

// The token is the page's cookie (HttpOnly: this script never sees it); the browser sends it
// with the socket's upgrade.
function connect() {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  ws = new WebSocket(`${scheme}${location.host}${OBSERVER.prefix}/ws`);
  ws.addEventListener("open", () => {
    $("#connection").textContent = "live";
    $("#connection").classList.add("live");
    askTable();
  });
  ws.addEventListener("message", onMessage);
  ws.addEventListener("close", () => {
    $("#connection").textContent = "disconnected (reload to reconnect)";
    $("#connection").classList.remove("live");
  });
}

function setup() {
  if (OBSERVER.readonly) $("#actions").remove();
  for (const tab of document.querySelectorAll(".tab")) {
    tab.addEventListener("click", () => {
      for (const t of document.querySelectorAll(".tab")) t.classList.toggle("active", t === tab);
      for (const p of document.querySelectorAll(".page"))
        p.classList.toggle("active", p.id === "page-" + tab.dataset.tab);
      drawCharts();
    });
  }
  $("#search").addEventListener("keydown", (e) => {
    if (e.key === "Enter") ask({op: "search", text: $("#search").value.trim()});
  });
  let typing;  // one request when the typing pauses, not one per key
  $("#filter").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(askTable, 250);
  });
  for (const th of document.querySelectorAll("#proc-table th")) {
    th.addEventListener("click", () => {
      sort = {column: th.dataset.sort, descending: sort.column === th.dataset.sort ? !sort.descending : false};
      askTable();
    });
  }
  $("#detail-close").addEventListener("click", () => {
    selected = "";
    ask({op: "select", pid: ""});
    $("#detail").classList.add("hidden");
    drawTree();
  });
  // Kill asks first, saying what the kill ends; only "Kill" in that question sends it.
  const kill = $("#kill");
  if (kill) {
    kill.addEventListener("click", () => {
      if (!selected || !shownDetail || shownDetail.pid !== selected) return;
      const reason = $("#kill-reason").value.trim() || "kill";
      $("#confirm-text").textContent =
        `Send exit(${selected}, ${reason})? ${killConsequence(shownDetail)}`;
      $("#confirm-kill").dataset.pid = selected;
      $("#confirm-kill").dataset.reason = reason;
      $("#confirm-kill").classList.remove("hidden");
    });
    $("#confirm-yes").addEventListener("click", () => {
      const box = $("#confirm-kill");
      ask({op: "kill", pid: box.dataset.pid, reason: box.dataset.reason});
      hideConfirm();
    });
    $("#confirm-no").addEventListener("click", hideConfirm);
  }
  drawCharts();
  connect();
}

setup();
