// Gemini CLI Proxy dashboard. Polls the JSON at <page>/api/state and draws it. Every string
// from the server (Google's messages included) becomes a text node: nothing is parsed as HTML.
"use strict";

(function () {
  const base = location.pathname.replace(/\/+$/, "");
  const api = base + "/api";
  const number = new Intl.NumberFormat();
  const percent = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 0 });
  const byId = (id) => document.getElementById(id);

  let csrf = null;
  let timer = null;
  let refreshMs = 5000;
  let lastOk = 0;
  const results = new Map(); // fingerprint -> {ok, text}: what the last recheck said
  const running = new Set(); // fingerprints being rechecked
  const deadlines = []; // [element, epoch ms, template] for the live countdowns

  // --- small DOM helpers --------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function duration(seconds) {
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return s + " s";
    const m = Math.floor(s / 60);
    if (m < 60) return m + " m " + String(s % 60).padStart(2, "0") + " s";
    const h = Math.floor(m / 60);
    return h + " h " + String(m % 60).padStart(2, "0") + " m";
  }

  function clock(epochSeconds) {
    return new Date(epochSeconds * 1000).toLocaleTimeString([], {
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
  }

  function countdown(seconds, template, quiet) {
    const span = el("span", { class: quiet ? "countdown quiet" : "countdown" });
    deadlines.push([span, Date.now() + seconds * 1000, template]);
    span.textContent = template.replace("%", duration(seconds));
    return span;
  }

  function tick() {
    let expired = false;
    for (const [span, at, template] of deadlines) {
      const left = (at - Date.now()) / 1000;
      if (left <= 0 && span.dataset.done !== "1") {
        span.dataset.done = "1";
        expired = true;
      }
      span.textContent = left > 0 ? template.replace("%", duration(left)) : "ready again";
    }
    if (expired) schedule(300); // a bench ended: fetch the new state now
    const status = byId("status");
    if (lastOk && Date.now() - lastOk > refreshMs * 3) {
      status.textContent = "Not updated since " + clock(lastOk / 1000);
      status.classList.add("stale");
    }
  }

  // --- the pieces of the page ---------------------------------------------------------

  const STATUS_TEXT = { available: "Available", rate_limited: "Rate limited", invalid: "Invalid" };

  function tile(label, value, detail) {
    return el(
      "div",
      { class: "tile" },
      el("div", { class: "label" }, label),
      el("div", { class: "value" }, value),
      detail ? el("div", { class: "detail" }, detail) : null,
    );
  }

  function effectiveStatus(row) {
    const whole = row.state.status;
    if (whole !== "available") return whole;
    const benched = Object.values(row.models).some((m) => m.status === "rate_limited");
    return benched ? "rate_limited" : "available";
  }

  function summary(state) {
    const counts = { available: 0, rate_limited: 0, invalid: 0 };
    for (const row of state.credentials) counts[effectiveStatus(row)] += 1;
    const t = state.totals;
    return [
      tile(
        "Credentials",
        number.format(state.credentials.length),
        `${counts.available} available · ${counts.rate_limited} limited · ${counts.invalid} invalid`,
      ),
      tile("Requests today", number.format(t.requests), `${number.format(t.errors)} failed attempts`),
      tile("Input tokens", number.format(t.input_tokens), "today"),
      tile("Output tokens", number.format(t.output_tokens), "today"),
      tile(
        "Quota day",
        state.day,
        el("span", {}, "resets in ", countdown(state.day_resets_in_seconds, "%", true)),
      ),
    ];
  }

  function pill(row) {
    const status = effectiveStatus(row);
    const text = STATUS_TEXT[status] || status;
    if (status === "rate_limited") {
      // The whole credential, or its one benched model: how long until it serves again.
      const benched = Object.values(row.models).filter((m) => m.status === "rate_limited");
      const whole = row.state.status === "rate_limited" ? row.state : null;
      const only = whole || (benched.length === 1 ? benched[0] : null);
      if (only) {
        const left = only.cooldown_remaining_seconds || 0;
        return el("span", { class: "pill rate_limited" }, countdown(left, text + " · %"));
      }
      return el("span", { class: "pill rate_limited" }, `${benched.length} models limited`);
    }
    return el("span", { class: "pill " + status }, text);
  }

  function benches(row) {
    const items = [];
    for (const [model, state] of Object.entries(row.models).sort()) {
      if (state.status !== "rate_limited") continue;
      items.push(
        el(
          "li",
          {},
          el("span", { class: "mono" }, model),
          countdown(state.cooldown_remaining_seconds || 0, "% left"),
          state.reason ? el("span", { class: "bench-why" }, state.reason) : null,
        ),
      );
    }
    return items.length ? el("ul", { class: "benches", "aria-label": "Rate-limited models" }, items) : null;
  }

  function reason(row) {
    const state = row.state;
    if (state.status === "available" || !state.reason) return null;
    const cls = state.status === "invalid" ? "reason" : "reason limited";
    const recheck =
      state.status === "invalid" && state.recheck_in_seconds !== undefined
        ? el("span", { class: "when" }, "automatic recheck in ", countdown(state.recheck_in_seconds, "%", true))
        : null;
    return el(
      "div",
      { class: cls },
      el("p", { class: "why" }, state.reason),
      state.message ? el("p", { class: "msg" }, state.message) : null,
      recheck,
    );
  }

  function figures(usage) {
    const item = (label, value) => el("div", {}, el("dt", {}, label), el("dd", {}, number.format(value)));
    return el(
      "dl",
      { class: "figures" },
      item("Requests", usage.requests),
      item("Errors", usage.errors),
      item("Tokens in", usage.input_tokens),
      item("Tokens out", usage.output_tokens),
    );
  }

  function meter(name, fraction, amount) {
    if (fraction === null) {
      // Nothing to measure against: the figure alone, no bar.
      return el(
        "div",
        { class: "meter" },
        el("span", { class: "name mono" }, name),
        el("span", { class: "amount" }, amount),
      );
    }
    const clamped = Math.max(0, Math.min(1, fraction));
    const level = clamped <= 0 ? " empty" : clamped < 0.2 ? " low" : "";
    const fill = el("div", { class: "fill" + level });
    fill.style.width = (clamped * 100).toFixed(1) + "%";
    return el(
      "div",
      { class: "meter" },
      el("span", { class: "name mono" }, name),
      el("span", { class: "amount" }, amount),
      el("div", {
        class: "track",
        role: "meter",
        "aria-label": name,
        "aria-valuemin": 0,
        "aria-valuemax": 100,
        "aria-valuenow": Math.round(clamped * 100),
      }, fill),
    );
  }

  // Untouched models (all left) would make a long list of full bars: one line says them all.
  function untouched(count, what) {
    if (!count) return null;
    const models = count === 1 ? "1 more model" : `${count} more models`;
    return el("p", { class: "quota-more" }, `${models} ${what}`);
  }

  function quota(row) {
    const q = row.quota;
    if (q.source === "code_assist") {
      const used = q.buckets.filter((b) => b.remaining_fraction === null || b.remaining_fraction < 1);
      const full = q.buckets.length - used.length;
      const rows = used.map((b) => {
        const left = b.remaining_fraction;
        const parts = [];
        if (left !== null) parts.push(percent.format(left) + " left");
        if (b.remaining !== null && b.limit !== null) {
          parts.push(`${number.format(b.remaining)} of ${number.format(b.limit)}`);
        }
        const amount = el("span", {}, parts.join(" · "));
        if (b.reset_in_seconds !== null) {
          amount.append(" · resets in ", countdown(b.reset_in_seconds, "%", true));
        }
        return meter(b.model || b.token_type || "quota", left, amount);
      });
      return el(
        "div",
        { class: "quota" },
        el("p", { class: "quota-title" }, "Quota left (Google's figures)"),
        q.error ? el("p", { class: "quota-error" }, q.error) : null,
        !q.error && !q.buckets.length ? el("p", { class: "quota-error" }, "Google reported no quota buckets") : null,
        rows,
        untouched(full, "at 100% left"),
      );
    }
    const used = q.models.filter((m) => m.used > 0);
    const rows = used.map((m) =>
      m.limit === null
        ? meter(m.model, null, `${number.format(m.used)} used · no configured limit`)
        : meter(
            m.model,
            m.remaining / m.limit,
            `${number.format(m.remaining)} of ${number.format(m.limit)} left · ${number.format(m.used)} used`,
          ),
    );
    const limited = q.models.filter((m) => m.used === 0 && m.limit !== null);
    const limits = [...new Set(limited.map((m) => number.format(m.limit)))].join(" / ");
    return el(
      "div",
      { class: "quota" },
      el("p", { class: "quota-title" }, "Left today of configured daily limits"),
      rows,
      untouched(limited.length, `unused today (${limits} a day)`),
      !q.models.length ? el("p", { class: "quota-error" }, "No limits configured") : null,
    );
  }

  function lastFailure(row) {
    const f = row.last_failure;
    if (!f) return null;
    const status = f.status ? ` (${f.status})` : "";
    return el(
      "div",
      { class: "last" },
      el("p", {}, `Last failure ${clock(f.at)} · ${f.model} · `, el("span", { class: "kind" }, f.kind + status)),
      el("p", { class: "msg" }, f.message),
    );
  }

  function card(row) {
    const fp = row.fingerprint;
    const status = effectiveStatus(row);
    const kind = row.kind === "oauth" ? "Code Assist account" : "AI Studio key";
    const done = results.get(fp);
    const button = el(
      "button",
      { class: "button quiet", type: "button", dataset: { focusKey: "recheck-" + fp, recheck: fp } },
      "Recheck now",
    );
    return el(
      "article",
      { class: "card " + status, "aria-labelledby": "cred-" + fp, dataset: { fingerprint: fp } },
      el(
        "div",
        { class: "card-head" },
        el("h3", { id: "cred-" + fp, title: "Fingerprint: the first 12 hex digits of the secret's SHA-256" }, fp),
        el("span", { class: "badge" }, kind),
        el("span", { class: "badge" }, row.pool),
        pill(row),
      ),
      reason(row),
      benches(row),
      figures(row.usage),
      quota(row),
      lastFailure(row),
      el(
        "div",
        { class: "card-foot" },
        button,
        done ? el("p", { class: "result " + (done.ok ? "ok" : "bad"), role: "status" }, done.text) : null,
      ),
    );
  }

  function modelRows(models) {
    const entries = Object.entries(models);
    if (!entries.length) {
      return [el("tr", {}, el("td", { class: "empty", colspan: 5 }, "No requests yet today"))];
    }
    return entries.map(([model, t]) =>
      el(
        "tr",
        {},
        el("th", { scope: "row", class: "mono" }, model),
        el("td", { class: "num" }, number.format(t.requests)),
        el("td", { class: "num" }, number.format(t.errors)),
        el("td", { class: "num" }, number.format(t.input_tokens)),
        el("td", { class: "num" }, number.format(t.output_tokens)),
      ),
    );
  }

  function failureItems(failures) {
    if (!failures.length) return [el("li", { class: "none" }, "No failures today")];
    return failures.map((f) =>
      el(
        "li",
        {},
        el("span", { class: "when" }, clock(f.at)),
        el("span", { class: "mono" }, f.credential),
        " · ",
        el("span", { class: "mono" }, f.model),
        " · ",
        el("span", { class: "kind" }, f.kind + (f.status ? ` (${f.status})` : "")),
        el("span", { class: "msg" }, f.message),
      ),
    );
  }

  function render(state) {
    const focused = document.activeElement && document.activeElement.dataset
      ? document.activeElement.dataset.focusKey
      : undefined;
    deadlines.length = 0;
    byId("summary").replaceChildren(...summary(state));
    byId("credentials").replaceChildren(...state.credentials.map(card));
    byId("credentials-hint").textContent =
      "By fingerprint only; counts since midnight US Pacific, across " +
      state.instances + (state.instances === 1 ? " instance" : " instances") + ".";
    byId("models").tBodies[0].replaceChildren(...modelRows(state.models));
    byId("failures").replaceChildren(...failureItems(state.recent_failures));
    byId("note").textContent = state.notes.ai_studio_limits;
    if (focused) {
      const again = document.querySelector(`[data-focus-key="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
  }

  // --- talking to the proxy -----------------------------------------------------------

  function showSignIn() {
    byId("board").hidden = true;
    byId("sign-out").hidden = true;
    byId("sign-in").hidden = false;
    byId("sign-in-failed").hidden = new URLSearchParams(location.search).get("signin") !== "failed";
    byId("status").textContent = "Signed out";
    byId("key").focus();
  }

  async function refresh() {
    timer = null;
    let answer;
    try {
      answer = await fetch(api + "/state", { credentials: "same-origin", cache: "no-store" });
    } catch (error) {
      byId("status").textContent = "The proxy did not answer; trying again…";
      return schedule(refreshMs);
    }
    if (answer.status === 401) return showSignIn();
    if (!answer.ok) {
      byId("status").textContent = `The proxy answered ${answer.status}; trying again…`;
      return schedule(refreshMs);
    }
    const state = await answer.json();
    csrf = state.csrf;
    refreshMs = Math.max(1000, state.refresh_seconds * 1000);
    lastOk = Date.now();
    byId("sign-in").hidden = true;
    byId("board").hidden = false;
    byId("sign-out").hidden = !(state.client || "").startsWith("key:");
    const status = byId("status");
    status.classList.remove("stale");
    status.textContent = "Updated " + clock(state.generated_at);
    if (location.search) history.replaceState(null, "", base);
    render(state);
    schedule(refreshMs);
  }

  function schedule(ms) {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(refresh, ms);
  }

  async function recheck(button) {
    const fp = button.dataset.recheck;
    // Not `disabled`: a disabled button loses the keyboard focus, and the user's place with it.
    running.add(fp);
    button.setAttribute("aria-disabled", "true");
    button.textContent = "Rechecking…";
    const headers = {};
    if (csrf) headers["x-gemini-proxy-csrf"] = csrf;
    try {
      const answer = await fetch(`${api}/credentials/${encodeURIComponent(fp)}/recheck`, {
        method: "POST",
        credentials: "same-origin",
        headers,
      });
      if (answer.status === 401) return showSignIn();
      const body = await answer.json();
      if (!answer.ok) {
        results.set(fp, { ok: false, text: (body.error && body.error.message) || `Error ${answer.status}` });
      } else if (body.works) {
        results.set(fp, { ok: true, text: "Works: " + clock(Date.now() / 1000) });
      } else {
        results.set(fp, { ok: false, text: "Still failing: " + body.problem });
      }
    } catch (error) {
      results.set(fp, { ok: false, text: "The proxy did not answer" });
    } finally {
      running.delete(fp);
    }
    await refresh();
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-recheck]");
    if (button && !running.has(button.dataset.recheck)) recheck(button);
  });

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") schedule(0);
  });

  document.addEventListener("DOMContentLoaded", () => {
    for (const field of document.querySelectorAll('input[name="page"]')) field.value = base;
    setInterval(tick, 1000);
    refresh();
  });
})();
