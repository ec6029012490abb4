// Draws every chart on the page from its JSON spec, lazily when it scrolls into view.
(function () {
  "use strict";
  var config = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"] };

  function dark() {
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  }

  function themed(layout) {
    if (!dark()) return layout;
    var ink = "#e6e9ec", grid = "#2c343c";
    layout.font = Object.assign({}, layout.font, { color: ink });
    if (layout.title && layout.title.font) layout.title.font.color = ink;
    ["xaxis", "yaxis"].forEach(function (axis) {
      if (layout[axis]) { layout[axis].gridcolor = grid; layout[axis].linecolor = grid; }
    });
    (layout.annotations || []).forEach(function (a) { if (a.bgcolor) a.bgcolor = "rgba(20,24,28,0.7)"; });
    return layout;
  }

  function draw(el) {
    if (el.dataset.drawn) return;
    var source = document.getElementById(el.dataset.spec);
    if (!source || !window.Plotly) return;
    var spec = JSON.parse(source.textContent);
    el.dataset.drawn = "1";
    window.Plotly.newPlot(el, spec.data, themed(spec.layout), config).then(function () {
      el.dataset.ready = "1";
    });
  }

  function start() {
    var charts = Array.prototype.slice.call(document.querySelectorAll(".chart[data-spec]"));
    if (!("IntersectionObserver" in window)) { charts.forEach(draw); return; }
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) { observer.unobserve(entry.target); draw(entry.target); }
      });
    }, { rootMargin: "400px 0px" });
    charts.forEach(function (el) {
      if (el.hasAttribute("data-lazy")) observer.observe(el); else draw(el);
    });
    window.addEventListener("beforeprint", function () { charts.forEach(draw); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
