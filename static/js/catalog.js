/* Jinyuan Jewellery catalog pages: the list's filters, and the product page's gallery,
   variant picker and wishlist heart. Everything here enhances plain links and forms
   that work without it. No framework. */
(function () {
  "use strict";

  // --- The list ------------------------------------------------------------------------

  // Sorting applies as soon as it changes (the form keeps its button for no-script).
  function initAutosubmit() {
    document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
      form.addEventListener("change", function () {
        if (form.requestSubmit) form.requestSubmit();
        else form.submit();
      });
    });
  }

  // On a phone the facets fold behind the "Filter" button.
  function initRefine() {
    var refine = document.querySelector("[data-refine]");
    var toggle = document.querySelector("[data-refine-toggle]");
    if (!refine || !toggle) return;
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      refine.classList.toggle("is-open", open);
    });
  }

  // --- The gallery: thumbnails, and a lightbox with a zoom -------------------------------

  function initGallery() {
    var gallery = document.querySelector("[data-gallery]");
    var main = gallery && gallery.querySelector("[data-gallery-main]");
    if (!main) return;
    var mainImg = main.querySelector("img");
    var mainSource = main.querySelector("source");
    var thumbs = Array.prototype.slice.call(gallery.querySelectorAll("[data-gallery-thumb]"));
    var pictures = thumbs.length ? thumbs.map(function (t) { return t.dataset; }) : [main.dataset];
    var current = 0;

    function show(index) {
      current = index;
      var d = thumbs[index].dataset;
      mainImg.src = d.jpeg;
      if (d.jpegSrcset) mainImg.srcset = d.jpegSrcset;
      else mainImg.removeAttribute("srcset");
      if (mainSource) mainSource.srcset = d.webpSrcset || d.jpegSrcset || d.jpeg;
      mainImg.alt = d.alt || "";
      main.href = d.zoomJpeg;
      thumbs.forEach(function (other, i) {
        other.setAttribute("aria-current", i === index ? "true" : "false");
      });
    }

    thumbs.forEach(function (thumb, index) {
      thumb.addEventListener("click", function (event) {
        event.preventDefault();
        show(index);
      });
    });

    var box = gallery.querySelector("[data-lightbox]");
    if (!box || typeof box.showModal !== "function") return;  // the link opens the picture
    var stage = box.querySelector("[data-lightbox-stage]");
    var boxImg = box.querySelector("[data-lightbox-img]");
    var boxWebp = box.querySelector("[data-lightbox-webp]");
    var count = box.querySelector("[data-lightbox-count]");

    function unzoom() {
      stage.classList.remove("is-zoomed");
      boxImg.style.transformOrigin = "";
    }

    function showBig(index) {
      current = (index + pictures.length) % pictures.length;
      var d = pictures[current];
      unzoom();
      boxWebp.srcset = d.zoomWebp || d.zoomJpeg;
      boxImg.src = d.zoomJpeg;
      boxImg.alt = d.alt || "";
      count.textContent = pictures.length > 1 ? (current + 1) + " / " + pictures.length : "";
    }

    main.addEventListener("click", function (event) {
      event.preventDefault();
      showBig(current);
      box.showModal();
    });
    box.addEventListener("close", function () {
      unzoom();
      if (thumbs.length) show(current);  // the page shows the picture last seen
    });

    var prev = box.querySelector("[data-lightbox-prev]");
    var next = box.querySelector("[data-lightbox-next]");
    if (prev) prev.addEventListener("click", function () { showBig(current - 1); });
    if (next) next.addEventListener("click", function () { showBig(current + 1); });
    box.addEventListener("keydown", function (event) {
      if (event.key === "ArrowLeft") showBig(current - 1);
      else if (event.key === "ArrowRight") showBig(current + 1);
    });

    // A click zooms in where it lands; moving the pointer pans; a second click zooms out.
    function aim(event) {
      var rect = boxImg.getBoundingClientRect();
      var x = Math.min(100, Math.max(0, ((event.clientX - rect.left) / rect.width) * 100));
      var y = Math.min(100, Math.max(0, ((event.clientY - rect.top) / rect.height) * 100));
      boxImg.style.transformOrigin = x + "% " + y + "%";
    }
    stage.addEventListener("click", function (event) {
      if (event.target !== boxImg) {
        if (!stage.classList.contains("is-zoomed")) box.close();
        else unzoom();
        return;
      }
      if (stage.classList.contains("is-zoomed")) {
        unzoom();
      } else {
        aim(event);
        stage.classList.add("is-zoomed");
      }
    });
    stage.addEventListener("pointermove", function (event) {
      if (stage.classList.contains("is-zoomed") && event.pointerType === "mouse") aim(event);
    });
  }

  // --- The variant picker: every variant's data is in the page --------------------------

  function initVariants() {
    var script = document.getElementById("product-variants");
    var root = document.querySelector("[data-variant-root]");
    if (!script || !root) return;
    var data = JSON.parse(script.textContent);
    var variants = data.variants;
    if (!variants.length) return;
    var bySku = {};
    variants.forEach(function (v) { bySku[v.sku] = v; });
    var current = bySku[data.current] || variants[0];

    var buttons = Array.prototype.slice.call(root.querySelectorAll("[data-option]"));
    var dimensions = [];
    buttons.forEach(function (b) {
      if (dimensions.indexOf(b.dataset.option) < 0) dimensions.push(b.dataset.option);
    });

    var price = root.querySelector("[data-variant-price]");
    var explanation = root.querySelector("[data-variant-explanation]");
    var reason = root.querySelector("[data-variant-reason]");
    var facts = root.querySelector("[data-variant-facts]");
    var stores = root.querySelector("[data-variant-stores]");
    var storesNone = root.querySelector("[data-variant-stores-none]");
    var certsBox = root.querySelector("[data-variant-certs-box]");
    var certs = root.querySelector("[data-variant-certs]");
    var book = root.querySelector("[data-book-base]");
    var buy = root.querySelector("[data-variant-buy]");

    function el(tag, className, text) {
      var node = document.createElement(tag);
      if (className) node.className = className;
      if (text) node.textContent = text;
      return node;
    }

    // The variant that clicking ``value`` in ``dimension`` chooses: the one that keeps
    // the other choices, else the first with that value (the server's rule too).
    function pick(dimension, value, from) {
      var exact = null;
      var first = null;
      variants.forEach(function (v) {
        if (v.options[dimension] !== value) return;
        if (!first) first = v;
        var keeps = dimensions.every(function (other) {
          return other === dimension || v.options[other] === from.options[other];
        });
        if (keeps && !exact) exact = v;
      });
      return { variant: exact || first, exact: !!exact };
    }

    function withVariant(href, sku) {
      var url = new URL(href, window.location.origin);
      url.searchParams.set("variant", sku);
      return url.pathname + url.search + url.hash;
    }

    function render(v) {
      price.classList.add("is-changing");
      window.setTimeout(function () { price.classList.remove("is-changing"); }, 180);
      if (v.priced) {
        price.textContent = v.price;
      } else {
        price.textContent = "";
        price.appendChild(el("small", "", price.dataset.unpriced || ""));
      }
      explanation.textContent = v.explanation;
      explanation.hidden = !v.explanation;
      reason.textContent = v.reason;
      reason.hidden = !v.reason;

      if (facts) {
        facts.textContent = "";
        v.facts.forEach(function (fact) {
          var row = el("div");
          row.appendChild(el("dt", "", fact[0]));
          row.appendChild(el("dd", "", fact[1]));
          facts.appendChild(row);
        });
      }

      stores.textContent = "";
      v.stores.forEach(function (store) {
        var item = el("li", "where__item");
        var name = el("span", "where__store");
        if (store.url) {
          var link = el("a", "", store.name);
          link.href = store.url;
          name.appendChild(link);
        } else {
          name.textContent = store.name;
        }
        item.appendChild(name);
        item.appendChild(el("span", "where__city", store.city));
        item.appendChild(el("span", "where__stock", store.stock));
        stores.appendChild(item);
      });
      storesNone.hidden = v.stores.length > 0;

      certs.textContent = "";
      v.certificates.forEach(function (cert) {
        var item = el("li", "cert-card");
        item.appendChild(el("span", "cert__lab", cert.lab));
        item.appendChild(el("span", "cert-card__number", cert.number));
        item.appendChild(el("span", "cert-card__details", cert.details));
        item.appendChild(el("span", "cert-card__issued", cert.issued));
        certs.appendChild(item);
      });
      certsBox.hidden = v.certificates.length === 0;

      buttons.forEach(function (button) {
        var dimension = button.dataset.option;
        var choice = pick(dimension, button.dataset.value, v);
        button.href = "?variant=" + encodeURIComponent(choice.variant.sku);
        button.classList.toggle("is-other", !choice.exact);
        if (v.options[dimension] === button.dataset.value) {
          button.setAttribute("aria-current", "true");
          var chosen = root.querySelector('[data-picker-chosen="' + dimension + '"]');
          if (chosen) chosen.textContent = button.textContent;
        } else {
          button.removeAttribute("aria-current");
        }
      });
      document.querySelectorAll("[data-variant-link]").forEach(function (row) {
        if (row.dataset.variantLink === v.sku) row.setAttribute("aria-current", "true");
        else row.removeAttribute("aria-current");
      });
      if (book) book.href = book.dataset.bookBase + "&variant=" + v.id;
      // A piece that cannot be priced can never be bought.
      if (buy) {
        buy.href = buy.dataset.addBase + "?variant=" + v.id;
        buy.classList.toggle("is-disabled", !v.priced);
        if (v.priced) buy.removeAttribute("aria-disabled");
        else buy.setAttribute("aria-disabled", "true");
      }
    }

    function choose(v) {
      if (!v || v === current) return;
      current = v;
      render(v);
      // The address names the variant, so it can be shared; no new history entry.
      var here = withVariant(window.location.href, v.sku);
      window.history.replaceState(window.history.state, "", here);
      document.querySelectorAll("form[data-wish] input[name=next]")
        .forEach(function (input) { input.value = withVariant(input.value, v.sku); });
      // The language links lead to this same page, chosen variant included.
      document.querySelectorAll("a.lang-switch, a[hreflang]")
        .forEach(function (link) { link.href = withVariant(link.href, v.sku); });
    }

    // Add to bag without leaving the page: no CSRF token on a cached page, so the
    // custom header stands in for it (orders.views.cart.cart_add_fetch).
    var buyMessage = root.querySelector("[data-buy-message]");
    if (buy && window.fetch && window.FormData) {
      buy.addEventListener("click", function (event) {
        event.preventDefault();
        if (buy.getAttribute("aria-disabled") === "true") {
          if (buyMessage) buyMessage.textContent = price.dataset.unpriced || "";
          return;
        }
        if (buy.getAttribute("aria-busy") === "true") return;
        buy.setAttribute("aria-busy", "true");
        var body = new FormData();
        body.append("variant", current.id);
        body.append("quantity", "1");
        fetch(buy.dataset.addUrl, {
          method: "POST",
          body: body,
          headers: { "X-Requested-With": "fetch", Accept: "application/json" },
          credentials: "same-origin"
        }).then(function (response) {
          return response.json().then(function (answer) {
            return { ok: response.ok, answer: answer };
          });
        }).then(function (result) {
          if (buyMessage) {
            buyMessage.textContent = result.ok ? result.answer.message : result.answer.detail;
            buyMessage.classList.toggle("cart-toast--error", !result.ok);
            if (result.ok && result.answer.cart_url) {
              buyMessage.appendChild(document.createTextNode(" "));
              var go = el("a", "text-link", buy.dataset.viewLabel || "");
              go.href = result.answer.cart_url;
              if (go.textContent) buyMessage.appendChild(go);
            }
          }
          if (result.ok) {
            document.querySelectorAll("[data-cart-count]").forEach(function (badge) {
              badge.textContent = result.answer.count;
              badge.hidden = !result.answer.count;
            });
          }
        }).catch(function () {
          window.location.href = buy.href;  // let the server answer the plain way
        }).then(function () {
          buy.removeAttribute("aria-busy");
        });
      });
    }

    buttons.forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        choose(pick(button.dataset.option, button.dataset.value, current).variant);
      });
    });
    document.querySelectorAll("[data-variant-link]").forEach(function (row) {
      row.addEventListener("click", function (event) {
        event.preventDefault();
        choose(bySku[row.dataset.variantLink]);
        root.scrollIntoView({ behavior: "smooth", block: "start" });
      });
    });
  }

  // --- The wishlist heart: saved without leaving the page (members only) ------------------

  function initWish() {
    document.querySelectorAll("form[data-wish-live]").forEach(function (form) {
      var button = form.querySelector("button");
      var wished = form.querySelector("[data-wish-value]");
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        if (button.getAttribute("aria-busy") === "true") return;
        button.setAttribute("aria-busy", "true");
        fetch(form.action, {
          method: "POST",
          body: new FormData(form),
          headers: { Accept: "application/json" },
          credentials: "same-origin"
        }).then(function (response) {
          return response.ok ? response.json() : Promise.reject(response.status);
        }).then(function (answer) {
          button.setAttribute("aria-pressed", answer.wished ? "true" : "false");
          wished.value = answer.wished ? "0" : "1";
        }).catch(function () {
          form.submit();  // let the server answer the plain way
        }).then(function () {
          button.removeAttribute("aria-busy");
        });
      });
    });
  }

  // --- Recently viewed: asked for after load, since the page itself is cached for all ------

  function initRecent() {
    var slot = document.querySelector("[data-recent]");
    if (!slot || !window.fetch || !window.FormData) return;
    var body = new FormData();
    if (slot.dataset.seen) body.append("seen", slot.dataset.seen);
    fetch(slot.dataset.recent, {
      method: "POST",
      body: body,
      headers: { "X-Requested-With": "fetch" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.ok ? response.text() : "";
    }).then(function (html) {
      if (html.trim()) slot.innerHTML = html;
    }).catch(function () { /* the page is whole without it */ });
  }

  function init() {
    initRecent();
    initAutosubmit();
    initRefine();
    initGallery();
    initVariants();
    initWish();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
