// Filters of fleet's HTML report: each status checkbox shows or hides the
// rows, chart bars and output groups of hosts with that status.
(function () {
  "use strict";
  var boxes = document.querySelectorAll("input[data-filter]");
  var items = document.querySelectorAll("[data-status]");
  function apply() {
    var shown = {};
    boxes.forEach(function (box) {
      shown[box.getAttribute("data-filter")] = box.checked;
    });
    items.forEach(function (item) {
      var visible = shown[item.getAttribute("data-status")] !== false;
      item.classList.toggle("hidden", !visible);
    });
  }
  boxes.forEach(function (box) {
    box.addEventListener("change", apply);
  });
  apply();
  document.body.setAttribute("data-ready", "true");
})();
