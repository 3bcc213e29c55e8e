// The export form: the dataset list shows for a snapshot only, and the filters shown are
// those of the dataset picked (of each dataset ticked, for a snapshot). Without JavaScript
// everything shows; the server reads only what applies (exports/admin_filters_widget.py).
(function () {
  "use strict";
  function update() {
    var jobType = document.getElementById("id_job_type");
    if (!jobType) {
      return;
    }
    var snapshot = jobType.value === "snapshot";
    var picked = [jobType.value];
    var datasetsRow = document.querySelector(".form-row.field-datasets");
    if (datasetsRow) {
      datasetsRow.hidden = !snapshot;
    }
    if (snapshot) {
      picked = Array.prototype.map.call(document.querySelectorAll('input[name="datasets"]:checked'), function (box) {
        return box.value;
      });
    }
    document.querySelectorAll(".dataset-filters-group").forEach(function (group) {
      group.hidden = picked.indexOf(group.dataset.dataset) === -1;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    update();
    document.addEventListener("change", function (event) {
      if (event.target.id === "id_job_type" || event.target.name === "datasets") {
        update();
      }
    });
  });
})();
