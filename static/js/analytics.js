/* Draws the dashboards' charts with the vendored Apache ECharts (static/vendor/echarts).
   Each chart's option is built on the server (analytics/panels/base.py) and sits in a
   <script type="application/json"> beside its canvas; the numbers are also in the table
   under it. Keys starting with "_format" name how values read: money, int, pct, ratio,
   weight, place. The page's language picks ECharts' locale (ZH or EN) and the digits. */
(function () {
  "use strict";
  var lang = (document.documentElement.lang || "zh-hans").toLowerCase();
  var english = lang.indexOf("en") === 0;
  var locale = english ? "EN" : "ZH";
  var numbers = new Intl.NumberFormat(english ? "en" : "zh-CN", {maximumFractionDigits: 0});
  var decimals = new Intl.NumberFormat(english ? "en" : "zh-CN", {maximumFractionDigits: 2});
  var tenths = new Intl.NumberFormat(english ? "en" : "zh-CN", {maximumFractionDigits: 1});

  function format(kind, value) {
    if (value === null || value === undefined || value === "" || isNaN(value)) return "—";
    switch (kind) {
      case "money": return "¥" + numbers.format(value);
      case "pct": return tenths.format(value * 100) + "%";
      case "ratio": return decimals.format(value);
      case "weight": return decimals.format(value) + " g";
      default: return numbers.format(value);
    }
  }

  function formatters(option) {
    var kind = (option.tooltip && option.tooltip._format) || "int";
    if (option.tooltip) {
      delete option.tooltip._format;
      if (kind === "place") {
        option.tooltip.formatter = function (p) {
          var v = p.value || [];
          return p.seriesName + "<br>" + p.name + (v.length > 2 ? ": " + numbers.format(v[2]) : "");
        };
      } else if (option.tooltip.trigger === "item" && option.series[0] && option.series[0].type === "heatmap") {
        option.tooltip.formatter = function (p) { return format(kind, p.value[2]); };
      } else {
        option.tooltip.valueFormatter = function (v) { return format(kind, v); };
      }
    }
    ["xAxis", "yAxis"].forEach(function (name) {
      var axis = option[name];
      if (axis && axis._format) {
        var k = axis._format;
        delete axis._format;
        axis.axisLabel = Object.assign({}, axis.axisLabel, {formatter: function (v) {
          return k === "money" ? (english ? "¥" + numbers.format(v) : numbers.format(v)) : format(k, v);
        }});
      }
    });
    if (option.visualMap && option.visualMap._format) {
      delete option.visualMap._format;
      option.visualMap.formatter = function (v) { return format("pct", v); };
    }
    (option.series || []).forEach(function (s) {
      if (s.label && s.label._format) {
        var k = s.label._format;
        delete s.label._format;
        s.label.formatter = function (p) {
          var v = Array.isArray(p.value) ? p.value[2] : p.value;
          return format(k, v);
        };
      }
      if (s.type === "funnel") {
        s.label.formatter = function (p) { return p.name + " " + numbers.format(p.value); };
      }
    });
    return option;
  }

  function draw() {
    if (!window.echarts) return;
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (element) {
      var source = document.getElementById(element.getAttribute("data-chart"));
      if (!source) return;
      var option = formatters(JSON.parse(source.textContent));
      // The height comes as data, not a style attribute: the admin's CSP allows no inline
      // styles, but a script of ours may set one.
      element.style.height = (parseInt(element.getAttribute("data-height"), 10) || 320) + "px";
      var chart = window.echarts.init(element, null, {locale: locale, renderer: "canvas"});
      option.animation = false;
      chart.setOption(option);
      element.setAttribute("data-drawn", "1");
      charts.push(chart);
    });
    var pending = null;
    window.addEventListener("resize", function () {
      clearTimeout(pending);
      pending = setTimeout(function () { charts.forEach(function (c) { c.resize(); }); }, 150);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
