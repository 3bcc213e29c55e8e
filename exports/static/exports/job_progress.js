// Live progress of export jobs (exports/admin_progress.py): while a job shown on the page is
// pending or running, ask the admin's progress endpoint every few seconds and update its
// status, progress and download cells in place. Stops when every job shown has finished.
(function () {
  "use strict";
  var INTERVAL_MS = 1500;
  var ACTIVE = ["pending", "running"];

  function cells(kind, id) {
    return document.querySelectorAll("." + kind + '[data-job="' + id + '"]');
  }

  function activeIds() {
    var ids = [];
    document.querySelectorAll(".job-progress[data-job]").forEach(function (cell) {
      if (ACTIVE.indexOf(cell.dataset.status) !== -1 && ids.indexOf(cell.dataset.job) === -1) {
        ids.push(cell.dataset.job);
      }
    });
    return ids;
  }

  function render(job) {
    cells("job-progress", job.id).forEach(function (cell) {
      cell.dataset.status = job.status;
      cell.replaceChildren();
      if (job.percent === null) {
        cell.textContent = job.status === "running" ? job.rows_written.toLocaleString() + " rows" : "—";
        return;
      }
      var bar = document.createElement("progress");
      bar.max = 100;
      bar.value = job.percent;
      bar.title = job.rows_written.toLocaleString() + " of " + (job.total_rows || job.rows_written).toLocaleString() + " rows";
      cell.append(bar, " " + job.percent + "%");
    });
    cells("job-status", job.id).forEach(function (cell) {
      cell.dataset.status = job.status;
      cell.textContent = job.status_label;
    });
    cells("job-download", job.id).forEach(function (cell) {
      cell.dataset.status = job.status;
      cell.replaceChildren();
      if (job.download_url) {
        var link = document.createElement("a");
        link.href = job.download_url;
        link.textContent = "download";
        cell.append(link);
      } else {
        cell.textContent = "—";
      }
    });
  }

  function poll(url) {
    var ids = activeIds();
    if (!ids.length) {
      return;
    }
    fetch(url + "?ids=" + ids.join(","), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("progress: HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        data.jobs.forEach(render);
        window.setTimeout(poll, INTERVAL_MS, url);
      })
      .catch(function () {
        window.setTimeout(poll, INTERVAL_MS * 5, url); // the server restarts or is busy: slower
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var holder = document.querySelector("[data-progress-url]");
    if (holder) {
      window.setTimeout(poll, INTERVAL_MS, holder.dataset.progressUrl);
    }
  });
})();
