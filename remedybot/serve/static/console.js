// The console's only script besides htmx: follow an apply run's events (server-sent events) and list them.
// Text goes in with textContent, never innerHTML: everything a run reports may quote a Space's own logs.
(function () {
  "use strict";
  function follow(list) {
    var source = new EventSource(list.dataset.stream);
    var end = document.getElementById("run-end");
    function add(record) {
      var item = document.createElement("li");
      item.className = "event event-" + record.kind;
      item.textContent = (record.at ? record.at.slice(11, 19) + "  " : "") + record.text;
      list.appendChild(item);
    }
    ["run-started", "step-started", "step-ended", "step-skipped", "verified", "not-verified", "note", "warning"]
      .forEach(function (kind) {
        source.addEventListener(kind, function (e) { add(JSON.parse(e.data)); });
      });
    source.addEventListener("run-ended", function (e) {
      var record = JSON.parse(e.data);
      add(record);
      source.close();
      end.hidden = false;
      end.className = "run-end outcome-" + record.outcome;
      end.textContent = "Run ended: " + record.outcome + ". ";
      var again = document.createElement("a");
      again.href = window.location.pathname;
      again.id = "reload";
      again.textContent = "Reload the page to see the Space now";
      end.appendChild(again);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var list = document.getElementById("run");
    if (list) { follow(list); }
  });
})();
