/* Stores: "nearest first" on the finder, and the try-on booking page's small helpers.
   Everything works without it (links and submit buttons); this only saves clicks. */
(function () {
  "use strict";

  // Finder: ask the browser for a position, reload ordered by distance (haversine, server side).
  var geo = document.querySelector("[data-geolocate]");
  if (geo && "geolocation" in navigator) {
    geo.hidden = false;
    var message = document.querySelector("[data-geolocate-message]");
    geo.addEventListener("click", function () {
      geo.disabled = true;
      navigator.geolocation.getCurrentPosition(function (position) {
        var params = new URLSearchParams(window.location.search);
        params.set("lat", position.coords.latitude.toFixed(5));
        params.set("lng", position.coords.longitude.toFixed(5));
        window.location.search = params.toString();
      }, function () {
        geo.disabled = false;
        if (message) message.textContent = geo.getAttribute("data-error");
      }, { enableHighAccuracy: false, timeout: 10000, maximumAge: 600000 });
    });
  }

  // Booking, steps 1-2: a changed piece or store shows the times at once.
  var choose = document.querySelector("[data-choose]");
  if (choose) {
    var pieces = choose.querySelector(".st-pieces");
    var max = pieces ? parseInt(pieces.getAttribute("data-max"), 10) : 0;
    var limit = function () {
      if (!pieces) return;
      var boxes = pieces.querySelectorAll("input[type=checkbox]");
      var checked = pieces.querySelectorAll("input[type=checkbox]:checked").length;
      boxes.forEach(function (box) {
        if (!box.checked && !box.hasAttribute("data-gone")) box.disabled = checked >= max;
      });
    };
    if (pieces) {
      pieces.querySelectorAll("input[disabled]").forEach(function (box) { box.setAttribute("data-gone", ""); });
      limit();
    }
    choose.addEventListener("change", function (event) {
      if (event.target.name === "variant") limit();
      if (choose.querySelector("input[name=store]:checked")) choose.submit();
    });
  }

  // Slot picker: days are tabs; switching one shows its times without a reload.
  document.querySelectorAll("[data-picker]").forEach(function (picker) {
    var tabs = picker.querySelectorAll("[data-day]");
    var show = function (tab, focus) {
      tabs.forEach(function (other) { other.setAttribute("aria-selected", other === tab ? "true" : "false"); other.tabIndex = other === tab ? 0 : -1; });
      picker.querySelectorAll("[data-day-panel]").forEach(function (panel) {
        panel.hidden = panel.getAttribute("data-day-panel") !== tab.getAttribute("data-day");
      });
      if (focus) tab.focus();
      tab.scrollIntoView({ block: "nearest", inline: "nearest" });
    };
    tabs.forEach(function (tab, index) {
      tab.tabIndex = tab.getAttribute("aria-selected") === "true" ? 0 : -1;
      tab.addEventListener("click", function (event) { event.preventDefault(); show(tab, false); });
      tab.addEventListener("keydown", function (event) {
        var step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
        if (!step) return;
        event.preventDefault();
        var next = tabs[(index + step + tabs.length) % tabs.length];
        show(next, true);
      });
    });
  });
})();
