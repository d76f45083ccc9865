// The survey page saves each answer as it is given (partial answers are kept), so
// closing the tab half way loses nothing. The buttons still work without it.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  if (!form || !window.fetch || !window.FormData) return;
  var saved = form.querySelector("[data-saved]");
  var timer = null;
  var busy = false;
  var again = false;

  function save() {
    if (busy) { again = true; return; }
    busy = true;
    var data = new FormData(form);
    data.delete("action");
    fetch(window.location.pathname, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-Autosave": "1", "Accept": "application/json" }
    }).then(function (response) {
      if (saved) saved.hidden = !response.ok;
      if (response.status === 409 || response.status === 410) window.location.reload();
    }).catch(function () {
      if (saved) saved.hidden = true;
    }).then(function () {
      busy = false;
      if (again) { again = false; save(); }
    });
  }

  form.addEventListener("change", function () {
    clearTimeout(timer);
    timer = setTimeout(save, 300);
  });
  form.addEventListener("input", function (event) {
    if (event.target.tagName !== "TEXTAREA") return;
    clearTimeout(timer);
    timer = setTimeout(save, 1500);
  });
})();
