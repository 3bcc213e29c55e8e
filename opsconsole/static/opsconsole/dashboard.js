/* Draws the dashboard's delivery charts with the vendored Chart.js and refreshes them
   (and the outbox figures) from /admin/dashboard/data every minute. */
(function () {
  "use strict";

  var REFRESH_MS = 60000;
  var COLORS = { sent: "#2e7d32", retry: "#f9a825", failed: "#c62828" };
  var charts = {};

  function datasets(series) {
    return [
      { label: "Sent", data: series.sent, backgroundColor: COLORS.sent, stack: "attempts" },
      { label: "Retry", data: series.retry, backgroundColor: COLORS.retry, stack: "attempts" },
      { label: "Failed", data: series.failed, backgroundColor: COLORS.failed, stack: "attempts" },
    ];
  }

  function draw(canvasId, series) {
    var canvas = document.getElementById(canvasId);
    if (!canvas) return null;
    var style = getComputedStyle(document.body);
    var fg = style.getPropertyValue("--body-quiet-color").trim() || "#666";
    var grid = style.getPropertyValue("--hairline-color").trim() || "#e8e8e8";
    return new Chart(canvas, {
      type: "bar",
      data: { labels: series.labels, datasets: datasets(series) },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom", labels: { color: fg, boxWidth: 12 } } },
        scales: {
          x: { stacked: true, ticks: { color: fg, maxRotation: 0, autoSkip: true }, grid: { display: false } },
          y: { stacked: true, beginAtZero: true, ticks: { color: fg, precision: 0 }, grid: { color: grid } },
        },
      },
    });
  }

  function update(chart, series) {
    if (!chart) return;
    chart.data.labels = series.labels;
    ["sent", "retry", "failed"].forEach(function (key, i) {
      chart.data.datasets[i].data = series[key];
    });
    chart.update("none");
  }

  function refresh(url) {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("dashboard data: HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        update(charts.hourly, data.hourly);
        update(charts.daily, data.daily);
        Object.keys(data.outbox_depth).forEach(function (status) {
          var el = document.querySelector('[data-outbox-status="' + status + '"]');
          if (el) el.textContent = data.outbox_depth[status];
        });
      })
      .catch(function (error) {
        // A failed refresh keeps the figures on screen; the next tick tries again.
        console.warn(error);
      });
  }

  function start() {
    var source = document.getElementById("ops-deliveries-data");
    if (!source || typeof Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    charts.hourly = draw("ops-chart-hourly", data.hourly);
    charts.daily = draw("ops-chart-daily", data.daily);
    window.opsDashboard = { charts: charts, refresh: refresh };
    var root = document.getElementById("ops-dashboard");
    var url = root && root.dataset.refreshUrl;
    if (url) window.setInterval(function () { refresh(url); }, REFRESH_MS);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
