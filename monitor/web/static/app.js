// 听风 dashboard: the little script the pages need. Everything works without it; it adds live refresh of
// the incident list, keyboard labelling and confirmations.
"use strict";

const CSRF = () => document.querySelector('meta[name="csrf-token"]').content;
const SEVERITY = { watch: "关注", warning: "警告", critical: "严重" };
const STATUS = { new: "新发现", growing: "扩散中", cooling: "降温中", resolved: "已解决" };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

function number(value) {
  if (value === null || value === undefined) return "—";
  if (value >= 1e8) return (value / 1e8).toFixed(1) + "亿";
  if (value >= 1e4) return (value / 1e4).toFixed(1) + "万";
  return Math.round(value).toLocaleString("zh-CN");
}

function localTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

async function api(method, url, body) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF(), Accept: "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

// Incidents: poll the JSON endpoint and redraw the rows.
function incidentRow(i) {
  const title = el("td", { class: "title" }, el("a", { href: "/incidents/" + encodeURIComponent(i.id) }, i.title || i.id));
  if (i.acked) title.append(" ", el("span", { class: "tag" }, "已确认"));
  if (i.brand) title.append(" ", el("span", { class: "muted small" }, i.brand));
  const growth = el("td", { class: "num" }, "+" + i.last_hour);
  if (i.growth) growth.append(" ", el("span", { class: "muted small" }, "×" + i.growth));
  return el("tr", { "data-id": i.id },
    el("td", {}, el("span", { class: "sev sev-" + (i.severity || "none") }, SEVERITY[i.severity] || i.severity || "—")),
    title,
    el("td", {}, el("span", { class: "status status-" + i.status }, STATUS[i.status] || i.status)),
    el("td", { class: "num" }, number(i.n_posts)),
    el("td", { class: "num" }, number(i.n_authors)),
    el("td", { class: "num" }, number(i.reach)),
    growth,
    el("td", {}, localTime(i.last_post_at)));
}

function pollIncidents(table) {
  const refresh = async () => {
    try {
      const data = await api("GET", table.dataset.poll);
      const body = table.tBodies[0];
      body.replaceChildren(...(data.incidents.length
        ? data.incidents.map(incidentRow)
        : [el("tr", { class: "empty" }, el("td", { colspan: 8 }, "没有进行中的事件。一切安静。"))]));
      const stamp = document.getElementById("data-now");
      if (stamp && data.data_now) stamp.textContent = localTime(data.data_now);
      table.dataset.refreshed = String(Date.now());
    } catch (error) {
      console.warn("refresh failed", error);
    }
  };
  setInterval(refresh, 15000);
}

// Labelling: one key per label, S to skip; the label is saved through the API and the next post comes up.
function labelQueue(queue) {
  const status = document.getElementById("label-status");
  const task = queue.dataset.task;
  const current = () => queue.querySelector(".label-item.current");
  const advance = (item) => {
    item.classList.remove("current");
    item.classList.add("done");
    let next = item.nextElementSibling;
    while (next && !next.classList.contains("label-item")) next = next.nextElementSibling;
    if (next) next.classList.add("current");
    else window.location.reload();
  };
  const choose = async (item, key) => {
    if (key === "s") { advance(item); return; }
    const button = item.querySelector(`button[data-key="${key}"]`);
    if (!button || button.name !== "label") return;
    try {
      await api("POST", "/api/labels", { task, source: item.dataset.source, post_id: item.dataset.postId, label: button.value });
      status.textContent = `已标注：${button.textContent.trim()}`;
      advance(item);
    } catch (error) {
      status.textContent = "保存失败：" + error.message;
    }
  };
  queue.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-key]");
    if (!button) return;
    event.preventDefault();
    choose(button.closest(".label-item"), button.dataset.key);
  });
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, textarea, select") || event.ctrlKey || event.metaKey || event.altKey) return;
    const item = current();
    if (!item) return;
    const key = event.key.toLowerCase();
    if (item.querySelector(`button[data-key="${key}"]`)) {
      event.preventDefault();
      choose(item, key);
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const table = document.querySelector("table[data-poll]");
  if (table) pollIncidents(table);
  const queue = document.getElementById("label-queue");
  if (queue) labelQueue(queue);
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => { if (!window.confirm(form.dataset.confirm)) event.preventDefault(); });
  }
});
