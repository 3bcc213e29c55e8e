// The channel form: show only the options of the channel type picked (all show without
// JavaScript; the server reads only the picked type's), and add header rows on demand.
(function () {
  "use strict";
  function showGroupOf(type) {
    document.querySelectorAll(".channel-config-group").forEach(function (group) {
      group.hidden = group.dataset.channelType !== type;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var menu = document.getElementById("id_channel_type");
    if (menu) {
      showGroupOf(menu.value);
      menu.addEventListener("change", function () {
        showGroupOf(menu.value);
      });
    }
    document.querySelectorAll(".channel-config-add-header").forEach(function (button) {
      button.addEventListener("click", function () {
        var body = button.parentElement.querySelector("tbody");
        var row = body.querySelector("tr:last-child").cloneNode(true);
        row.querySelectorAll("input").forEach(function (input) {
          input.value = "";
        });
        body.append(row);
        row.querySelector("input").focus();
      });
    });
  });
})();
