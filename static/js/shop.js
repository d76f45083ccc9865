/* Jinyuan Jewellery storefront: the phone menu and the product gallery. No framework. */
(function () {
  "use strict";

  // Phone menu: the button folds the search and the navigation in and out.
  function initMenu() {
    var header = document.querySelector("[data-header]");
    var toggle = header && header.querySelector("[data-menu-toggle]");
    if (!toggle) return;

    function setOpen(open) {
      header.classList.toggle("is-open", open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    }

    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      setOpen(open);
      if (open) {
        var input = header.querySelector(".search__input");
        if (input && window.matchMedia("(hover: hover)").matches) input.focus();
      }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && header.classList.contains("is-open")) {
        setOpen(false);
        toggle.focus();
      }
    });
    // Back on a wide screen the menu is always shown: forget the phone state.
    var wide = window.matchMedia("(min-width: 760px)");
    var reset = function () { if (wide.matches) setOpen(false); };
    if (wide.addEventListener) wide.addEventListener("change", reset);
  }

  // Product gallery: the thumbnails swap the large picture (each is also a plain link).
  function initGallery() {
    var gallery = document.querySelector("[data-gallery]");
    if (!gallery) return;
    var main = gallery.querySelector("[data-gallery-main]");
    var mainImg = main && main.querySelector("img");
    var mainSource = main && main.querySelector("source");
    if (!mainImg) return;

    gallery.querySelectorAll("[data-gallery-thumb]").forEach(function (thumb) {
      thumb.addEventListener("click", function (event) {
        event.preventDefault();
        var d = thumb.dataset;
        mainImg.src = d.jpeg;
        mainImg.removeAttribute("srcset");
        if (d.alt) mainImg.alt = d.alt;
        if (mainSource) {
          if (d.webp) mainSource.srcset = d.webp;
          else mainSource.remove();
        }
        gallery.querySelectorAll("[data-gallery-thumb]").forEach(function (other) {
          other.setAttribute("aria-current", other === thumb ? "true" : "false");
        });
      });
    });
  }

  function init() {
    initMenu();
    initGallery();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
