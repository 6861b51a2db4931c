// Checks a form as its choices change (the panel secretary's "Appoint the panel"): each time a
// select or a radio changes and every select and radio group of the form has a choice (the
// service names conflicts only for a whole panel, so a half-chosen one would only announce
// "… is required" at each change), the form's values (with its CSRF token) are posted to the form's
// own address with `check=live`, which the server runs through the same dry run as the "Check
// the panel" button, writing nothing, and answers with the result alone (the `check_result`
// partial, src/web/panel.rs). The result replaces the `aria-live` region's content. Without
// JavaScript the button does the same with a whole page; the submit still refuses with every
// problem listed.

const region = document.getElementById("check-result");
const button = document.querySelector("form button[name=check]");
const form = button ? button.form : null;
let pending = null;

// Replaces the region's content with `nodes`.
function show(...nodes) {
  region.replaceChildren(...nodes);
}

// The sentence the page gives for a check that could not be made (signed out, a failure).
function failed() {
  const p = document.createElement("p");
  p.className = "nhsuk-body";
  p.textContent = region.dataset.failed;
  show(p);
}

async function check() {
  if (pending) {
    pending.abort();
  }
  const mine = new AbortController();
  pending = mine;
  const body = new URLSearchParams(new FormData(form));
  body.set("check", "live");
  try {
    const res = await fetch(form.getAttribute("action"), {
      method: "POST",
      body,
      credentials: "same-origin",
      redirect: "error",
      signal: mine.signal,
    });
    if (!res.ok) {
      throw new Error(`answered ${res.status}`);
    }
    const answer = document.createElement("template");
    answer.innerHTML = await res.text();
    if (!answer.content.querySelector(".app-check-result")) {
      throw new Error("not a check's result");
    }
    if (pending === mine) {
      show(answer.content);
    }
  } catch (e) {
    if (!mine.signal.aborted && pending === mine) {
      failed();
    }
  }
}

// Whether every select and every group of radios in the form has a choice.
function complete() {
  const selects = [...form.querySelectorAll("select")];
  const groups = new Set([...form.querySelectorAll("input[type=radio]")].map((r) => r.name));
  return (
    selects.every((s) => s.value !== "") &&
    [...groups].every((name) => form.querySelector(`input[type=radio][name="${name}"]:checked`))
  );
}

if (region && form) {
  form.addEventListener("change", (event) => {
    const t = event.target;
    const choice =
      t instanceof HTMLSelectElement || (t instanceof HTMLInputElement && t.type === "radio");
    if (choice && complete()) {
      check();
    }
  });
}
