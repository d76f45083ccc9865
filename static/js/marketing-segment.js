/* The segment builder's live count: whenever a condition changes, the form is posted to
   the preview address and the count, the rules in words and a sample are shown. */
(function () {
  "use strict";
  var box = document.getElementById("segment-preview");
  if (!box) return;
  var form = box.closest("form") || document.getElementById("segment_form");
  if (!form) return;
  var timer = null;
  var serial = 0;

  function text(selector, value) {
    var node = box.querySelector(selector);
    if (node) node.textContent = value;
  }

  function show(data) {
    var error = box.querySelector("[data-error]");
    var table = box.querySelector("[data-sample]");
    if (data.detail) {
      error.textContent = data.detail;
      error.hidden = false;
      text("[data-count]", "—");
      table.hidden = true;
      return;
    }
    error.hidden = true;
    text("[data-count]", String(data.count));
    text("[data-words]", data.words || "");
    var body = table.querySelector("tbody");
    while (body.firstChild) body.removeChild(body.firstChild);
    (data.sample || []).forEach(function (row) {
      var tr = document.createElement("tr");
      [row.name, row.phone, row.tier].forEach(function (value) {
        var td = document.createElement("td");
        td.textContent = value || "—";
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    table.hidden = !(data.sample && data.sample.length);
  }

  function refresh() {
    var mine = ++serial;
    fetch(box.getAttribute("data-preview-url"), {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: {"X-Requested-With": "XMLHttpRequest"}
    }).then(function (response) {
      return response.json();
    }).then(function (data) {
      if (mine === serial) show(data);
    }).catch(function () {
      if (mine === serial) show({detail: box.getAttribute("data-offline") || "…"});
    });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 250);
  }

  form.addEventListener("input", later);
  form.addEventListener("change", later);
  refresh();
})();
