/* Jinyuan Jewellery storefront, every page: the phone menu and the search suggestions.
   No framework. The product pages' own script is catalog.js. */
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

  // Search suggestions: a combobox over the header's search box (WAI-ARIA 1.2 pattern).
  // Typing asks /search/suggest (150 ms after the last key); arrows move through the
  // options, Enter opens the chosen one (or searches), Escape closes the list.
  function initSuggest() {
    var form = document.querySelector("form[data-suggest]");
    var input = form && form.querySelector("input[name=q]");
    var panel = form && form.querySelector("[data-suggest-panel]");
    var list = panel && panel.querySelector("[role=listbox]");
    if (!input || !list || !window.fetch) return;

    var labels = form.dataset;
    var results = {};   // query -> answer, for this page view
    var timer = null;
    var asked = 0;      // the latest request; older answers are dropped
    var options = [];
    var active = -1;

    function isOpen() { return !panel.hidden; }

    function close() {
      panel.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function setActive(index) {
      active = index;
      options.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function el(tag, className, text) {
      var node = document.createElement(tag);
      if (className) node.className = className;
      if (text) node.textContent = text;
      return node;
    }

    function addGroup(label) {
      var item = el("li", "suggest__group", label);
      item.setAttribute("role", "presentation");
      list.appendChild(item);
    }

    function addOption(kind, href) {
      var item = el("li", "suggest__option suggest__option--" + kind);
      item.id = "site-search-option-" + options.length;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      var link = el("a");
      link.href = href;
      link.tabIndex = -1;
      item.appendChild(link);
      list.appendChild(item);
      options.push(item);
      return link;
    }

    function render(query, data) {
      list.textContent = "";
      options = [];
      if (data.products.length) {
        addGroup(labels.labelProducts);
        data.products.forEach(function (product) {
          var link = addOption("product", product.url);
          var picture = el("picture");
          if (product.thumb_webp) {
            var source = el("source");
            source.type = "image/webp";
            source.srcset = product.thumb_webp;
            picture.appendChild(source);
          }
          var img = el("img");
          img.src = product.thumb;
          img.alt = "";
          img.width = 44;
          img.height = 44;
          picture.appendChild(img);
          var title = el("span", "suggest__title", product.title);
          title.appendChild(el("small", "", product.category));
          link.appendChild(picture);
          link.appendChild(title);
          link.appendChild(el("span", "suggest__price", product.price));
        });
      }
      if (data.categories.length) {
        addGroup(labels.labelCategories);
        data.categories.forEach(function (category) {
          addOption("category", category.url).appendChild(el("span", "suggest__title", category.title));
        });
      }
      if (!data.products.length && !data.categories.length) {
        var none = el("li", "suggest__empty", labels.labelNone);
        none.setAttribute("role", "presentation");
        list.appendChild(none);
      }
      var shown = data.corrected ? data.corrected : query;
      addOption("all", data.all_url).appendChild(
        el("span", "suggest__title", labels.labelAll + " “" + shown + "”"));
      panel.hidden = false;
      input.setAttribute("aria-expanded", "true");
      setActive(-1);
    }

    function suggest(query) {
      if (results[query]) {
        render(query, results[query]);
        return;
      }
      var mine = ++asked;
      fetch(form.dataset.suggest + "?q=" + encodeURIComponent(query), {
        headers: { Accept: "application/json" }, credentials: "same-origin"
      }).then(function (response) {
        return response.ok ? response.json() : Promise.reject(response.status);
      }).then(function (data) {
        results[query] = data;
        if (mine === asked && input.value.trim() === query) render(query, data);
      }).catch(function () { /* suggestions are a help: the search still works */ });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      var query = input.value.trim();
      if (!query) {
        asked++;
        close();
        return;
      }
      timer = window.setTimeout(function () { suggest(query); }, 150);
    });

    input.addEventListener("keydown", function (event) {
      var query = input.value.trim();
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!isOpen()) {
          if (query) suggest(query);
          return;
        }
        event.preventDefault();
        if (!options.length) return;
        var step = event.key === "ArrowDown" ? 1 : -1;
        var next = active + step;
        if (next >= options.length) next = -1;   // past the end: back to the box
        if (next < -1) next = options.length - 1;
        setActive(next);
      } else if (event.key === "Enter") {
        if (isOpen() && active >= 0) {
          event.preventDefault();
          window.location.assign(options[active].querySelector("a").href);
        }
      } else if (event.key === "Escape") {
        if (isOpen()) {
          event.preventDefault();
          event.stopPropagation();  // the phone menu stays open
          close();
        }
      }
    });

    input.addEventListener("focus", function () {
      var query = input.value.trim();
      if (query && results[query]) render(query, results[query]);
    });
    // Keep the focus in the box while a suggestion is clicked.
    panel.addEventListener("mousedown", function (event) { event.preventDefault(); });
    document.addEventListener("click", function (event) {
      if (isOpen() && !form.contains(event.target)) close();
    });
    input.addEventListener("blur", function () {
      window.setTimeout(function () { if (document.activeElement !== input) close(); }, 100);
    });
  }

  function init() {
    initMenu();
    initSuggest();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
